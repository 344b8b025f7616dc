package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHistQuantiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration // recorded in order
		q      float64
		want   time.Duration
	}{
		{"exact below 256 µs", []time.Duration{100 * time.Microsecond}, 0.5, 100 * time.Microsecond},
		{"median of three", []time.Duration{time.Millisecond, 2 * time.Millisecond, 50 * time.Millisecond}, 0.5, 2 * time.Millisecond},
		{"p99 of a tail", append(repeat(time.Millisecond, 98), 3*time.Second, 3*time.Second), 0.99, 3 * time.Second},
		{"max", []time.Duration{time.Millisecond, 40 * time.Second}, 1, 40 * time.Second},
		{"negative clamps to zero", []time.Duration{-time.Second}, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hist
			for _, v := range tt.values {
				h.record(v)
			}
			got := h.quantile(tt.q) * float64(time.Millisecond)
			want := float64(tt.want)
			if math.Abs(got-want) > want*0.008+float64(time.Microsecond) {
				t.Errorf("quantile(%g) = %v, want %v ±0.8 %%", tt.q, time.Duration(got), tt.want)
			}
		})
	}
	var empty hist
	if q := empty.quantile(0.99); q != 0 {
		t.Errorf("empty histogram: %g, want 0", q)
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// TestEventRoundTrip checks that an event has the asked size once
// unescaped and that its time and sequence are found again inside a data
// message encoded by encoding/json, as a Go server would send it.
func TestEventRoundTrip(t *testing.T) {
	tests := []struct {
		size int
		t    int64
		seq  uint64
	}{{100, 1, 1}, {100, 123456789012345, 99999999}, {40, 5, 7}, {1000, 987654321, 3}}
	for _, tt := range tests {
		esc := appendEvent(nil, tt.t, tt.seq, tt.size)
		var ev string
		if err := json.Unmarshal([]byte(`"`+string(esc)+`"`), &ev); err != nil {
			t.Fatalf("size %d: escaped event is not a JSON string body: %v", tt.size, err)
		}
		if len(ev) != tt.size && tt.size >= 18+len(ev)-tt.size {
			t.Errorf("size %d: event is %d bytes: %s", tt.size, len(ev), ev)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(ev), &obj); err != nil {
			t.Errorf("size %d: event is not JSON: %v", tt.size, err)
		}
		frame, _ := json.Marshal(map[string]string{"type": "data", "id": "x", "event": ev})
		gt, gs, ok := parseEvent(frame)
		if !ok || gt != tt.t || gs != tt.seq {
			t.Errorf("parseEvent(%s) = %d, %d, %v; want %d, %d", frame, gt, gs, ok, tt.t, tt.seq)
		}
	}
	for _, bad := range []string{`{"type":"ka"}`, `{"event":"{\"t\":}"}`, `{"event":"{\"t\":5}"}`} {
		if _, _, ok := parseEvent([]byte(bad)); ok {
			t.Errorf("parseEvent(%s) succeeded", bad)
		}
	}
}

// TestFrames sends client frames to a server-side wsConn and server
// frames to a client-side one, across the length encodings.
func TestFrames(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536, 300000} {
		payload := bytes.Repeat([]byte{'a' + byte(n%26)}, n)
		for _, toServer := range []bool{true, false} {
			a, b := net.Pipe()
			var wire []byte
			if toServer {
				wire = appendFrame(nil, payload)
			} else {
				wire = appendServerFrame(nil, opText, payload)
			}
			go func() {
				a.Write(wire)
				a.Close()
			}()
			c := &wsConn{nc: b, buf: make([]byte, 512), server: toServer}
			op, got, err := c.next()
			if err != nil || op != opText || !bytes.Equal(got, payload) {
				t.Errorf("%d bytes, to server %v: op %d, %d bytes, %v", n, toServer, op, len(got), err)
			}
			b.Close()
		}
	}
}

// TestFragmentsAndControl: a fragmented message with a ping in between,
// then a close frame.
func TestFragmentsAndControl(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var wire []byte
	wire = append(wire, opText, 3, 'a', 'b', 'c')            // not final
	wire = appendServerFrame(wire, opPing, []byte("p"))      // interleaved control frame
	wire = append(wire, 0x80|opContinuation, 2, 'd', 'e')    // final
	wire = appendServerFrame(wire, opClose, []byte{3, 0xe8}) // 1000
	pong := make(chan []byte, 1)
	go func() {
		go func() {
			buf := make([]byte, 64)
			n, _ := a.Read(buf)
			pong <- buf[:n]
		}()
		a.Write(wire)
	}()
	c := &wsConn{nc: b, buf: make([]byte, 64)}
	_, msg, err := c.next()
	if err != nil || string(msg) != "abcde" {
		t.Fatalf("next() = %q, %v; want abcde", msg, err)
	}
	if p := <-pong; len(p) < 2 || p[0] != 0x80|opPong || p[1]&0x80 == 0 {
		t.Errorf("pong frame %x: want a masked pong", p)
	}
	if _, _, err := c.next(); !errors.Is(err, errClosed) || !strings.Contains(err.Error(), "1000") {
		t.Errorf("after the close frame: %v, want errClosed with code 1000", err)
	}
}

