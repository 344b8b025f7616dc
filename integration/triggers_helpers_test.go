package integration_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/triggers"
)

// hookTimeout is the webhook timeout of the trigger tests' servers: short,
// so that a webhook that never answers fails the request quickly.
const hookTimeout = 400 * time.Millisecond

// hookEnv is a server whose trigger webhooks are handlers of a test
// server; every event received is checked for its signature and kept.
type hookEnv struct {
	*env
	hooks *httptest.Server

	mu       sync.Mutex
	handlers map[string]hookHandler
	events   []hookEvent
	badSigs  int
}

// hookEvent is one received event, decoded, with its trigger path.
type hookEvent struct {
	path string
	ev   map[string]any
}

// hookHandler answers one event: it may change ev's response and return
// false (the event is sent back), or write an answer of its own to w and
// return true.
type hookHandler func(w http.ResponseWriter, ev map[string]any) bool

func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	h := &hookEnv{env: newEnvWith(t, server.Config{WebhookTimeout: hookTimeout}), handlers: map[string]hookHandler{}}
	h.hooks = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.hooks.Close)
	return h
}

// on sets the handler of a trigger path ("/preSignUp", …).
func (h *hookEnv) on(path string, fn hookHandler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handlers[path] = fn
}

func (h *hookEnv) url(path string) *string { return aws.String(h.hooks.URL + path) }

func (h *hookEnv) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "not JSON", http.StatusBadRequest)
		return
	}
	pool, _ := ev["userPoolId"].(string)
	key, err := h.srv.Service().WebhookSecret(h.ctx, pool)
	h.mu.Lock()
	if err != nil || triggers.Verify(key, r.Header.Get(triggers.HeaderTimestamp), r.Header.Get(triggers.HeaderSignature), body, time.Now()) != nil {
		h.badSigs++
	}
	var kept map[string]any // as received, whatever the handler changes
	json.Unmarshal(body, &kept)
	h.events = append(h.events, hookEvent{path: r.URL.Path, ev: kept})
	fn := h.handlers[r.URL.Path]
	h.mu.Unlock()
	if fn != nil && fn(w, ev) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ev)
}

// received returns the events of a path received so far, and fails the
// test if any request was badly signed.
func (h *hookEnv) received(path string) []map[string]any {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.badSigs > 0 {
		h.t.Fatalf("%d webhook requests failed signature verification", h.badSigs)
	}
	var out []map[string]any
	for _, e := range h.events {
		if e.path == path {
			out = append(out, e.ev)
		}
	}
	return out
}

// last is the last event of a path.
func (h *hookEnv) last(path string) map[string]any {
	h.t.Helper()
	evs := h.received(path)
	if len(evs) == 0 {
		h.t.Fatalf("no event reached %s", path)
	}
	return evs[len(evs)-1]
}

// triggerPool creates a pool (usernames, email attribute verified by
// code) with lc and a client allowing every flow; it returns both ids.
func (h *hookEnv) triggerPool(lc *types.LambdaConfigType) (pool, client string) {
	h.t.Helper()
	out := must(h.api.CreateUserPool(h.ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("triggers"), AutoVerifiedAttributes: []types.VerifiedAttributeType{types.VerifiedAttributeTypeEmail},
		LambdaConfig: lc,
	}))(h.t)
	pool = aws.ToString(out.UserPool.Id)
	client, _ = h.newClient(pool, func(in *cip.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = append(in.ExplicitAuthFlows, types.ExplicitAuthFlowsTypeAllowCustomAuth)
	})
	return pool, client
}

// response is ev's response member, created if absent.
func response(ev map[string]any) map[string]any {
	r, ok := ev["response"].(map[string]any)
	if !ok {
		r = map[string]any{}
		ev["response"] = r
	}
	return r
}

// path walks nested maps of a decoded event.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
