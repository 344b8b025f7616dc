package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	mrand "math/rand/v2"
	"net"
	"strings"
	"time"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// maxFrame bounds a frame: AppSync events are at most 240 KB.
const maxFrame = 1 << 20

// subprotocol is the AppSync Events WebSocket subprotocol.
const subprotocol = "aws-appsync-event-ws"

// errClosed reports a close frame from the server; the frame's code and
// reason are in the wrapping error.
var errClosed = errors.New("server closed the WebSocket")

// dialer opens client WebSocket connections to one server with API-key
// auth in the header- subprotocol, as Amplify does.
type dialer struct {
	addr     string   // host:port to dial
	host     string   // the events HTTP host, for Host and the authorization object
	auth     []byte   // {"x-api-key":…,"host":…} as sent with subscribe and publish
	protos   string   // Sec-WebSocket-Protocol value
	localIPs []net.IP // source addresses, round robin; empty: the kernel's choice
	bufSize  int      // read buffer per connection
	timeout  time.Duration
}

func newDialer(addr, key string, localIPs []net.IP, bufSize int) *dialer {
	auth, _ := json.Marshal(map[string]string{"x-api-key": key, "host": addr})
	hdr, _ := json.Marshal(map[string]string{
		"host":       addr,
		"x-api-key":  key,
		"x-amz-date": time.Now().UTC().Format("20060102T150405Z"),
	})
	return &dialer{
		addr:     addr,
		host:     addr,
		auth:     auth,
		protos:   subprotocol + ", header-" + base64.RawURLEncoding.EncodeToString(hdr),
		localIPs: localIPs,
		bufSize:  bufSize,
		timeout:  10 * time.Second,
	}
}

// wsConn is a minimal client WebSocket connection over a plain net.Conn:
// masked text frames out, unmasked frames in, and a read path that does
// not allocate per frame, so that 10,000 of them in one process on one
// core cost the driver little next to the server it measures.
type wsConn struct {
	nc      net.Conn
	buf     []byte // read buffer; unread bytes are buf[r:w]
	r, w    int
	msg     []byte // reassembly of a fragmented message
	msgOp   byte
	wbuf    []byte
	readAt  int64 // driver clock (ns) when the last read returned
	server  bool  // the server's end (baseline -raw): frames in are masked
	fd      int   // with adopted: the socket, read by an epoller; nc is closed
	adopted bool
}

// write writes b to the connection, through nc or, once an epoller
// adopted the socket, to its descriptor.
func (c *wsConn) write(b []byte) error {
	if !c.adopted {
		_, err := c.nc.Write(b)
		return err
	}
	return writeFD(c.fd, b)
}

// dial connects and completes the WebSocket handshake. i picks the source
// address.
// dialInit dials connection i and completes connection_init/ack.
func (d *dialer) dialInit(ctx context.Context, i int) (*wsConn, error) {
	c, err := d.dial(ctx, i)
	if err != nil {
		return nil, err
	}
	if err := c.send([]byte(`{"type":"connection_init"}`)); err != nil {
		c.nc.Close()
		return nil, err
	}
	if err := c.await(`"connection_ack"`, d.timeout); err != nil {
		c.nc.Close()
		return nil, err
	}
	return c, nil
}

func (d *dialer) dial(ctx context.Context, i int) (*wsConn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	if len(d.localIPs) > 0 {
		nd.LocalAddr = &net.TCPAddr{IP: d.localIPs[i%len(d.localIPs)]}
	}
	nc, err := nd.DialContext(ctx, "tcp", d.addr)
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := &wsConn{nc: nc, buf: make([]byte, d.bufSize)}
	if err := c.handshake(d); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

func (c *wsConn) handshake(d *dialer) error {
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET /event/realtime HTTP/1.1\r\nHost: " + d.host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
		"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: " + d.protos + "\r\n\r\n"
	c.nc.SetDeadline(time.Now().Add(d.timeout))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := io.WriteString(c.nc, req); err != nil {
		return fmt.Errorf("handshake: %w", err)
	}
	end := -1
	for end < 0 {
		if c.w == len(c.buf) {
			return errors.New("handshake: response headers too large")
		}
		n, err := c.nc.Read(c.buf[c.w:])
		if err != nil {
			return fmt.Errorf("handshake: %w", err)
		}
		c.w += n
		end = bytes.Index(c.buf[:c.w], []byte("\r\n\r\n"))
	}
	head := string(c.buf[:end])
	c.r = end + 4
	lines := strings.Split(head, "\r\n")
	if !strings.HasPrefix(lines[0], "HTTP/1.1 101") {
		return fmt.Errorf("handshake: %q, want 101", lines[0])
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	var accept, proto string
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "sec-websocket-accept":
			accept = strings.TrimSpace(v)
		case "sec-websocket-protocol":
			proto = strings.TrimSpace(v)
		}
	}
	if accept != base64.StdEncoding.EncodeToString(sum[:]) {
		return errors.New("handshake: wrong Sec-WebSocket-Accept")
	}
	if proto != subprotocol {
		return fmt.Errorf("handshake: subprotocol %q, want %s", proto, subprotocol)
	}
	return nil
}

// appendFrame appends payload as one masked client text frame.
func appendFrame(dst, payload []byte) []byte {
	n := len(payload)
	dst = append(dst, 0x80|opText)
	switch {
	case n < 126:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x80|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], mrand.Uint32())
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	mask(dst[start:], key)
	return dst
}

