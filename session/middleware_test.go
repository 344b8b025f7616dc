package session_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/session"
)

// TestWriterPassThrough: behind the Middleware a handler still has
// http.Flusher, and http.ResponseController reaches the connection.
func TestWriterPassThrough(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	h := a.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		io.WriteString(w, "b")
		if err := a.m.Refresh(w, r); err != session.ErrNoSession {
			t.Errorf("Refresh without a session: %v", err)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ab" || len(resp.TransferEncoding) == 0 {
		t.Errorf("body %q, transfer encoding %v (want chunked: flushed)", body, resp.TransferEncoding)
	}
}
