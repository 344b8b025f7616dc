package mail

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

// TestSendEndsWithItsContext: a relay that accepts the connection and
// never answers holds Send only until its context is cancelled; Send then returns
// an error and the relay sees the connection closed.
func TestSendEndsWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	closed := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		// Say nothing; wait for the client to give up.
		_, err = io.Copy(io.Discard, c)
		closed <- err
	}()
	m, err := NewSMTP("smtp://"+ln.Addr().String()+"?from=no-reply@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Cancelled, not timed out: no deadline reaches the connection, so
	// only the cancellation can end the wait (Send's own timeout is 30 s).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	err = m.Send(ctx, userpool.Delivery{Destination: "ann@example.com", Kind: userpool.KindSignUp, Code: "123456"})
	if err == nil {
		t.Fatal("Send succeeded against a relay that never answered")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Send returned %v after its context ended", d)
	}
	select {
	case err := <-closed:
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Logf("relay read ended with %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the connection to the relay is still open")
	}
}
