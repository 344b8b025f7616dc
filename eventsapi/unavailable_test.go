package eventsapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/eventsapi"
	"github.com/cognate-auth/cognate/storage"
)

// downKeys is an API-key store whose database cannot be reached.
type downKeys struct{}

func (downKeys) CreateAPIKey(context.Context, storage.APIKey) error { return down() }
func (downKeys) GetAPIKey(context.Context, []byte) (storage.APIKey, error) {
	return storage.APIKey{}, down()
}
func (downKeys) ListAPIKeys(context.Context) ([]storage.APIKey, error) { return nil, down() }
func (downKeys) DeleteAPIKey(context.Context, string) error            { return down() }

func down() error {
	return fmt.Errorf("dial tcp 127.0.0.1:5432: connection refused: %w", storage.ErrUnavailable)
}

// TestPublishStorageUnavailable checks that a publish whose API key
// cannot be looked up (storage down) is a 503 with Retry-After, which a
// client retries, and not a refusal of the key.
func TestPublishStorageUnavailable(t *testing.T) {
	keys := apikeys.New(downKeys{}, apikeys.Options{})
	lookup := func(ctx context.Context, key string) (time.Time, error) {
		rec, err := keys.Lookup(ctx, key)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %w", events.ErrUnavailable, err)
		}
		return rec.ExpiresAt, nil
	}
	hub, err := events.New(context.Background(), events.Config{}, events.Options{APIKeys: lookup})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	eventsapi.New(eventsapi.Options{Hub: hub, Registerer: prometheus.NewRegistry()}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
		srv.Close()
	})
	s := &server{hub: hub, srv: srv}
	status, body, hdr := s.post(t, `{"channel":"/default/room","events":["1"]}`,
		map[string]string{"x-api-key": "da2-" + "abcdefghijklmnopqrstuvwxyz"})
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") != "1" {
		t.Fatalf("status %d, Retry-After %q, body %v; want 503 with Retry-After 1", status, hdr.Get("Retry-After"), body)
	}
	if got := errorType(body); got != events.TypeInternal {
		t.Fatalf("errorType %q, want %s", got, events.TypeInternal)
	}
}