// mask XORs p with the masking key, eight bytes at a time.
func mask(p []byte, key [4]byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k64)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// send writes one text message.
func (c *wsConn) send(payload []byte) error {
	c.wbuf = appendFrame(c.wbuf[:0], payload)
	return c.write(c.wbuf)
}

// control writes a control frame (pong, close) with payload p.
func (c *wsConn) control(op byte, p []byte) error {
	var b []byte
	if c.server {
		b = appendServerFrame(nil, op, p)
	} else {
		b = appendFrame(nil, p)
		b[0] = 0x80 | op
	}
	return c.write(b)
}

// fill reads more bytes into the buffer, compacting or growing it so that
// at least need unread bytes fit.
func (c *wsConn) fill(need int) error {
	if c.r > 0 && (c.r == c.w || len(c.buf)-c.r < need) {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	if need > len(c.buf)-c.r {
		nb := make([]byte, 1<<bits.Len(uint(need)))
		c.w = copy(nb, c.buf[c.r:c.w])
		c.r = 0
		c.buf = nb
	}
	n, err := c.nc.Read(c.buf[c.w:])
	c.readAt = clock()
	c.w += n
	if n > 0 {
		return nil
	}
	return err
}

// parseFrame parses the frame at the head of b. n is the frame's length
// once complete; when b holds only part of it, n is 0 and need says how
// many bytes the frame needs in all. A server's end unmasks the payload
// in place.
func parseFrame(b []byte, server bool) (fin bool, op byte, payload []byte, n, need int, err error) {
	if len(b) < 2 {
		return false, 0, nil, 0, 2, nil
	}
	if masked := b[1]&0x80 != 0; masked != server {
		return false, 0, nil, 0, 0, fmt.Errorf("frame masking %v at the server's end %v", masked, server)
	}
	hl, size := 2, int(b[1]&0x7f)
	switch size {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	ml := hl
	if server {
		hl += 4
	}
	if len(b) < hl {
		return false, 0, nil, 0, hl, nil
	}
	switch size {
	case 126:
		size = int(binary.BigEndian.Uint16(b[2:]))
	case 127:
		size = int(min(binary.BigEndian.Uint64(b[2:]), maxFrame+1))
	}
	if size > maxFrame {
		return false, 0, nil, 0, 0, fmt.Errorf("frame of %d bytes", size)
	}
	if len(b) < hl+size {
		return false, 0, nil, 0, hl + size, nil
	}
	payload = b[hl : hl+size]
	if server {
		mask(payload, [4]byte(b[ml:hl]))
	}
	return b[0]&0x80 != 0, b[0] & 0x0f, payload, hl + size, 0, nil
}

// frame returns the next frame, reading as needed; payload aliases the
// read buffer and is valid until the next call.
func (c *wsConn) frame() (fin bool, op byte, payload []byte, err error) {
	for {
		fin, op, p, n, need, err := parseFrame(c.buf[c.r:c.w], c.server)
		if err != nil {
			return false, 0, nil, err
		}
		if n > 0 {
			c.r += n
			return fin, op, p, nil
		}
		if err := c.fill(need); err != nil {
			return false, 0, nil, err
		}
	}
}

// next returns the next data message, answering pings and reassembling
// fragments. A close frame ends the connection with an error wrapping
// errClosed.
func (c *wsConn) next() (op byte, payload []byte, err error) {
	for {
		fin, op, p, err := c.frame()
		if err != nil {
			return 0, nil, err
		}
		if op, msg, ok, err := c.message(fin, op, p); err != nil || ok {
			return op, msg, err
		}
	}
}

// message folds one frame into the message being read: ok reports a
// complete data message; fragments and control frames give nothing (a
// ping is answered), a close frame an error wrapping errClosed.
func (c *wsConn) message(fin bool, op byte, p []byte) (byte, []byte, bool, error) {
	switch op {
	case opPing:
		return 0, nil, false, c.control(opPong, p)
	case opPong:
		return 0, nil, false, nil
	case opClose:
		return 0, nil, false, closeError(p)
	case opText, opBinary:
		if fin {
			return op, p, true, nil
		}
		c.msgOp, c.msg = op, append(c.msg[:0], p...)
		return 0, nil, false, nil
	case opContinuation:
		c.msg = append(c.msg, p...)
		if len(c.msg) > maxFrame {
			return 0, nil, false, fmt.Errorf("message over %d bytes", maxFrame)
		}
		return c.msgOp, c.msg, fin, nil
	default:
		return 0, nil, false, fmt.Errorf("unknown opcode %#x", op)
	}
}

func closeError(p []byte) error {
	if len(p) < 2 {
		return errClosed
	}
	return fmt.Errorf("%w: code %d %q", errClosed, binary.BigEndian.Uint16(p), p[2:])
}

// await reads messages until one contains want, failing on one that
// carries errors or after timeout.
func (c *wsConn) await(want string, timeout time.Duration) error {
	c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		_, p, err := c.next()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", want, err)
		}
		if bytes.Contains(p, []byte(want)) {
			return nil
		}
		if bytes.Contains(p, []byte(`"errors"`)) || bytes.Contains(p, []byte("_error")) {
			return fmt.Errorf("waiting for %s: %s", want, p)
		}
	}
}

// shutdown sends a normal close frame and closes the TCP connection.
func (c *wsConn) shutdown() {
	c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	c.control(opClose, []byte{0x03, 0xe8})
	c.nc.Close()
}
