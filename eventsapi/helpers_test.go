package eventsapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/eventsapi"
)

// Test credentials the hub accepts: two API keys and user-pool tokens.
const (
	apiKey  = "da2-testkey"
	apiKey2 = "da2-testkey2"
)

var users = map[string]events.Identity{
	"tok-alice": {Sub: "alice-sub", Username: "alice", Claims: map[string]any{"iss": "https://cognate.test/pool"}},
	"tok-bob":   {Sub: "bob-sub", Username: "bob", Claims: map[string]any{"iss": "https://cognate.test/pool"}},
}

func apiKeys(_ context.Context, key string) (time.Time, error) {
	if key == apiKey || key == apiKey2 {
		return time.Time{}, nil
	}
	return time.Time{}, events.ErrUnauthorized
}

// userPool accepts tok-<user>, and short-<user>, which expires 300 ms
// after it is checked.
func userPool(_ context.Context, tok string) (events.Identity, error) {
	if name, ok := strings.CutPrefix(tok, "short-"); ok {
		id, ok := users["tok-"+name]
		if !ok {
			return events.Identity{}, events.ErrUnauthorized
		}
		id.Expires = time.Now().Add(300 * time.Millisecond)
		return id, nil
	}
	if id, ok := users[tok]; ok {
		return id, nil
	}
	return events.Identity{}, errors.New("invalid token")
}

// testConfig has an open default namespace and a users namespace where
// each user owns /users/<sub>/….
const testConfig = `{
  "namespaces": [
    {"name": "default"},
    {"name": "users", "channelRules": [{"channel": "/users/{sub}/*", "operations": ["SUBSCRIBE", "PUBLISH"]}]}
  ]
}`

type server struct {
	hub *events.Hub
	srv *httptest.Server
	reg *prometheus.Registry
}

func newServer(t *testing.T, edit func(*events.Config), origins ...string) *server {
	t.Helper()
	return newServerWith(t, edit, eventsapi.Options{AllowedOrigins: origins})
}

// newServerWith is newServer with the handler's options; Hub and
// Registerer are filled in.
func newServerWith(t *testing.T, edit func(*events.Config), opts eventsapi.Options) *server {
	t.Helper()
	var cfg events.Config
	if err := json.Unmarshal([]byte(testConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	hub, err := events.New(context.Background(), cfg, events.Options{APIKeys: apiKeys, UserPool: userPool})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	mux := http.NewServeMux()
	opts.Hub, opts.Registerer = hub, reg
	eventsapi.New(opts).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
		srv.Close()
	})
	return &server{hub: hub, srv: srv, reg: reg}
}

func (s *server) wsURL() string {
	return "ws" + strings.TrimPrefix(s.srv.URL, "http") + eventsapi.RealtimePath
}

// headerProtocol is Amplify's auth subprotocol: base64url JSON, no padding.
func headerProtocol(h map[string]string) string {
	b, _ := json.Marshal(h)
	return "header-" + base64.RawURLEncoding.EncodeToString(b)
}

func keyAuth() map[string]string { return map[string]string{"host": "localhost", "x-api-key": apiKey} }

func tokenAuth(tok string) map[string]string {
	return map[string]string{"host": "localhost", "Authorization": tok}
}

// client is a coder/websocket client speaking the protocol.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (s *server) dial(t *testing.T, opts *websocket.DialOptions) (*client, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, s.wsURL(), opts)
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(-1)
	t.Cleanup(func() { _ = ws.CloseNow() })
	return &client{t: t, ws: ws}, resp, nil
}

// connect dials with the API key in the header subprotocol and does the
// connection_init handshake.
func (s *server) connect(t *testing.T, auth map[string]string) *client {
	t.Helper()
	c, _, err := s.dial(t, &websocket.DialOptions{Subprotocols: []string{eventsapi.Subprotocol, headerProtocol(auth)}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.send(`{"type":"connection_init"}`)
	c.expect("connection_ack")
	c.expect("ka")
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *client) sendJSON(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.send(string(b))
}

// frame is a server message.
type frame struct {
	Type                string           `json:"type"`
	ID                  string           `json:"id"`
	Event               json.RawMessage  `json:"event"`
	ConnectionTimeoutMs int64            `json:"connectionTimeoutMs"`
	Successful          []map[string]any `json:"successful"`
	Failed              []map[string]any `json:"failed"`
	Errors              []struct {
		ErrorType string `json:"errorType"`
		ErrorCode int    `json:"errorCode"`
		Message   string `json:"message"`
	} `json:"errors"`
	raw string
}

func (f frame) errType() string {
	if len(f.Errors) == 0 {
		return ""
	}
	return f.Errors[0].ErrorType
}

// event is a data frame's event, which must be a JSON string.
func (f frame) event(t *testing.T) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(f.Event, &s); err != nil {
		t.Fatalf("data event %s is not a JSON string", f.Event)
	}
	return s
}

// read returns the next frame, or the read error.
func (c *client) read(timeout time.Duration) (frame, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, b, err := c.ws.Read(ctx)
	if err != nil {
		return frame{}, err
	}
	if typ != websocket.MessageText {
		return frame{}, fmt.Errorf("binary frame %q", b)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("frame %s: %w", b, err)
	}
	f.raw = string(b)
	return f, nil
}

// expect reads the next frame, skipping ka unless ka is expected, and
// checks its type.
func (c *client) expect(typ string) frame {
	c.t.Helper()
	for {
		f, err := c.read(5 * time.Second)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", typ, err)
		}
		if f.Type == "ka" && typ != "ka" {
			continue
		}
		if f.Type != typ {
			c.t.Fatalf("got %s, want %s", f.raw, typ)
		}
		return f
	}
}

func (c *client) subscribe(id, channel string, auth map[string]string) {
	c.t.Helper()
	c.sendJSON(map[string]any{"type": "subscribe", "id": id, "channel": channel, "authorization": auth})
	if f := c.expect("subscribe_success"); f.ID != id {
		c.t.Fatalf("subscribe_success for %q, want %q", f.ID, id)
	}
}

// closed waits for the server to close the connection and returns the
// close status.
func (c *client) closed() websocket.StatusCode {
	c.t.Helper()
	for {
		_, err := c.read(5 * time.Second)
		if err != nil {
			if s := websocket.CloseStatus(err); s != -1 {
				return s
			}
			c.t.Fatalf("connection ended without a close frame: %v", err)
		}
	}
}

// post publishes over HTTP and returns the status and decoded body.
func (s *server) post(t *testing.T, body string, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.srv.URL+eventsapi.PublishPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("content-type", "application/json; charset=UTF-8")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out, resp.Header
}

// errorType is an HTTP error body's first errorType.
func errorType(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	s, _ := e["errorType"].(string)
	return s
}
