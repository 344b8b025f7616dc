package postgres

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const keyColumns = `id, pool_id, key_use, algorithm, private_key_der, created_at`

// keyLockSpace is the first half of the two-part advisory lock keys that
// AddMissingSigningKeys takes, one per pool and use: "keys" in ASCII. It
// differs from the high half of migrationLockKey, so the two never meet.
const keyLockSpace int32 = 0x6b657973

func scanKey(r pgx.Row) (storage.SigningKey, error) {
	var (
		k       storage.SigningKey
		created int64
	)
	if err := r.Scan(&k.ID, &k.PoolID, &k.Use, &k.Algorithm, &k.PrivateKeyDER, &created); err != nil {
		return storage.SigningKey{}, err
	}
	k.CreatedAt = fromMicros(created)
	return k, nil
}

// CreateSigningKey implements storage.Storage. A missing pool is
// ErrNotFound.
func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	_, err := execRows(ctx, s.q(), "create signing key",
		`INSERT INTO signing_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.PoolID, k.Use, k.Algorithm, k.PrivateKeyDER, micros(k.CreatedAt))
	return err
}

// AddMissingSigningKeys implements storage.Storage. "No key of that use
// yet" is a fact about rows that do not exist, which no row lock can
// hold; an advisory lock per pool and use, held to the end of the
// transaction, makes concurrent callers check and insert one at a time.
// The locks are taken in one order, so callers never deadlock on them;
// names that collide ("a/b"+"c", "a"+"b/c") only share a lock.
func (s *Store) AddMissingSigningKeys(ctx context.Context, keys []storage.SigningKey) (int, error) {
	names := make([]string, 0, len(keys))
	for _, k := range keys {
		names = append(names, k.PoolID+"/"+k.Use)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	added := 0
	err := s.inTx(ctx, func(tx *Store) error {
		added = 0
		for _, name := range names {
			if _, err := tx.tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, keyLockSpace, name); err != nil {
				return wrap("add signing keys: lock", err)
			}
		}
		for _, k := range keys {
			var exists bool
			err := tx.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE pool_id = $1 AND key_use = $2)`,
				k.PoolID, k.Use).Scan(&exists)
			if err != nil {
				return wrap("add signing keys", err)
			}
			if exists {
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
	return getAll(ctx, s.q(), "list signing keys", scanKey,
		`SELECT `+keyColumns+` FROM signing_keys WHERE pool_id = $1 ORDER BY created_at DESC, id DESC`, poolID)
}

// GetOrCreateSecret implements storage.Storage. gen runs outside any
// lock, so concurrent first callers may each call it; the first insert
// wins (a later one waits for it to commit, then does nothing) and every
// caller returns the stored value. gen's error is returned unchanged.
func (s *Store) GetOrCreateSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	v, err := s.getSecret(ctx, name)
	if !errors.Is(err, storage.ErrNotFound) {
		return v, err
	}
	fresh, err := gen()
	if err != nil {
		return nil, err
	}
	if _, err := execRows(ctx, s.q(), "create secret",
		`INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
		return nil, err
	}
	// A statement of its own, so that at READ COMMITTED it sees the
	// winner's row even inside Atomic.
	return s.getSecret(ctx, name)
}

func (s *Store) getSecret(ctx context.Context, name string) ([]byte, error) {
	return getOne(ctx, s.q(), "get secret", func(r pgx.Row) ([]byte, error) {
		var v []byte
		return v, r.Scan(&v)
	}, `SELECT value FROM secrets WHERE name = $1`, name)
}

// GarbageCollect implements storage.Storage, in one transaction. A record
// expires once its ExpiresAt is before now; a zero ExpiresAt never
// expires. Tokens of an expired family are deleted (and counted) with it.
// A rate-limit bucket goes once its tat has passed, when it is full again.
func (s *Store) GarbageCollect(ctx context.Context, now time.Time) (storage.GCResult, error) {
	var r storage.GCResult
	at := micros(now)
	err := s.inTx(ctx, func(tx *Store) error {
		r = storage.GCResult{}
		var err error
		if r.Attempts, err = execRows(ctx, tx.tx, "gc attempts",
			`DELETE FROM attempts WHERE expires_at <> 0 AND expires_at < $1`, at); err != nil {
			return err
		}
		if r.Messages, err = execRows(ctx, tx.tx, "gc messages",
			`DELETE FROM messages WHERE done_at <> 0 AND done_at < $1`, micros(now.Add(-storage.MessageRetention))); err != nil {
			return err
		}
		if r.Codes, err = execRows(ctx, tx.tx, "gc codes",
			`DELETE FROM codes WHERE expires_at <> 0 AND expires_at < $1`, at); err != nil {
			return err
		}
		if r.AuthCodes, err = execRows(ctx, tx.tx, "gc auth codes",
			`DELETE FROM auth_codes WHERE expires_at <> 0 AND expires_at < $1`, at); err != nil {
			return err
		}
		if r.LoginSessions, err = execRows(ctx, tx.tx, "gc login sessions",
			`DELETE FROM login_sessions WHERE expires_at <> 0 AND expires_at < $1`, at); err != nil {
			return err
		}
		if r.RefreshTokens, err = execRows(ctx, tx.tx, "gc refresh tokens",
			`DELETE FROM refresh_tokens WHERE (expires_at <> 0 AND expires_at < $1)
			OR family_id IN (SELECT id FROM refresh_families WHERE expires_at <> 0 AND expires_at < $1)`, at); err != nil {
			return err
		}
		if r.RefreshFamilies, err = execRows(ctx, tx.tx, "gc refresh families",
			`DELETE FROM refresh_families WHERE expires_at <> 0 AND expires_at < $1`, at); err != nil {
			return err
		}
		if r.Claims, err = execRows(ctx, tx.tx, "gc claims",
			`DELETE FROM one_time_claims WHERE expires_at <> 0 AND expires_at < $1`, at); err != nil {
			return err
		}
		r.RateLimits, err = execRows(ctx, tx.tx, "gc rate limits", `DELETE FROM rate_limits WHERE tat < $1`, at)
		return err
	})
	if err != nil {
		return storage.GCResult{}, err
	}
	return r, nil
}
