package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/net/http2"
)

//lint:file-ignore SA1019 net/http serves HTTP/2 only on a *tls.Conn it accepted itself; x/net/http2's ServeConn is the one way to serve it on a wrapped connection (from Go 1.27 it runs net/http's own server).

// configureHTTP2 makes hs serve HTTP/2 over TLS with golang.org/x/net/http2
// on connections that bound header time as hs.ReadHeaderTimeout bounds it
// for HTTP/1.1. net/http's own HTTP/2 server applies no header timeout: a
// client trickling a header block, or never sending one, would hold its
// connection for IdleTimeout. Everything else keeps net/http's semantics
// (ConfigureServer also registers graceful shutdown with hs).
func configureHTTP2(hs *http.Server) error {
	h2 := &http2.Server{}
	if err := http2.ConfigureServer(hs, h2); err != nil {
		return fmt.Errorf("http2: %w", err)
	}
	timeout := hs.ReadHeaderTimeout
	hs.TLSNextProto[http2.NextProtoTLS] = func(hs *http.Server, c *tls.Conn, h http.Handler) {
		// net/http's handler for the connection carries its base context
		// (BaseContext, ServerContextKey, LocalAddrContextKey).
		var ctx context.Context
		if bc, ok := h.(interface{ BaseContext() context.Context }); ok {
			ctx = bc.BaseContext()
		}
		hc := newHeaderTimedConn(c, timeout)
		defer hc.timer.Stop()
		h2.ServeConn(hc, &http2.ServeConnOpts{Context: ctx, Handler: h, BaseConfig: hs})
	}
	return nil
}

// headerTimedConn is an HTTP/2 server's TLS connection that is closed
// when its first header block has not arrived within timeout of the
// connection's start, or a later one within timeout of its first frame.
// Between requests the HTTP/2 server's IdleTimeout applies as before.
// The embedded *tls.Conn still gives handlers r.TLS.
type headerTimedConn struct {
	*tls.Conn
	timeout time.Duration
	// timer closes the connection; it runs while a header block is due.
	timer  *time.Timer
	frames frameTracker
	// served is set once a header block has arrived: until then the
	// deadline counts from the connection's start.
	served bool
}

func newHeaderTimedConn(c *tls.Conn, timeout time.Duration) *headerTimedConn {
	return &headerTimedConn{
		Conn:    c,
		timeout: timeout,
		timer:   time.AfterFunc(timeout, func() { c.Close() }),
		frames:  frameTracker{preface: len(http2.ClientPreface)},
	}
}

// Read is the HTTP/2 server's only way in, so following its bytes sees
// every frame the client sends.
func (c *headerTimedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	begun, done := c.frames.begun, c.frames.done
	c.frames.feed(p[:n])
	if c.frames.done != done {
		c.served = true
	}
	switch {
	case c.frames.open() && c.frames.begun != begun && c.served:
		c.timer.Reset(c.timeout)
	case !c.frames.open() && c.frames.done != done:
		c.timer.Stop()
	}
	return n, err
}

// RFC 9113 frame layout: a 9-byte header (24-bit length, type, flags,
// stream id) before each payload; header blocks are HEADERS or
// PUSH_PROMISE followed by CONTINUATIONs, up to END_HEADERS.
const (
	frameHeaderLen    = 9
	frameHeaders      = 0x1
	framePushPromise  = 0x5
	frameContinuation = 0x9
	flagEndHeaders    = 0x4
)

// frameTracker follows frame boundaries in the bytes an HTTP/2 client
// sends and counts the header blocks begun and completed, in O(1) per
// frame. It validates nothing: the HTTP/2 server reads the same bytes and
// closes the connection on any protocol error.
type frameTracker struct {
	preface int // bytes of the client preface still to come
	head    [frameHeaderLen]byte
	nhead   int // bytes of head received
	payload int // bytes of the current frame's payload still to come
	// ends says the current frame ends a header block: done counts it
	// once its payload, which the server reads whole, has arrived.
	ends        bool
	begun, done uint64
}

// open reports whether a header block has begun and not completed.
func (t *frameTracker) open() bool { return t.begun != t.done }

// feed advances the tracker over b, the next bytes from the client.
func (t *frameTracker) feed(b []byte) {
	n := min(t.preface, len(b))
	t.preface -= n
	b = b[n:]
	for len(b) > 0 {
		if t.payload > 0 {
			n := min(t.payload, len(b))
			t.payload -= n
			b = b[n:]
			if t.payload == 0 {
				t.endFrame()
			}
			continue
		}
		n := copy(t.head[t.nhead:], b)
		t.nhead += n
		b = b[n:]
		if t.nhead == frameHeaderLen {
			t.nhead = 0
			t.startFrame()
		}
	}
}

func (t *frameTracker) startFrame() {
	switch t.head[3] {
	case frameHeaders, framePushPromise, frameContinuation:
		if !t.open() {
			t.begun++
		}
		t.ends = t.head[4]&flagEndHeaders != 0
	}
	t.payload = int(t.head[0])<<16 | int(t.head[1])<<8 | int(t.head[2])
	if t.payload == 0 {
		t.endFrame()
	}
}

func (t *frameTracker) endFrame() {
	if t.ends {
		t.done++
		t.ends = false
	}
}
