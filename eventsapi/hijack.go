package eventsapi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// Buffer sizes of an upgraded connection. Small, because an idle
// connection keeps them: the batch buffer below exists only while
// writing.
const (
	readBufSize   = 1 << 10
	writeBufSize  = 512
	maxBatchBytes = 64 << 10
)

// closeWriteTimeout bounds writes once the Hub closes a connection, so
// that a client that stopped reading cannot hold a write (and the close
// handshake behind it) forever.
const closeWriteTimeout = 2 * time.Second

// hijacker gives coder/websocket the upgraded connection with small
// buffers and a batchWriter beneath its buffered writer.
type hijacker struct {
	http.ResponseWriter
	batch *batchWriter
}

// Hijack takes the connection over from net/http. The bytes net/http
// already read (its background read may hold the first byte of the
// client's first frame) are moved into the new reader's buffer, where
// coder/websocket's Accept looks for them.
func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	n := brw.Reader.Buffered()
	var r *bufio.Reader
	if n == 0 {
		r = bufio.NewReaderSize(conn, readBufSize)
	} else {
		b, _ := brw.Reader.Peek(n)
		r = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn), max(readBufSize, n))
		if _, err := r.Peek(n); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	h.batch = &batchWriter{conn: conn}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(h.batch, writeBufSize)), nil
}

// batchWriter owns the connection's writes. The Hub's frames are encoded
// here directly (unfragmented, unmasked text frames: what coder/websocket
// would write, without its per-message locking) and collected into one
// write per batch. coder/websocket's own frames — pongs, close — arrive
// through Write, whole (each is smaller than its 512-byte buffer), and
// join the batch when one is open. Everything goes through mu in call
// order, so frames never interleave.
type batchWriter struct {
	conn   net.Conn
	mu     sync.Mutex
	on     bool // collecting a batch
	closed bool // the Hub closed the connection: no more of its frames
	buf    *[]byte
}

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// Write is coder/websocket's way out.
func (b *batchWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.on {
		return b.conn.Write(p)
	}
	if err := b.appendLocked(nil, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// frame adds one text message to the batch, opening one if needed.
func (b *batchWriter) frame(p []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return net.ErrClosed
	}
	b.on = true
	return b.appendLocked(textHeader(p), p)
}

// textHeader is the header of an unmasked final text frame of len(p).
func textHeader(p []byte) []byte {
	switch n := len(p); {
	case n < 126:
		return []byte{0x81, byte(n)}
	case n <= 0xffff:
		return []byte{0x81, 126, byte(n >> 8), byte(n)}
	default:
		return binary.BigEndian.AppendUint64([]byte{0x81, 127}, uint64(n))
	}
}

func (b *batchWriter) appendLocked(head, p []byte) error {
	if b.buf == nil {
		b.buf = batchPool.Get().(*[]byte)
	}
	if len(*b.buf) > 0 && len(*b.buf)+len(head)+len(p) > maxBatchBytes {
		if err := b.writeLocked(); err != nil {
			return err
		}
	}
	*b.buf = append(append(*b.buf, head...), p...)
	return nil
}

// end writes what the batch collected and goes back to writing through.
func (b *batchWriter) end() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.on = false
	err := b.writeLocked()
	if b.buf != nil {
		if cap(*b.buf) <= 2*maxBatchBytes {
			batchPool.Put(b.buf)
		}
		b.buf = nil
	}
	return err
}

func (b *batchWriter) writeLocked() error {
	if b.buf == nil || len(*b.buf) == 0 {
		return nil
	}
	_, err := b.conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

// close stops the Hub's frames and bounds every write from now on,
// including one blocked now.
func (b *batchWriter) close() {
	_ = b.conn.SetWriteDeadline(time.Now().Add(closeWriteTimeout))
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
}
