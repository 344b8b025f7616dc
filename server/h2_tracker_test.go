package server

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// frame is one HTTP/2 frame on the wire, with a payload of n bytes of fill.
func frame(typ, flags byte, n int, fill byte) []byte {
	b := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, flags, 0, 0, 0, 1}
	return append(b, bytes.Repeat([]byte{fill}, n)...)
}

func wire(frames ...[]byte) []byte {
	return append([]byte(http2.ClientPreface), bytes.Join(frames, nil)...)
}

const (
	frameData     = 0x0
	frameSettings = 0x4
	framePing     = 0x6
	flagEndStream = 0x1
)

// referenceBlocks counts the header blocks begun and completed in b, a
// whole client byte stream, the plain way: frame by frame by index.
func referenceBlocks(b []byte) (begun, done uint64) {
	i, open := min(len(b), len(http2.ClientPreface)), false
	for i+frameHeaderLen <= len(b) {
		n := int(b[i])<<16 | int(b[i+1])<<8 | int(b[i+2])
		typ, flags := b[i+3], b[i+4]
		block := typ == frameHeaders || typ == framePushPromise || typ == frameContinuation
		if block && !open {
			begun, open = begun+1, true
		}
		end := i + frameHeaderLen + n
		if end > len(b) {
			break
		}
		if block && flags&flagEndHeaders != 0 {
			done, open = done+1, false
		}
		i = end
	}
	return begun, done
}

// feedChunks feeds b to a fresh tracker in chunks cut at the given sizes
// (cycled; 0 is taken as 1).
func feedChunks(b []byte, sizes []byte) frameTracker {
	t := frameTracker{preface: len(http2.ClientPreface)}
	for i := 0; len(b) > 0; i++ {
		n := len(b)
		if len(sizes) > 0 {
			n = min(n, max(1, int(sizes[i%len(sizes)])))
		}
		t.feed(b[:n])
		b = b[n:]
	}
	return t
}

func TestFrameTracker(t *testing.T) {
	headers := func(flags byte, n int) []byte { return frame(frameHeaders, flags, n, 0x82) }
	for _, tt := range []struct {
		name        string
		in          []byte
		begun, done uint64
	}{
		{"preface only", wire(), 0, 0},
		{"part of the preface", []byte(http2.ClientPreface[:10]), 0, 0},
		{"settings and ping", wire(frame(frameSettings, 0, 12, 0), frame(framePing, 0, 8, 0)), 0, 0},
		{"request in one frame", wire(frame(frameSettings, 0, 0, 0), headers(flagEndHeaders|flagEndStream, 20)), 1, 1},
		{"empty header block", wire(headers(flagEndHeaders, 0)), 1, 1},
		{"header block open", wire(headers(0, 20)), 1, 0},
		{"header block continued", wire(headers(0, 20), frame(frameContinuation, 0, 3, 0)), 1, 0},
		{"header block completed", wire(headers(0, 20), frame(frameContinuation, 0, 3, 0), frame(frameContinuation, flagEndHeaders, 1, 0)), 1, 1},
		{"END_HEADERS frame still arriving", wire(headers(flagEndHeaders, 20))[:len(http2.ClientPreface)+frameHeaderLen+5], 1, 0},
		{"frame header still arriving", wire(headers(flagEndHeaders, 20))[:len(http2.ClientPreface)+5], 0, 0},
		{"a HEADERS frame as a DATA payload", wire(append(frame(frameData, 0, 18, 0)[:frameHeaderLen], headers(flagEndHeaders, 9)...)), 0, 0},
		{"two requests", wire(headers(flagEndHeaders, 9), frame(frameData, flagEndStream, 100, 1), headers(0, 9), frame(frameContinuation, flagEndHeaders, 9, 0)), 2, 2},
		{"push promise", wire(frame(framePushPromise, flagEndHeaders, 8, 0)), 1, 1},
		{"HEADERS inside an open block", wire(headers(0, 4), headers(0, 4)), 1, 0},
		{"huge frame announced", wire([]byte{0xff, 0xff, 0xff, frameHeaders, flagEndHeaders, 0, 0, 0, 1, 0}), 1, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if begun, done := referenceBlocks(tt.in); begun != tt.begun || done != tt.done {
				t.Fatalf("reference: begun %d done %d, want %d %d", begun, done, tt.begun, tt.done)
			}
			for _, sizes := range [][]byte{nil, {1}, {9}, {5, 13, 2}} {
				got := feedChunks(tt.in, sizes)
				if got.begun != tt.begun || got.done != tt.done {
					t.Errorf("chunks %v: begun %d done %d, want %d %d", sizes, got.begun, got.done, tt.begun, tt.done)
				}
			}
		})
	}
}

