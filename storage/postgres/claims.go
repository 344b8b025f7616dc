package postgres

import (
	"context"
	"time"
)

// ClaimOnce implements storage.Storage. The insert of a key another
// transaction has inserted but not committed waits for it, then does
// nothing if it committed: the row count tells the first claimer from
// every other, on any connection or node.
func (s *Store) ClaimOnce(ctx context.Context, key []byte, expiresAt time.Time) (bool, error) {
	n, err := execRows(ctx, s.q(), "claim once",
		`INSERT INTO one_time_claims (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
		key, micros(expiresAt))
	return n == 1, err
}
