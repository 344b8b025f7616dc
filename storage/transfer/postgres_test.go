package transfer_test

import (
	"testing"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/postgres"
)

// TestCopySQLiteToPostgres copies into a fresh PostgreSQL database of its
// own; it skips without PostgreSQL (fails under
// COGNATE_REQUIRE_SERVICES=1).
func TestCopySQLiteToPostgres(t *testing.T) {
	testCopy(t, func(t *testing.T) storage.Storage {
		s, err := postgres.Open(t.Context(), servicetest.Postgres(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
