package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// serveHTTPS serves s on an HTTPS listener with header timeout d and
// returns the listener's address and the local CA clients trust.
func serveHTTPS(t *testing.T, s *Server, d time.Duration) (addr, ca string) {
	t.Helper()
	s.headerTimeout = d
	tlsLn := listen(t)
	serveBoth(t, s, listen(t), tlsLn)
	return tlsLn.Addr().String(), filepath.Join(s.cfg.DataDir, "tls", "ca.pem")
}

// rawH2 is a client that speaks HTTP/2 frame by frame.
type rawH2 struct {
	t     *testing.T
	conn  *tls.Conn
	fr    *http2.Framer
	start time.Time // when the TLS handshake completed
	// closed is closed, after closedAt is set, when the server has
	// closed the connection.
	closed   chan struct{}
	closedAt time.Time
	// statuses receives "stream status" for each response header.
	statuses chan string
}

func dialRawH2(t *testing.T, addr, ca string) *rawH2 {
	t.Helper()
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if p := conn.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN chose %q", p)
	}
	c := &rawH2{t: t, conn: conn, fr: http2.NewFramer(conn, conn), start: time.Now(), closed: make(chan struct{}), statuses: make(chan string, 16)}
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	go func() {
		defer func() { c.closedAt = time.Now(); close(c.closed) }()
		for {
			f, err := c.fr.ReadFrame()
			if err != nil {
				return
			}
			if h, ok := f.(*http2.MetaHeadersFrame); ok {
				c.statuses <- fmt.Sprint(h.StreamID, " ", h.PseudoValue("status"))
			}
		}
	}()
	return c
}

func (c *rawH2) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

// preface sends the client connection preface and an empty SETTINGS.
func (c *rawH2) preface() {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, http2.ClientPreface); err != nil {
		c.t.Fatal(err)
	}
	if err := c.fr.WriteSettings(); err != nil {
		c.t.Fatal(err)
	}
}

// headerBlock is the HPACK block of GET path, padded with an x-pad header
// of pad bytes.
func headerBlock(path string, pad int) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", path}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if pad > 0 {
		enc.WriteField(hpack.HeaderField{Name: "x-pad", Value: strings.Repeat("p", pad)})
	}
	return buf.Bytes()
}

// trickle sends block on stream as a HEADERS frame holding its first byte
// and then one CONTINUATION per remaining byte, gap apart, until the block
// is complete, the server closes the connection or stop has passed.
func (c *rawH2) trickle(stream uint32, block []byte, gap time.Duration, stop time.Time) {
	err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: block[:1], EndStream: true, EndHeaders: len(block) == 1})
	for i := 1; i < len(block) && err == nil && !c.isClosed() && time.Now().Before(stop); i++ {
		time.Sleep(gap)
		err = c.fr.WriteContinuation(stream, i == len(block)-1, block[i:i+1])
	}
}

// response waits for the response header on stream.
func (c *rawH2) response(stream uint32) {
	c.t.Helper()
	select {
	case got := <-c.statuses:
		if want := fmt.Sprint(stream, " 200"); got != want {
			c.t.Fatalf("response %q, want %q", got, want)
		}
	case <-c.closed:
		c.t.Fatalf("connection closed after %v awaiting stream %d", c.closedAt.Sub(c.start), stream)
	case <-time.After(5 * time.Second):
		c.t.Fatalf("no response on stream %d", stream)
	}
}

