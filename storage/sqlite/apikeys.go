package sqlite

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

const apiKeyColumns = `id, hash, description, created_at, expires_at`

func scanAPIKey(sc scanner) (storage.APIKey, error) {
	var (
		k                storage.APIKey
		created, expires int64
	)
	if err := sc.Scan(&k.ID, &k.Hash, &k.Description, &created, &expires); err != nil {
		return k, err
	}
	k.CreatedAt, k.ExpiresAt = fromMicros(created), fromMicros(expires)
	return k, nil
}

// CreateAPIKey implements storage.Storage. A taken id or hash is
// ErrAlreadyExists.
func (s *Store) CreateAPIKey(ctx context.Context, k storage.APIKey) error {
	_, err := execRows(ctx, s.writes(), "create api key",
		`INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Hash, k.Description, micros(k.CreatedAt), micros(k.ExpiresAt))
	return err
}

// GetAPIKey implements storage.Storage.
func (s *Store) GetAPIKey(ctx context.Context, hash []byte) (storage.APIKey, error) {
	return getOne(ctx, s.reads(), "get api key", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = ?`, hash)
}

// ListAPIKeys implements storage.Storage.
func (s *Store) ListAPIKeys(ctx context.Context) ([]storage.APIKey, error) {
	return getAll(ctx, s.reads(), "list api keys", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
}

// DeleteAPIKey implements storage.Storage. A missing key is ErrNotFound.
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	return execOne(ctx, s.writes(), "delete api key", `DELETE FROM api_keys WHERE id = ?`, id)
}
