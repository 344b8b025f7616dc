package servicetest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestPostgresGivesEachTestItsOwnDatabase(t *testing.T) {
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
	ctx := context.Background()
	for _, u := range []string{a, b} {
		c, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		if n != 0 {
			t.Errorf("%s: fresh database has %d tables", u, n)
		}
	}
}

func TestUniqueNames(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		u := Unique()
		if seen[u] || len(u) != 17 {
			t.Fatalf("Unique gave %q", u)
		}
		seen[u] = true
	}
}
