package sqlite

import (
	"context"
	"fmt"
)

// Ping reads the database file's header through the read pool: it fails
// when the file cannot be read (a closed Store, a lost disk), within ctx.
// Readiness checks use it, through an optional interface of their own.
func (s *Store) Ping(ctx context.Context) error {
	var v int64
	if err := s.reads().QueryRowContext(ctx, "PRAGMA schema_version").Scan(&v); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}
