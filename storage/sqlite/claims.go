package sqlite

import (
	"context"
	"time"
)

// sqlClaimOnce inserts the claim unless the key is taken; the row count
// tells the first claimer from the others. The single writer connection
// makes the statement atomic against every other claimer of this file,
// and SQLite's file lock against other processes.
const sqlClaimOnce = `INSERT INTO one_time_claims (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`

// ClaimOnce implements storage.Storage.
func (s *Store) ClaimOnce(ctx context.Context, key []byte, expiresAt time.Time) (bool, error) {
	n, err := execRows(ctx, s.writes(), "claim once", sqlClaimOnce, key, micros(expiresAt))
	return n == 1, err
}
