package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const apiKeyColumns = `id, hash, description, created_at, expires_at`

func scanAPIKey(r pgx.Row) (storage.APIKey, error) {
	var (
		k                storage.APIKey
		created, expires int64
	)
	if err := r.Scan(&k.ID, &k.Hash, &k.Description, &created, &expires); err != nil {
		return storage.APIKey{}, err
	}
	k.CreatedAt, k.ExpiresAt = fromMicros(created), fromMicros(expires)
	return k, nil
}

// CreateAPIKey implements storage.Storage. A taken id or hash is
// ErrAlreadyExists.
func (s *Store) CreateAPIKey(ctx context.Context, k storage.APIKey) error {
	_, err := execRows(ctx, s.q(), "create api key",
		`INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.Hash, k.Description, micros(k.CreatedAt), micros(k.ExpiresAt))
	return err
}

// GetAPIKey implements storage.Storage.
func (s *Store) GetAPIKey(ctx context.Context, hash []byte) (storage.APIKey, error) {
	return getOne(ctx, s.q(), "get api key", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1`, hash)
}

// ListAPIKeys implements storage.Storage.
func (s *Store) ListAPIKeys(ctx context.Context) ([]storage.APIKey, error) {
	return getAll(ctx, s.q(), "list api keys", scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys ORDER BY created_at, id`)
}

// DeleteAPIKey implements storage.Storage. A missing key is ErrNotFound.
func (s *Store) DeleteAPIKey(ctx context.Context, id string) error {
	return execOne(ctx, s.q(), "delete api key", `DELETE FROM api_keys WHERE id = $1`, id)
}
