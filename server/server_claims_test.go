package server

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// TestDataDirAndSecretsArePrivate: the server creates its data directory
// 0700 and every file holding a secret 0600 (admin credentials, the
// outbox and events development keys, the local CA's and server's private
// keys); with --production the development keys are never written.
func TestDataDirAndSecretsArePrivate(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	newTestServer(t, Config{DataDir: data})
	want := map[string]os.FileMode{
		"":                       0o700,
		"admin-credentials.json": 0o600,
		outboxKeyFile:            0o600,
		devKeyFile:               0o600,
		"tls/ca-key.pem":         0o600,
		"tls/key.pem":            0o600,
	}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(data, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}

	prod := filepath.Join(t.TempDir(), "prod")
	newTestServer(t, Config{DataDir: prod, Production: true, SMTPURL: "smtp://127.0.0.1:2525?from=no-reply@example.com"})
	for _, name := range []string{outboxKeyFile, devKeyFile} {
		if _, err := os.Stat(filepath.Join(prod, name)); !os.IsNotExist(err) {
			t.Errorf("production data directory has %s (%v)", name, err)
		}
	}
}

// TestPanicBecomesGeneric500: a handler that panics costs its request a
// 500 with Cognito's generic InternalErrorException and nothing of the
// panic's text; the server goes on serving.
func TestPanicBecomesGeneric500(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	mux := http.NewServeMux()
	mux.HandleFunc("/boom", func(http.ResponseWriter, *http.Request) { panic("secret internal detail") })
	mux.HandleFunc("/fine", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "test_requests_total"}, []string{"route", "code"})
	srv := httptest.NewServer(s.middleware(mux, requests))
	t.Cleanup(srv.Close)

	resp, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatalf("the panic dropped the connection: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), `"InternalErrorException"`) ||
		strings.Contains(string(body), "secret") {
		t.Fatalf("panic answered %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(srv.URL + "/fine")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("after a panic: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestBootstrapClientsRotation: the web client a first start creates has
// refresh-token rotation off, as a new Cognito client does; the demo's
// client turns it on, with the 10-second grace period the session library
// relies on across nodes, because showing rotation handled is its job.
func TestBootstrapClientsRotation(t *testing.T) {
	s := newTestServer(t, Config{DemoAddr: "127.0.0.1:3111"})
	rotation := func(clientID string) *userpool.RefreshTokenRotationType {
		t.Helper()
		out, err := s.Service().DescribeUserPoolClient(t.Context(), userpool.DescribeUserPoolClientInput{UserPoolId: s.Pool.ID, ClientId: clientID})
		if err != nil {
			t.Fatal(err)
		}
		return out.UserPoolClient.RefreshTokenRotation
	}
	if r := rotation(s.Client.ClientID); r == nil || r.Feature != "DISABLED" {
		t.Errorf("web client's rotation %+v, want DISABLED", r)
	}
	clients, err := s.store.ListClients(t.Context(), s.Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(clients, func(c storage.Client) bool { return c.Name == DemoClientName })
	if i < 0 {
		t.Fatal("no demo client")
	}
	if r := rotation(clients[i].ClientID); r == nil || r.Feature != "ENABLED" || r.RetryGracePeriodSeconds != 10 {
		t.Errorf("demo client's rotation %+v, want ENABLED with a 10 s grace", r)
	}
}

// TestHTTP1HeaderTimeout: over plain HTTP/1.1 a client that starts a
// request header and never finishes it is cut off at the header timeout;
// a complete request is answered. (HTTP/2: TestHTTP2HeaderTimeout.)
func TestHTTP1HeaderTimeout(t *testing.T) {
	s := newTestServer(t, Config{})
	if s.headerTimeout != 10*time.Second {
		t.Errorf("header timeout %v, want 10 s", s.headerTimeout)
	}
	const timeout = 400 * time.Millisecond
	s.headerTimeout = timeout
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListeners(ctx, Listeners{HTTP: ln}) }()
	t.Cleanup(func() { cancel(); <-done })

	exchange := func(request string) (time.Duration, string) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		start := time.Now()
		if _, err := io.WriteString(c, request); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		return time.Since(start), string(b)
	}
	held, got := exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
	if held < timeout*9/10 || held > timeout+2*time.Second || strings.Contains(got, "200 OK") {
		t.Fatalf("an unfinished header held the connection %v (timeout %v) and got %q", held, timeout, got)
	}
	if _, got := exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(got, "HTTP/1.1 200 OK") {
		t.Fatalf("a complete request got %q", got)
	}
}

// TestMetricsListenerDefaultsToLoopback: unless told otherwise, the
// metrics listener binds a loopback address only.
func TestMetricsListenerDefaultsToLoopback(t *testing.T) {
	c := Config{DataDir: t.TempDir(), Out: io.Discard}
	if err := c.setDefaults(); err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(c.MetricsAddr)
	if ip, perr := netip.ParseAddr(host); err != nil || perr != nil || !ip.IsLoopback() {
		t.Fatalf("default metrics address %q is not a loopback address", c.MetricsAddr)
	}
}
