package eventsapi_test

// Tests that back claims of docs/SECURITY.md which no other test proves.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/eventsapi"
)

// TestOversizedMessageCloses1009: a WebSocket message over
// MaxMessageBytes ends the connection with 1009 (message too big); one at
// the limit is read and answered.
func TestOversizedMessageCloses1009(t *testing.T) {
	s := newServer(t, nil)
	pad := func(n int) string {
		head := `{"type":"publish","id":"p","channel":"/default/a","events":["1"],"authorization":{"x-api-key":"` + apiKey + `"},"pad":"`
		return head + strings.Repeat("x", n-len(head)-2) + `"}`
	}
	ok := s.connect(t, keyAuth())
	ok.send(pad(eventsapi.MaxMessageBytes))
	if f := ok.expect("publish_success"); f.ID != "p" {
		t.Fatalf("at the limit: %s", f.raw)
	}
	over := s.connect(t, keyAuth())
	over.send(pad(eventsapi.MaxMessageBytes + 1))
	if code := over.closed(); code != websocket.StatusMessageTooBig {
		t.Fatalf("close status %v, want 1009", code)
	}
}

// TestCookiesNeverAuthorize: a WebSocket upgrade whose only credentials
// are cookies (a cross-site page's socket would carry the victim's) is
// refused as unauthenticated, whatever the cookies hold.
func TestCookiesNeverAuthorize(t *testing.T) {
	s := newServer(t, nil)
	h := http.Header{"Cookie": {"x-api-key=" + apiKey + "; Authorization=tok-alice; CognitoIdentityServiceProvider.c.alice.accessToken=tok-alice"}}
	c, _, err := s.dial(t, &websocket.DialOptions{Subprotocols: []string{eventsapi.Subprotocol}, HTTPHeader: h})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	f := c.expect("connection_error")
	if f.errType() != events.TypeUnauthorized {
		t.Fatalf("connection_error %s, want %s", f.raw, events.TypeUnauthorized)
	}
	if code := c.closed(); code != websocket.StatusPolicyViolation {
		t.Fatalf("close status %v", code)
	}
}
