//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// epoller reads all subscriber sockets from one goroutine: a level-
// triggered epoll set of its own, itself waited on through Go's netpoller
// (the epoll descriptor is readable while any socket is). Each ready
// socket costs one read(2) per round — no goroutine wake-up, no read that
// ends in EAGAIN as a goroutine per connection pays — so that the driver
// spends far less per delivery than the server it measures.
type epoller struct {
	m    *meter
	epfd int
	file *os.File // epfd, registered with Go's netpoller

	mu   sync.Mutex // held while serving a round, adding or closing
	subs map[int32]*subscriber
	done chan struct{}
}

func newEpoller(m *meter, spin bool) (reader, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	if err := syscall.SetNonblock(epfd, true); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	e := &epoller{m: m, epfd: epfd, file: os.NewFile(uintptr(epfd), "epoll"), subs: map[int32]*subscriber{}, done: make(chan struct{})}
	rc, err := e.file.SyscallConn()
	if err != nil {
		e.file.Close()
		return nil, err
	}
	go e.loop(rc, spin)
	return e, nil
}

// add takes s's socket over: it duplicates the descriptor, closes the
// net.Conn (which leaves Go's netpoller; the socket stays open through the
// duplicate) and serves whatever the handshake left in the buffer.
func (e *epoller) add(s *subscriber) error {
	sc, ok := s.c.nc.(syscall.Conn)
	if !ok {
		return errors.New("epoll reader: not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(orig uintptr) { fd, derr = syscall.Dup(int(orig)) }); err != nil {
		return err
	}
	if derr != nil {
		return fmt.Errorf("dup: %w", derr)
	}
	syscall.CloseOnExec(fd)
	s.c.nc.Close()
	s.c.fd, s.c.adopted = fd, true
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.parse(s, s.c.readAt) {
		return errors.New("connection lost before it was adopted")
	}
	e.subs[int32(fd)] = s
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
	if err := syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		delete(e.subs, int32(fd))
		syscall.Close(fd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

// loop serves ready sockets until stop. With spin it never parks: it
// polls, yielding to the driver's other goroutines between polls, so
// that the driver's CPU never idles and the server's writes never pay
// for waking it.
func (e *epoller) loop(rc syscall.RawConn, spin bool) {
	events := make([]syscall.EpollEvent, 512)
	rc.Read(func(uintptr) bool {
		for {
			select {
			case <-e.done:
				return true
			default:
			}
			n, err := syscall.EpollWait(e.epfd, events, 0)
			if err == syscall.EINTR {
				continue
			}
			if n <= 0 {
				if spin {
					runtime.Gosched()
					continue
				}
				return false // park in Go's netpoller until a socket is ready
			}
			e.mu.Lock()
			for _, ev := range events[:n] {
				if s := e.subs[ev.Fd]; s != nil {
					e.serve(s)
				}
			}
			e.mu.Unlock()
		}
	})
}

// serve reads once from a ready socket and handles the complete
// messages. Called with mu held.
func (e *epoller) serve(s *subscriber) {
	c := s.c
	switch {
	case c.r == c.w:
		c.r, c.w = 0, 0
	case len(c.buf)-c.w < 1024:
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	n, err := syscall.Read(c.fd, c.buf[c.w:])
	now := clock()
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case err != nil:
		e.drop(s, err)
		return
	case n == 0:
		e.drop(s, errors.New("EOF"))
		return
	}
	c.w += n
	c.readAt = now
	e.parse(s, now)
}

// parse handles the complete messages in s's buffer, growing it for a
// frame that does not fit; false when the connection was dropped.
func (e *epoller) parse(s *subscriber, now int64) bool {
	c := s.c
	for {
		fin, op, p, n, need, err := parseFrame(c.buf[c.r:c.w], false)
		if err != nil {
			e.drop(s, err)
			return false
		}
		if n == 0 {
			if need > len(c.buf)-c.r {
				nb := make([]byte, max(need, 2*len(c.buf)))
				c.w = copy(nb, c.buf[c.r:c.w])
				c.r, c.buf = 0, nb
			}
			return true
		}
		c.r += n
		_, msg, ok, err := c.message(fin, op, p)
		if err != nil {
			e.drop(s, err)
			return false
		}
		if ok {
			s.onMessage(msg, now, e.m)
		}
	}
}

// drop forgets a connection the server ended. Called with mu held.
func (e *epoller) drop(s *subscriber, err error) {
	s.lost(e.m, err)
	e.forget(s)
}

func (e *epoller) forget(s *subscriber) {
	if _, ok := e.subs[int32(s.c.fd)]; !ok {
		return
	}
	delete(e.subs, int32(s.c.fd))
	syscall.EpollCtl(e.epfd, syscall.EPOLL_CTL_DEL, s.c.fd, nil)
	syscall.Close(s.c.fd)
}

// closeAll closes subscribers with a close frame each; holding mu, so
// that no descriptor is closed (and reused) while the loop reads it.
func (e *epoller) closeAll(subs []*subscriber) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range subs {
		if s == nil {
			continue
		}
		s.closing.Store(true)
		if _, ok := e.subs[int32(s.c.fd)]; ok {
			s.c.control(opClose, []byte{0x03, 0xe8})
			e.forget(s)
		}
	}
}

// stop ends the loop.
func (e *epoller) stop() {
	close(e.done)
	e.file.Close()
}

// writeFD writes all of b to a non-blocking socket.
func writeFD(fd int, b []byte) error {
	for deadline := time.Now().Add(time.Second); len(b) > 0; {
		n, err := syscall.Write(fd, b)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			if time.Now().After(deadline) {
				return fmt.Errorf("write: %w", err)
			}
			time.Sleep(time.Millisecond)
		case err != nil:
			return fmt.Errorf("write: %w", err)
		default:
			b = b[n:]
		}
	}
	return nil
}
