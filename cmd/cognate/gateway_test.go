package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGatewayHelp(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"gateway", "--help"}, &out, &errb)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"usage: cognate gateway", "-upstream", "-public-paths", "-group", "-alb-headers", "-trusted-proxies", "COGNATE_"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("help lacks %q", want)
		}
	}
	if err := run(context.Background(), []string{"help"}, &out, &errb); err != nil || !strings.Contains(out.String(), "gateway") {
		t.Fatalf("top-level usage does not list gateway: %v %s", err, out.String())
	}
}

func TestGatewayBadFlags(t *testing.T) {
	base := []string{"--upstream", "http://127.0.0.1:1", "--origin", "http://localhost:4180", "--client-id", "abc", "--user-pool-id", "us-east-1_x", "--listen", "127.0.0.1:0", "--metrics-addr", "off"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no upstream", []string{"--origin", "http://x", "--client-id", "a", "--user-pool-id", "us-east-1_x"}, "--upstream is required"},
		{"no pool", []string{"--upstream", "http://x", "--origin", "http://x", "--client-id", "a"}, "--user-pool-id"},
		{"bad upstream", append(base, "--upstream", "ftp://x"), "upstream"},
		{"bad mode", append(base, "--mode", "bff"), "--mode"},
		{"bad group rule", append(base, "--group", "admin"), "group=/path"},
		{"bad rule path", append(base, "--public-paths", "/a/../b"), "--public-paths"},
		{"bad proxies", append(base, "--trusted-proxies", "10.0.0.0/33"), "--trusted-proxies"},
		{"bad same-site", append(base, "--cookie-same-site", "sometimes"), "--cookie-same-site"},
		{"bad prefix", append(base, "--identity-headers", "Sec-"), "prefix"},
		{"bad origin", append(base, "--origin", "localhost"), "Origin"},
		{"stray argument", append(base, "extra"), "unexpected argument"},
		{"unknown flag", append(base, "--frobnicate"), "frobnicate"},
		{"bff in client mode", append(base, "--bff", "--mode", "client", "--data", t.TempDir()), "server mode"},
		{"bad session store", append(base, "--bff", "--session-store", "memcached://x"), "--session-store"},
		{"shared store without a key", append(base, "--bff", "--session-store", "redis://127.0.0.1:1"), "--secret-key-file"},
		{"session store without bff", append(base, "--session-store", "s.db"), "--bff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(t.Context(), append([]string{"gateway"}, tt.args...), &out, &errb)
			if err == nil || !strings.Contains(err.Error()+errb.String(), tt.want) {
				t.Fatalf("err = %v, stderr %q; want %q", err, errb.String(), tt.want)
			}
		})
	}
}

// syncBuffer is written by the gateway's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestGatewayServes(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app saw user="+r.Header.Get("X-Id-User"))
	}))
	defer app.Close()
	t.Setenv("COGNATE_PUBLIC_PATHS", "/")
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gateway", "--upstream", app.URL, "--origin", "http://localhost", "--client-id", "abc",
			"--user-pool-id", "us-east-1_x", "--listen", "127.0.0.1:0", "--metrics-addr", "off", "--identity-headers", "X-Id-"}, &out, io.Discard)
	}()
	re := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("gateway did not start: %s", out.String())
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/x", nil)
	req.Header.Set("X-Id-User", "mallory")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "app saw user=" {
		t.Fatalf("got %q", body)
	}
	if resp, err := http.Get(base + "/_gateway/health"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway ended with %v", err)
	}
}

func TestGatewayBFF(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "app saw cookies="+r.Header.Get("Cookie"))
	}))
	defer app.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"gateway", "--bff", "--data", dir, "--upstream", app.URL, "--origin", "http://localhost", "--client-id", "abc",
			"--user-pool-id", "us-east-1_x", "--listen", "127.0.0.1:0", "--metrics-addr", "off", "--public-paths", "/"}, &out, io.Discard)
	}()
	re := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+)`)
	var base string
	for deadline := time.Now().Add(5 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("gateway did not start: %s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "gateway-sessions.db")); err != nil {
		t.Fatalf("the default session store: %v", err)
	}
	// An unknown session: signed out, its cookie expired, the id kept
	// from the app.
	req, _ := http.NewRequest(http.MethodGet, base+"/x", nil)
	req.Header.Set("Cookie", "theme=dark; cognate.session="+strings.Repeat("A", 43))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "app saw cookies=theme=dark" || !strings.HasPrefix(resp.Header.Get("Set-Cookie"), "cognate.session=;") {
		t.Fatalf("got %q, Set-Cookie %q", body, resp.Header.Get("Set-Cookie"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("gateway ended with %v", err)
	}
}