// FuzzFrameTracker: however a client's bytes are cut into reads, the
// tracker counts the header blocks a whole-stream parse counts, and never
// has more than one open.
func FuzzFrameTracker(f *testing.F) {
	f.Add(wire(frame(frameHeaders, flagEndHeaders, 20, 0)), []byte{1})
	f.Add(wire(frame(frameHeaders, 0, 3, 0), frame(frameContinuation, flagEndHeaders, 2, 0)), []byte{7, 3})
	f.Add(wire(frame(frameData, 0, 30, frameHeaders), frame(framePushPromise, 0, 1, 0)), []byte{})
	f.Add([]byte(http2.ClientPreface[:5]), []byte{2})
	f.Fuzz(func(t *testing.T, in, sizes []byte) {
		begun, done := referenceBlocks(in)
		got := feedChunks(in, sizes)
		if got.begun != begun || got.done != done {
			t.Fatalf("chunks %v: begun %d done %d, reference %d %d", sizes, got.begun, got.done, begun, done)
		}
		if got.begun-got.done > 1 {
			t.Fatalf("%d header blocks open", got.begun-got.done)
		}
	})
}

// trafficSample is a client's side of requests in a row: a HEADERS frame,
// a 1 KiB body and a WINDOW_UPDATE each, as it arrives in TLS records of
// up to 16 KiB.
func trafficSample(requests int) []byte {
	frames := [][]byte{frame(frameSettings, 0, 18, 0)}
	for range requests {
		frames = append(frames, frame(frameHeaders, flagEndHeaders, 60, 0x82), frame(frameData, flagEndStream, 1024, 'x'), frame(0x8, 0, 4, 0))
	}
	return wire(frames...)
}

// BenchmarkFrameTracker measures what following frames costs per byte a
// client sends.
func BenchmarkFrameTracker(b *testing.B) {
	in := trafficSample(1000)
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		t := frameTracker{preface: len(http2.ClientPreface)}
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 16<<10)
			t.feed(rest[:n])
			rest = rest[n:]
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*3001), "ns/frame")
}

// BenchmarkHTTP2Request measures a request over HTTP/2 on loopback TLS
// with net/http's bundled server ("bundled", as before),
// golang.org/x/net/http2 as is ("x-net") and through headerTimedConn
// ("header-timed", as served): the difference between the last two is the
// wrapper's cost.
func BenchmarkHTTP2Request(b *testing.B) {
	body := strings.Repeat("x", 16<<10)
	for _, variant := range []struct {
		name      string
		configure func(*http.Server) error
	}{
		{"bundled", func(*http.Server) error { return nil }},
		//lint:ignore SA1019 the wrapper's baseline is x/net/http2 unwrapped.
		{"x-net", func(hs *http.Server) error { return http2.ConfigureServer(hs, nil) }},
		{"header-timed", configureHTTP2},
	} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			b.Run(variant.name+"/"+method, func(b *testing.B) {
				ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					io.Copy(io.Discard, r.Body)
					io.WriteString(w, "ok")
				}))
				ts.EnableHTTP2 = true
				ts.Config.ReadHeaderTimeout = 10 * time.Second
				if err := variant.configure(ts.Config); err != nil {
					b.Fatal(err)
				}
				ts.StartTLS()
				defer ts.Close()
				c := ts.Client()
				for b.Loop() {
					var rd io.Reader
					if method == http.MethodPost {
						rd = strings.NewReader(body)
					}
					req, _ := http.NewRequest(method, ts.URL, rd)
					resp, err := c.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.ProtoMajor != 2 {
						b.Fatalf("proto %s", resp.Proto)
					}
				}
			})
		}
	}
}

// The HTTP/2 server takes r.TLS, and checks the TLS version and cipher
// suite, from a connection with this method.
var _ interface{ ConnectionState() tls.ConnectionState } = (*headerTimedConn)(nil)
