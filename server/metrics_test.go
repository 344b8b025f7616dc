package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestMetricsOnlyOnMetricsListener: over real listeners, /metrics answers
// on the metrics listener and nowhere on the API's HTTP and HTTPS ones;
// /healthz answers on all three; the metrics listener serves nothing of
// the API.
func TestMetricsOnlyOnMetricsListener(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, Config{DataDir: dir})
	ls := Listeners{HTTP: listen(t), HTTPS: listen(t), Metrics: listen(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListeners(ctx, ls) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeListeners: %v", err)
		}
	}()
	tlsClient := clientTrusting(t, filepath.Join(dir, "tls", "ca.pem"))
	api := "http://" + ls.HTTP.Addr().String()
	apiTLS := "https://" + ls.HTTPS.Addr().String()
	metrics := "http://" + ls.Metrics.Addr().String()
	for _, tt := range []struct {
		client       *http.Client
		method, url  string
		status       int
		bodyContains string
	}{
		{http.DefaultClient, "GET", api + "/healthz", 200, "ok"},
		{tlsClient, "GET", apiTLS + "/healthz", 200, "ok"},
		{http.DefaultClient, "GET", api + "/metrics", 404, ""},
		{tlsClient, "GET", apiTLS + "/metrics", 404, ""},
		{http.DefaultClient, "GET", metrics + "/healthz", 200, "ok"},
		// The API's requests above are counted, the 404s included.
		{http.DefaultClient, "GET", metrics + "/metrics", 200, `cognate_http_requests_total{code="404",route="unmatched"} 2`},
		{http.DefaultClient, "GET", metrics + "/", 404, ""},
		{http.DefaultClient, "POST", metrics + "/", 404, ""},
		{http.DefaultClient, "GET", metrics + "/" + s.Pool.ID + "/.well-known/jwks.json", 404, ""},
	} {
		req, err := http.NewRequest(tt.method, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tt.client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.url, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.bodyContains) {
			t.Errorf("%s %s: %d, want %d with %q:\n%.600s", tt.method, tt.url, resp.StatusCode, tt.status, tt.bodyContains, body)
		}
	}
}

var metricsListeningRE = regexp.MustCompile(`msg=listening addr=(\S+) scheme="http \(metrics\)"`)

// TestListenAndServeMetricsAddr: ListenAndServe binds --metrics-addr and
// logs it; "off" binds nothing and refuses a metrics listener; an address
// in use fails start-up with a hint at the flag.
func TestListenAndServeMetricsAddr(t *testing.T) {
	t.Run("bound", func(t *testing.T) {
		logs := &syncBuffer{}
		s := newTestServer(t, Config{Addr: "127.0.0.1:0", TLSAddr: TLSOff, DemoAddr: DemoOff, MetricsAddr: "127.0.0.1:0",
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.ListenAndServe(ctx) }()
		var addr string
		for deadline := time.Now().Add(10 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
			if m := metricsListeningRE.FindStringSubmatch(logs.String()); m != nil {
				addr = m[1]
			} else if time.Now().After(deadline) {
				t.Fatalf("no metrics listening line in:\n%s", logs.String())
			}
		}
		if host, _, _ := net.SplitHostPort(addr); host != "127.0.0.1" {
			t.Errorf("metrics listener on %s", addr)
		}
		get(t, http.DefaultClient, "http://"+addr+"/metrics")
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("ListenAndServe: %v", err)
		}
	})
	t.Run("off", func(t *testing.T) {
		logs := &syncBuffer{}
		s := newTestServer(t, Config{Addr: "127.0.0.1:0", TLSAddr: TLSOff, DemoAddr: DemoOff, MetricsAddr: MetricsOff,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		if s.MetricsHandler() != nil {
			t.Error("a metrics handler with --metrics-addr off")
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.ListenAndServe(ctx) }()
		listeningAddrs(t, logs, 1)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("ListenAndServe: %v", err)
		}
		if strings.Contains(logs.String(), "metrics") {
			t.Errorf("a metrics listener with --metrics-addr off:\n%s", logs.String())
		}
		ln := listen(t)
		defer ln.Close()
		if err := s.ServeListeners(context.Background(), Listeners{Metrics: ln}); err == nil || !strings.Contains(err.Error(), "--metrics-addr is off") {
			t.Fatalf("metrics listener with metrics off: %v", err)
		}
	})
	t.Run("address in use", func(t *testing.T) {
		taken := listen(t)
		defer taken.Close()
		s := newTestServer(t, Config{Addr: "127.0.0.1:0", TLSAddr: TLSOff, DemoAddr: DemoOff, MetricsAddr: taken.Addr().String()})
		err := s.ListenAndServe(context.Background())
		if err == nil || !strings.Contains(err.Error(), "--metrics-addr takes another address, or off") {
			t.Fatalf("ListenAndServe with the metrics address taken: %v", err)
		}
	})
}
