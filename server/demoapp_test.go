package server

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The demo runs on its own listener next to the API, with an app client
// whose callback and logout URLs follow --demo-addr across restarts; a
// production server has no demo and refuses a demo listener.
func TestDemoListenerAndClient(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, Config{DataDir: dir, DemoAddr: "127.0.0.1:3111"})
	if s.DemoHandler() == nil {
		t.Fatal("no demo handler")
	}
	api, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	demoLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ServeListeners(ctx, Listeners{HTTP: api, Demo: demoLn}) }()
	resp, err := http.Get("http://" + demoLn.Addr().String() + "/")
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("demo home: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ServeListeners after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ServeListeners did not return")
	}

	demoClient := func(s *Server) []string {
		t.Helper()
		clients, err := s.store.ListClients(context.Background(), s.Pool.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range clients {
			if c.Name == DemoClientName {
				return append(c.Settings.CallbackURLs, c.Settings.LogoutURLs...)
			}
		}
		t.Fatal("no demo client")
		return nil
	}
	if got := strings.Join(demoClient(s), " "); got != "http://localhost:3111/api/auth/sign-in-callback http://localhost:3111/api/auth/sign-out-callback" {
		t.Fatalf("demo client URLs = %s", got)
	}
	s.Close()
	moved := newTestServer(t, Config{DataDir: dir, DemoAddr: "127.0.0.1:3222"})
	if got := demoClient(moved); !strings.HasPrefix(got[0], "http://localhost:3222/") {
		t.Fatalf("after moving the demo, URLs = %v", got)
	}

	prod := newTestServer(t, Config{DataDir: filepath.Join(t.TempDir(), "p"), Production: true, SMTPURL: "smtp://127.0.0.1:1?from=ops@example.com"})
	if prod.DemoHandler() != nil {
		t.Fatal("production server has a demo")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	if err := prod.ServeListeners(context.Background(), Listeners{Demo: ln}); err == nil {
		t.Fatal("production server served a demo listener")
	}
}
