package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cognate-auth/cognate/events"
)

// chanTransport hands each frame to a channel: a stand-in for the
// WebSocket that package eventsapi provides.
type chanTransport chan string

func (t chanTransport) WriteFrame(b []byte) error { t <- string(b); return nil }
func (t chanTransport) Flush() error              { return nil }
func (t chanTransport) Close(error)               {}

func exampleKeys(_ context.Context, key string) (time.Time, error) {
	if key != "da2-example" {
		return time.Time{}, events.ErrUnauthorized
	}
	return time.Time{}, nil // never expires
}

// A connection subscribes to every channel of the default namespace and
// receives an event published over HTTP, as one data frame whose event is
// a JSON string.
func Example() {
	ctx := context.Background()
	hub, err := events.New(ctx, events.Config{}, events.Options{APIKeys: exampleKeys})
	if err != nil {
		panic(err)
	}
	defer hub.Shutdown(ctx)
	auth := events.Headers{"x-api-key": "da2-example"}

	frames := make(chanTransport, 10)
	conn, err := hub.Connect(ctx, "203.0.113.7", auth, frames)
	if err != nil {
		panic(err)
	}
	conn.Init()
	_ = conn.Subscribe(ctx, "sub-1", "/default/*", auth)
	_, _ = hub.Publish(ctx, auth, "/default/room", []string{`{"text":"hi"}`})
	for range 4 {
		fmt.Println(<-frames)
	}
	// Output:
	// {"type":"connection_ack","connectionTimeoutMs":300000}
	// {"type":"ka"}
	// {"type":"subscribe_success","id":"sub-1"}
	// {"type":"data","id":"sub-1","event":"{\"text\":\"hi\"}"}
}

// Per-event failures are reported beside the accepted events; a refused
// request is an *Error with the protocol's errorType and an HTTP status.
func ExampleHub_Publish() {
	ctx := context.Background()
	hub, err := events.New(ctx, events.Config{}, events.Options{APIKeys: exampleKeys})
	if err != nil {
		panic(err)
	}
	defer hub.Shutdown(ctx)
	auth := events.Headers{"x-api-key": "da2-example"}

	res, _ := hub.Publish(ctx, auth, "default/room", []string{`{"ok":true}`, `not json`})
	fmt.Println(len(res.Successful), res.Failed[0].Index, res.Failed[0].Code)

	_, err = hub.Publish(ctx, auth, "/default/*", []string{`1`})
	var e *events.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Type)
	}
	_, err = hub.Publish(ctx, events.Headers{"x-api-key": "da2-wrong"}, "/default/room", []string{`1`})
	fmt.Println(errors.Is(err, events.ErrUnauthorized))
	// Output:
	// 1 1 BadRequestException
	// 400 BadRequestException
	// true
}

// Channels are normalized; "*" is a multi-level wildcard, for
// subscriptions only.
func ExampleParsePattern() {
	p, _ := events.ParsePattern("default/chat/*")
	for _, s := range []string{"/default/chat/room1", "/default/chat/room1/thread2", "/default/chat", "/default/other"} {
		ch, _ := events.ParseChannel(s)
		fmt.Println(p, ch, p.Matches(ch))
	}
	_, err := events.ParseChannel("/default/*")
	fmt.Println(errors.Is(err, events.ErrInvalidChannel))
	// Output:
	// /default/chat/* /default/chat/room1 true
	// /default/chat/* /default/chat/room1/thread2 true
	// /default/chat/* /default/chat false
	// /default/chat/* /default/other false
	// true
}

// Channel rules scope channels to the caller: here each user subscribes
// to their own /users/<sub>/… channels only, and a wildcard over all users
// is refused.
func ExampleChannelRule() {
	var cfg events.Config
	_ = json.Unmarshal([]byte(`{
	  "namespaces": [{"name": "users", "channelRules": [
	    {"channel": "/users/{sub}/*", "operations": ["SUBSCRIBE", "PUBLISH"]}
	  ]}]
	}`), &cfg)
	hub, err := events.New(context.Background(), cfg, events.Options{
		UserPool: func(_ context.Context, token string) (events.Identity, error) {
			if token != "token-of-alice" {
				return events.Identity{}, events.ErrUnauthorized
			}
			return events.Identity{Sub: "1111-aaaa", Username: "alice"}, nil
		},
	})
	if err != nil {
		panic(err)
	}
	defer hub.Shutdown(context.Background())
	alice := events.Headers{"authorization": "token-of-alice"}
	conn, _ := hub.Connect(context.Background(), "203.0.113.7", alice, make(chanTransport, 10))
	for _, ch := range []string{"/users/1111-aaaa/*", "/users/2222-bbbb/*", "/users/*"} {
		err := conn.Subscribe(context.Background(), ch, ch, alice)
		fmt.Println(ch, err == nil)
	}
	// Output:
	// /users/1111-aaaa/* true
	// /users/2222-bbbb/* false
	// /users/* false
}
