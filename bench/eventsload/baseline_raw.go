package main

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/coder/websocket"
)

// serveRaw is the lean baseline: the upgrade and the framing written by
// hand, and frames appended straight into a per-connection buffer that a
// writer goroutine, started when the buffer becomes non-empty, sends with
// one write(2) — whatever piled up meanwhile goes in the same write. It
// is meant as the floor of this machine: the least a Go server can spend
// per delivery, one syscall per connection and burst.
func (h *bhub) serveRaw(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(headerKey(r)) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "not a WebSocket upgrade", http.StatusBadRequest)
		return
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\nSec-WebSocket-Protocol: " + subprotocol + "\r\n\r\n"
	if _, err := nc.Write([]byte(resp)); err != nil {
		nc.Close()
		return
	}
	wc := &wsConn{nc: nc, buf: make([]byte, 1024), server: true}
	wc.w, _ = brw.Reader.Read(wc.buf[:min(brw.Reader.Buffered(), len(wc.buf))])
	c := &rconn{nc: nc}
	h.serveConn(c, func() ([]byte, error) {
		_, p, err := wc.next()
		return p, err // handle keeps nothing of p but copies
	})
}

// rawLimit bounds a connection's unsent bytes: about 1,000 data messages.
const rawLimit = 256 << 10

// rconn is the outgoing side of one raw connection.
type rconn struct {
	nc       net.Conn
	mu       sync.Mutex
	pending  []byte // frames not yet handed to a write
	spare    []byte
	flushing bool
	closed   bool
}

func (c *rconn) reply(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.pending = appendServerFrame(c.pending, opText, b)
		c.kickLocked()
	}
}

func (c *rconn) data(id, event []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.pending) > rawLimit {
		c.closeLocked(websocket.StatusPolicyViolation, "slow consumer")
		return
	}
	n := len(`{"type":"data","id":,"event":}`) + len(id) + len(event)
	c.pending = appendServerHeader(c.pending, opText, n)
	c.pending = append(c.pending, `{"type":"data","id":`...)
	c.pending = append(c.pending, id...)
	c.pending = append(c.pending, `,"event":`...)
	c.pending = append(c.pending, event...)
	c.pending = append(c.pending, '}')
	c.kickLocked()
}

func (c *rconn) kickLocked() {
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
}

// flush writes the pending frames until there are none.
func (c *rconn) flush() {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 || c.closed {
			c.flushing = false
			if cap(c.spare) > 4<<10 {
				c.spare = nil // an idle connection keeps no big buffer
			}
			c.mu.Unlock()
			return
		}
		b := c.pending
		c.pending, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		_, err := c.nc.Write(b)
		c.mu.Lock()
		c.spare = b[:0]
		if err != nil {
			c.closeLocked(websocket.StatusInternalError, "write failed")
		}
		c.mu.Unlock()
	}
}

func (c *rconn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

func (c *rconn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	frame := appendServerFrame(nil, opClose, append(p, reason...))
	go func() {
		c.nc.Write(frame)
		c.nc.Close()
	}()
}

// appendServerHeader appends the header of an unmasked frame of n bytes.
func appendServerHeader(dst []byte, op byte, n int) []byte {
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		return append(dst, byte(n))
	case n <= 0xffff:
		return append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}

// appendServerFrame appends one unmasked frame.
func appendServerFrame(dst []byte, op byte, payload []byte) []byte {
	return append(appendServerHeader(dst, op, len(payload)), payload...)
}
