package session_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// TestInProcess: the in-process client copies bodies both ways, answers
// HEAD without a body, honours cancellation and reports a panic as an
// error.
func TestInProcess(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusAccepted)
		io.Copy(w, r.Body)
		w.Header().Set("X-Late", "ignored")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	c := session.InProcess(mux)

	resp, err := c.Post("http://in.process/echo", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || string(body) != "hello" || resp.Header.Get("X-Method") != "POST" ||
		resp.Header.Get("X-Late") != "" || resp.ContentLength != 5 {
		t.Errorf("echo: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, err = c.Head("http://in.process/echo")
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("HEAD: %v", err)
	}
	if n, _ := io.Copy(io.Discard, resp.Body); n != 0 {
		t.Errorf("HEAD answered with a body")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://in.process/slow", nil)
	start := time.Now()
	if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("cancelled call: %v after %s", err, time.Since(start))
	}
	if _, err := c.Get("http://in.process/panic"); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("panicking handler: %v", err)
	}
}
