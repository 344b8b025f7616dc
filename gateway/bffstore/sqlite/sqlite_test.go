package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/cognate-auth/cognate/gateway/bffstore"
	"github.com/cognate-auth/cognate/gateway/bffstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Open {
		path := filepath.Join(t.TempDir(), "sessions.db")
		return func(t *testing.T) bffstore.Store {
			s, err := Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "x.db?mode=memory"} {
		if _, err := Open(context.Background(), p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}