// TestHTTP2HeaderTimeout speaks raw frames to the HTTPS listener: a
// connection whose header block is not complete within the header timeout
// of its start (the first request) or of its first frame (later ones) is
// closed then, whatever else it sends; one that completes its header
// blocks in time, however slowly, is not cut, and may idle between
// requests for longer than the header timeout.
func TestHTTP2HeaderTimeout(t *testing.T) {
	const timeout = 500 * time.Millisecond
	s := newTestServer(t, Config{})
	addr, ca := serveHTTPS(t, s, timeout)
	giveUp := timeout + time.Second
	long := headerBlock("/healthz", 4096) // takes minutes to trickle
	forever := time.Now().Add(time.Hour)
	for _, tt := range []struct {
		name string
		// run talks to the server and returns when the timed phase began.
		run func(c *rawH2) time.Time
		cut bool
	}{
		{"silent after the TLS handshake", func(c *rawH2) time.Time { return c.start }, true},
		{"preface and pings, no request", func(c *rawH2) time.Time {
			c.preface()
			for !c.isClosed() && time.Since(c.start) < giveUp {
				if c.fr.WritePing(false, [8]byte{}) != nil {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			return c.start
		}, true},
		{"first header block trickled", func(c *rawH2) time.Time {
			c.preface()
			c.trickle(1, long, 20*time.Millisecond, c.start.Add(giveUp))
			return c.start
		}, true},
		{"second header block trickled", func(c *rawH2) time.Time {
			c.preface()
			c.trickle(1, headerBlock("/healthz", 0), 0, forever)
			c.response(1)
			time.Sleep(timeout / 2)
			begun := time.Now()
			c.trickle(3, long, 20*time.Millisecond, begun.Add(giveUp))
			return begun
		}, true},
		{"slow but complete, then idle", func(c *rawH2) time.Time {
			c.preface()
			block := headerBlock("/healthz", 0)
			c.trickle(1, block, timeout*6/10/time.Duration(len(block)), forever)
			c.response(1)
			time.Sleep(timeout * 3 / 2)
			c.trickle(3, block, 0, forever)
			c.response(3)
			return c.start
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dialRawH2(t, addr, ca)
			begun := tt.run(c)
			if !tt.cut {
				if c.isClosed() {
					t.Fatalf("closed after %v", c.closedAt.Sub(c.start))
				}
				return
			}
			select {
			case <-c.closed:
			case <-time.After(time.Until(begun.Add(giveUp))):
				t.Fatalf("still open %v after the timed phase began (header timeout %v)", time.Since(begun), timeout)
			}
			if held := c.closedAt.Sub(begun); held < timeout*9/10 {
				t.Fatalf("closed %v after the timed phase began, before the header timeout %v", held, timeout)
			}
		})
	}
}

// TestHTTP2ServesClients: Go's HTTP client reaches handlers over HTTP/2
// as before: r.Proto, r.TLS, the server's context, request bodies larger
// than the flow-control window, and concurrent streams on one connection.
func TestHTTP2ServesClients(t *testing.T) {
	s := newTestServer(t, Config{})
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		alpn := ""
		if r.TLS != nil {
			alpn = r.TLS.NegotiatedProtocol
		}
		_, inServer := r.Context().Value(http.ServerContextKey).(*http.Server)
		fmt.Fprintf(w, "%s alpn=%s server=%v body=%d err=%v", r.Proto, alpn, inServer, n, err)
	})
	addr, ca := serveHTTPS(t, s, 10*time.Second)
	c := clientTrusting(t, ca)
	url := "https://localhost:" + strings.Split(addr, ":")[1] + "/"
	do := func(body []byte) error {
		var rd io.Reader
		method := http.MethodGet
		if body != nil {
			rd, method = bytes.NewReader(body), http.MethodPost
		}
		req, _ := http.NewRequest(method, url, rd)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		if want := fmt.Sprintf("HTTP/2.0 alpn=h2 server=true body=%d err=<nil>", len(body)); resp.ProtoMajor != 2 || string(got) != want {
			return fmt.Errorf("%s: %q, want %q", resp.Proto, got, want)
		}
		return nil
	}
	big := make([]byte, 3<<20)
	rand.Read(big)
	for _, body := range [][]byte{nil, []byte("{}"), big} {
		if err := do(body); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() { errs <- do(big[:64<<10]) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestWebSocketOverHTTPS: the events WebSocket opens on the HTTPS listener
// from a client that offers HTTP/2, and outlives the header timeout.
func TestWebSocketOverHTTPS(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s := newTestServer(t, Config{})
	addr, ca := serveHTTPS(t, s, timeout)
	key, err := os.ReadFile(filepath.Join(s.cfg.DataDir, "events-dev-key"))
	if err != nil {
		t.Fatal(err)
	}
	host := "localhost:" + strings.Split(addr, ":")[1]
	auth, _ := json.Marshal(map[string]string{"x-api-key": strings.TrimSpace(string(key)), "host": host})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "wss://"+host+"/event/realtime", &websocket.DialOptions{
		HTTPClient:   clientTrusting(t, ca),
		Subprotocols: []string{"aws-appsync-event-ws", "header-" + base64.RawURLEncoding.EncodeToString(auth)},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer ws.CloseNow()
	exchange := func(send map[string]any, want string) {
		t.Helper()
		b, _ := json.Marshal(send)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
		for {
			_, msg, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("awaiting %s: %v", want, err)
			}
			var m map[string]any
			json.Unmarshal(msg, &m)
			if m["type"] == want {
				return
			}
			if m["type"] != "ka" {
				t.Fatalf("awaiting %s: %s", want, msg)
			}
		}
	}
	exchange(map[string]any{"type": "connection_init"}, "connection_ack")
	time.Sleep(3 * timeout)
	exchange(map[string]any{"type": "subscribe", "id": "s1", "channel": "/default/*", "authorization": json.RawMessage(auth)}, "subscribe_success")
}
