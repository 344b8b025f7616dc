package sqlite

import (
	"context"
	"errors"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

const keyColumns = `id, pool_id, key_use, algorithm, private_key_der, created_at`

func scanKey(sc scanner) (storage.SigningKey, error) {
	var (
		k       storage.SigningKey
		created int64
	)
	if err := sc.Scan(&k.ID, &k.PoolID, &k.Use, &k.Algorithm, &k.PrivateKeyDER, &created); err != nil {
		return k, err
	}
	k.CreatedAt = fromMicros(created)
	return k, nil
}

// CreateSigningKey implements storage.Storage. A missing pool is
// ErrNotFound.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	_, err := execRows(ctx, s.writes(), "create signing key",
		`INSERT INTO signing_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.PoolID, k.Use, k.Algorithm, k.PrivateKeyDER, micros(k.CreatedAt))
	return err
}

// AddMissingSigningKeys implements storage.Storage.
func (s *Store) AddMissingSigningKeys(ctx context.Context, keys []storage.SigningKey) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx *Store) error {
		added = 0
		for _, k := range keys {
			var n int
			err := tx.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM signing_keys WHERE pool_id = ? AND key_use = ?`,
				k.PoolID, k.Use).Scan(&n)
			if err != nil {
				return wrap("add signing keys", err)
			}
			if n > 0 {
				continue
			}
			if err := tx.CreateSigningKey(ctx, k); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	return added, err
}

// ListSigningKeys implements storage.Storage. Keys created in the same
// microsecond order by ID, descending.
func (s *Store) ListSigningKeys(ctx context.Context, poolID string) ([]storage.SigningKey, error) {
	return getAll(ctx, s.reads(), "list signing keys", scanKey,
		`SELECT `+keyColumns+` FROM signing_keys WHERE pool_id = ? ORDER BY created_at DESC, id DESC`, poolID)
}

// GetOrCreateSecret implements storage.Storage. gen runs outside any
// write lock, so concurrent first callers may each call it; the first
// insert wins and every caller returns the stored value. gen's error is
// returned unchanged.
func (s *Store) GetOrCreateSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	v, err := getSecret(ctx, s.reads(), name)
	if !errors.Is(err, storage.ErrNotFound) {
		return v, err
	}
	fresh, err := gen()
	if err != nil {
		return nil, err
	}
	err = s.inTx(ctx, func(tx *Store) error {
		if _, err := execRows(ctx, tx.tx, "create secret",
			`INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return err
		}
		v, err = getSecret(ctx, tx.tx, name)
		return err
	})
	return v, err
}

func getSecret(ctx context.Context, q querier, name string) ([]byte, error) {
	return getOne(ctx, q, "get secret", func(sc scanner) ([]byte, error) {
		var v []byte
		return v, sc.Scan(&v)
	}, `SELECT value FROM secrets WHERE name = ?`, name)
}

// GarbageCollect implements storage.Storage. A record expires once its
// ExpiresAt is before now; a zero ExpiresAt never expires. Tokens of an
// expired family are deleted (and counted) with it. A rate-limit bucket
// goes once its tat has passed, when it is full again.
func (s *Store) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var r storage.GCResult
	at := micros(now)
	err := s.inTx(ctx, func(tx *Store) error {
		var err error
		if r.Attempts, err = execRows(ctx, tx.tx, "gc attempts",
			`DELETE FROM attempts WHERE expires_at <> 0 AND expires_at < ?`, at); err != nil {
			return err
		}
		if r.Messages, err = execRows(ctx, tx.tx, "gc messages",
			`DELETE FROM messages WHERE done_at <> 0 AND done_at < ?`, micros(now.Add(-storage.MessageRetention))); err != nil {
			return err
		}
		if r.Codes, err = execRows(ctx, tx.tx, "gc codes",
			`DELETE FROM codes WHERE expires_at <> 0 AND expires_at < ?`, at); err != nil {
			return err
		}
		if r.AuthCodes, err = execRows(ctx, tx.tx, "gc auth codes",
			`DELETE FROM auth_codes WHERE expires_at <> 0 AND expires_at < ?`, at); err != nil {
			return err
		}
		if r.LoginSessions, err = execRows(ctx, tx.tx, "gc login sessions",
			`DELETE FROM login_sessions WHERE expires_at <> 0 AND expires_at < ?`, at); err != nil {
			return err
		}
		if r.RefreshTokens, err = execRows(ctx, tx.tx, "gc refresh tokens",
			`DELETE FROM refresh_tokens WHERE (expires_at <> 0 AND expires_at < ?)
			OR family_id IN (SELECT id FROM refresh_families WHERE expires_at <> 0 AND expires_at < ?)`, at, at); err != nil {
			return err
		}
		if r.RefreshFamilies, err = execRows(ctx, tx.tx, "gc refresh families",
			`DELETE FROM refresh_families WHERE expires_at <> 0 AND expires_at < ?`, at); err != nil {
			return err
		}
		if r.Claims, err = execRows(ctx, tx.tx, "gc claims", `DELETE FROM one_time_claims WHERE expires_at <> 0 AND expires_at < ?`, at); err != nil {
			return err
		}
		r.RateLimits, err = execRows(ctx, tx.tx, "gc rate limits", `DELETE FROM rate_limits WHERE tat < ?`, at)
		return err
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	return r, nil
}
