package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/events"
)

// Test credentials: API keys and user-pool tokens the hub's Options
// functions accept.
const (
	goodKey    = "da2-goodkey"
	otherKey   = "da2-otherkey"
	expiredKey = "da2-expired"
)

// users are the test user pool: token → identity. Tokens starting with
// "expired-" are expired; "short-<user>" expires shortLife from issue.
var users = map[string]events.Identity{
	"tok-alice": {Sub: "alice-sub", Username: "alice", Claims: map[string]any{"iss": "https://cognate.test/pool_A", "client_id": "web", "tenant": "acme"}},
	"tok-bob":   {Sub: "bob-sub", Username: "bob", Claims: map[string]any{"iss": "https://cognate.test/pool_A", "client_id": "web", "tenant": "a/b"}},
	"tok-admin": {Sub: "admin-sub", Username: "root", Groups: []string{"admin"}, Claims: map[string]any{"iss": "https://cognate.test/pool_A"}},
}

const shortLife = 300 * time.Millisecond

func apiKeys(_ context.Context, key string) (time.Time, error) {
	switch key {
	case goodKey, otherKey:
		return time.Time{}, nil
	case expiredKey:
		return time.Now().Add(-time.Minute), nil
	}
	return time.Time{}, fmt.Errorf("unknown key: %w", events.ErrUnauthorized)
}

func userPool(_ context.Context, token string) (events.Identity, error) {
	if name, ok := strings.CutPrefix(token, "expired-"); ok && users["tok-"+name].Sub != "" {
		return events.Identity{}, fmt.Errorf("%s: %w", name, events.ErrTokenExpired)
	}
	if name, ok := strings.CutPrefix(token, "short-"); ok {
		id, ok := users["tok-"+name]
		if !ok {
			return events.Identity{}, events.ErrUnauthorized
		}
		id.Expires = time.Now().Add(shortLife)
		return id, nil
	}
	id, ok := users[token]
	if !ok {
		return events.Identity{}, errors.New("invalid token")
	}
	return id, nil
}

func newHub(t testing.TB, cfg events.Config) *events.Hub {
	t.Helper()
	h, err := events.New(context.Background(), cfg, events.Options{APIKeys: apiKeys, UserPool: userPool})
	if err != nil {
		t.Fatalf("events.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return h
}

func key() events.Headers             { return events.Headers{"x-api-key": goodKey} }
func token(tok string) events.Headers { return events.Headers{"Authorization": tok} }

// transport records frames; with block set, WriteFrame waits until the
// test closes it (a client that stopped reading).
type transport struct {
	mu     sync.Mutex
	frames []string
	reason error
	closed chan struct{}
	more   chan struct{}
	block  chan struct{}
}

func newTransport() *transport {
	return &transport{closed: make(chan struct{}), more: make(chan struct{}, 1)}
}

func (t *transport) WriteFrame(b []byte) error {
	if t.block != nil {
		select {
		case <-t.block:
		case <-t.closed:
			return errors.New("closed")
		}
	}
	t.mu.Lock()
	t.frames = append(t.frames, string(b))
	t.mu.Unlock()
	select {
	case t.more <- struct{}{}:
	default:
	}
	return nil
}

func (t *transport) Flush() error { return nil }

func (t *transport) Close(reason error) {
	t.mu.Lock()
	t.reason = reason
	t.mu.Unlock()
	close(t.closed)
}

func (t *transport) snapshot() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.frames...)
}

// frame is a decoded server message.
type frame struct {
	Type                string           `json:"type"`
	ID                  string           `json:"id"`
	Event               *string          `json:"event"`
	ConnectionTimeoutMs int64            `json:"connectionTimeoutMs"`
	Successful          []map[string]any `json:"successful"`
	Failed              []map[string]any `json:"failed"`
	Errors              []wireError      `json:"errors"`
}

type wireError struct {
	ErrorType string `json:"errorType"`
	ErrorCode int    `json:"errorCode"`
	Message   string `json:"message"`
}

// errType is the first error's type, or "".
func (f frame) errType() string {
	if len(f.Errors) == 0 {
		return ""
	}
	return f.Errors[0].ErrorType
}

// wait returns the first frame at or after index from that satisfies
// match, and its index.
func (t *transport) wait(tb testing.TB, from int, match func(frame) bool) (frame, int) {
	tb.Helper()
	deadline := time.After(5 * time.Second)
	next := from
	for {
		frames := t.snapshot()
		for ; next < len(frames); next++ {
			var f frame
			if err := json.Unmarshal([]byte(frames[next]), &f); err != nil {
				tb.Fatalf("frame %d is not JSON: %s", next, frames[next])
			}
			if match(f) {
				return f, next
			}
		}
		select {
		case <-t.more:
		case <-deadline:
			tb.Fatalf("no matching frame in %d frames; the last: %q", len(frames), frames[max(0, len(frames)-3):])
		}
	}
}

func ofType(typ string) func(frame) bool { return func(f frame) bool { return f.Type == typ } }

func (t *transport) waitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-t.closed:
	case <-time.After(5 * time.Second):
		tb.Fatal("transport not closed")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reason
}

func connect(t testing.TB, h *events.Hub) (*events.Conn, *transport) {
	t.Helper()
	tr := newTransport()
	c, err := h.Connect(context.Background(), "", key(), tr)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(c.Close)
	return c, tr
}

func subscribe(t testing.TB, c *events.Conn, id, channel string, auth events.Headers) {
	t.Helper()
	if err := c.Subscribe(context.Background(), id, channel, auth); err != nil {
		t.Fatalf("Subscribe(%s): %v", channel, err)
	}
}

// inOrder waits for event n-1 and checks that the data frames carried
// the events "0" to "n-1", each once and in order.
func (t *transport) inOrder(tb testing.TB, n int) {
	tb.Helper()
	t.wait(tb, 0, func(f frame) bool { return f.Type == "data" && *f.Event == fmt.Sprint(n-1) })
	next := 0
	for _, s := range t.snapshot() {
		if !strings.Contains(s, `"type":"data"`) {
			continue
		}
		if want := fmt.Sprintf(`"event":"%d"}`, next); !strings.HasSuffix(s, want) {
			tb.Fatalf("event %d: got %s", next, s)
		}
		next++
	}
	if next != n {
		tb.Fatalf("got %d events, want %d", next, n)
	}
}