// TestDriveBaselines runs every scenario, scaled down, against both
// baselines in this process, and checks that each phase delivered
// everything it published and measured something.
func TestDriveBaselines(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and opens hundreds of connections")
	}
	tests := []struct {
		name, reader string
		raw          bool
	}{
		{"coder-websocket, epoll reader", "epoll", false},
		{"raw, epoll reader", "epoll", true},
		{"coder-websocket, goroutine reader", "goroutine", false},
	}
	var files []string
	dir := t.TempDir()
	for _, tt := range tests {
		raw := tt.raw
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close()
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- serveBaseline(ctx, addr, "da2-test", raw, "") }()
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("baseline: %v", err)
				}
			}()
			waitListening(t, addr)
			cfg := config{target: "http://" + addr, key: "da2-test", scenarios: "a,b,c,d,e", n: 200, conc: 16,
				publishers: 2, size: 100, rate: 10, bRate: 500, inflightA: 4, window: 8, batch: 16,
				warmup: 100 * time.Millisecond, dur: 400 * time.Millisecond, settle: 10 * time.Millisecond,
				drain: 5 * time.Second, srcIPs: 1, bufSize: 4096, serverPID: os.Getpid(), label: "test", reader: tt.reader, serverCPU: -1}
			if err := cfg.check(); err != nil {
				t.Fatal(err)
			}
			rep, err := drive(ctx, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, rep)
			rep.Label = tt.name
			raw, _ := json.Marshal(rep)
			f := filepath.Join(dir, fmt.Sprintf("r%d.json", len(files)))
			if err := os.WriteFile(f, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		})
	}
	if len(files) < 2 {
		return
	}
	var out bytes.Buffer
	code, err := printComparison(&out, strings.Join(files, ","))
	if err != nil || code != 0 {
		t.Fatalf("printComparison: %d, %v", code, err)
	}
	for _, want := range []string{"| (a) deliveries/s", "| (c) publish-to-delivery", "| (d) server memory", "| (e) connections/s", "raw, epoll reader", "≥ 300,000/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("comparison lacks %q:\n%s", want, out.String())
		}
	}
}

func checkReport(t *testing.T, rep *report) {
	t.Helper()
	want := map[string]bool{"a": true, "b": true, "b-rate": true, "c": true, "d": true, "e": true, "e2": true}
	for _, p := range rep.Phases {
		delete(want, p.Name)
		if !p.OK {
			t.Errorf("phase %s failed: %s", p.Name, p.Error)
		}
		switch p.Name {
		case "a", "b", "b-rate", "c":
			if p.DeliveriesPerSec <= 0 || p.Samples == 0 || p.P99Ms <= 0 || p.Lost != 0 {
				t.Errorf("phase %s: %+v", p.Name, p)
			}
		case "e", "e2":
			if p.ConnectsPerSec <= 0 || p.Connections != 200 {
				t.Errorf("phase %s: %+v", p.Name, p)
			}
		case "d":
			if p.RSSLoadedKB <= 0 {
				t.Errorf("phase d: %+v", p)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("phases missing: %v", want)
	}
	if !rep.OK {
		t.Error("report not OK")
	}
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// TestProc reads this process's own figures from /proc.
func TestProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/io"); err != nil {
		t.Skip("no /proc")
	}
	pid := os.Getpid()
	r0, _, err := syscalls(pid)
	if err != nil {
		t.Fatal(err)
	}
	os.ReadFile("/proc/self/stat")
	if r1, _, _ := syscalls(pid); r1 <= r0 {
		t.Errorf("read syscalls %d → %d after a read", r0, r1)
	}
	if rss, err := rssKB(pid); err != nil || rss <= 0 {
		t.Errorf("rssKB = %d, %v", rss, err)
	}
	if _, err := cpuTime(pid); err != nil {
		t.Error(err)
	}
	st, err := readCPUStat(0)
	if err != nil || st.busy+st.idle <= 0 {
		t.Errorf("readCPUStat(0) = %+v, %v", st, err)
	}
	if _, err := readCPUStat(1 << 20); err == nil {
		t.Error("readCPUStat of a CPU that does not exist succeeded")
	}
}

func TestConfigCheck(t *testing.T) {
	base := config{key: "k", reader: "epoll", scenarios: "a,b", n: 1, conc: 1, publishers: 1, batch: 1, rate: 1, inflightA: 1, window: 1, size: 100, srcIPs: 1}
	tests := []struct {
		target, scenarios, want string
	}{
		{"http://127.0.0.1:9229", "a,b", ""},
		{"http://10.0.0.1:9229", "a,b", "loopback"},
		{"https://127.0.0.1:9443", "a,b", "HTTPS"},
		{"http://127.0.0.1:9229", "a,x", "unknown"},
	}
	for _, tt := range tests {
		c := base
		c.target, c.scenarios = tt.target, tt.scenarios
		err := c.check()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("check(%s, %s) = %v, want %q", tt.target, tt.scenarios, err, tt.want)
		}
	}
}

func FuzzFrames(f *testing.F) {
	f.Add(appendServerFrame(nil, opText, []byte(`{"type":"ka"}`)), false)
	f.Add(appendFrame(nil, []byte(`{"type":"connection_init"}`)), true)
	f.Add([]byte{opText, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false)
	f.Add([]byte{opText, 1, 'a', opContinuation, 1, 'b', 0x80, 0}, false)
	f.Fuzz(func(t *testing.T, wire []byte, server bool) {
		a, b := net.Pipe()
		go func() {
			a.Write(wire)
			a.Close()
		}()
		go func() { // drain pongs
			buf := make([]byte, 256)
			for {
				if _, err := a.Read(buf); err != nil {
					return
				}
			}
		}()
		c := &wsConn{nc: b, buf: make([]byte, 64), server: server}
		for range 1000 {
			_, p, err := c.next()
			if err != nil {
				break
			}
			parseEvent(p)
		}
		b.Close()
	})
}
