package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const familyColumns = `id, pool_id, client_id, username, event_id, scope, oauth, auth_time, created_at, expires_at, revoked_at`

func scanFamily(r pgx.Row) (storage.RefreshFamily, error) {
	var (
		f                                   storage.RefreshFamily
		authTime, created, expires, revoked int64
	)
	if err := r.Scan(&f.ID, &f.PoolID, &f.ClientID, &f.Username, &f.EventID, &f.Scope, &f.OAuth,
		&authTime, &created, &expires, &revoked); err != nil {
		return storage.RefreshFamily{}, err
	}
	f.AuthTime, f.CreatedAt = fromMicros(authTime), fromMicros(created)
	f.ExpiresAt, f.RevokedAt = fromMicros(expires), fromMicros(revoked)
	return f, nil
}

// CreateRefreshFamily implements storage.Storage. A missing user is
// ErrNotFound.
func (s *Store) CreateRefreshFamily(ctx context.Context, f storage.RefreshFamily) error {
	_, err := execRows(ctx, s.q(), "create refresh family",
		`INSERT INTO refresh_families (`+familyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		f.ID, f.PoolID, f.ClientID, f.Username, f.EventID, f.Scope, f.OAuth,
		micros(f.AuthTime), micros(f.CreatedAt), micros(f.ExpiresAt), micros(f.RevokedAt))
	return err
}

// GetRefreshFamily implements storage.Storage.
func (s *Store) GetRefreshFamily(ctx context.Context, id string) (storage.RefreshFamily, error) {
	return getOne(ctx, s.q(), "get refresh family", scanFamily,
		`SELECT `+familyColumns+` FROM refresh_families WHERE id = $1`, id)
}

// UpdateRefreshFamily implements storage.Storage. The updater may not
// change ID, PoolID or Username (the family's owner).
func (s *Store) UpdateRefreshFamily(ctx context.Context, id string, fn func(storage.RefreshFamily) (storage.RefreshFamily, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update refresh family", scanFamily,
			`SELECT `+familyColumns+` FROM refresh_families WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		f, err := fn(old)
		if err != nil {
			return err
		}
		if f.ID != id || f.PoolID != old.PoolID || f.Username != old.Username {
			return errKeyChanged("update refresh family", old.ID+"@"+old.PoolID+"/"+old.Username, f.ID+"@"+f.PoolID+"/"+f.Username)
		}
		return execOne(ctx, tx.tx, "update refresh family",
			`UPDATE refresh_families SET client_id = $2, event_id = $3, scope = $4, oauth = $5,
				auth_time = $6, created_at = $7, expires_at = $8, revoked_at = $9
			WHERE id = $1`,
			id, f.ClientID, f.EventID, f.Scope, f.OAuth,
			micros(f.AuthTime), micros(f.CreatedAt), micros(f.ExpiresAt), micros(f.RevokedAt))
	})
}

// RevokeUserRefreshFamilies implements storage.Storage. Live means not yet
// revoked; families revoked earlier keep their RevokedAt.
func (s *Store) RevokeUserRefreshFamilies(ctx context.Context, poolID, username string, at time.Time) (int, error) {
	if at.IsZero() {
		// Zero is how a live family is stored: revoking "at zero" would
		// revoke nothing while reporting success.
		return 0, errors.New("postgres: revoke refresh families: zero revocation time")
	}
	n, err := execRows(ctx, s.q(), "revoke refresh families",
		`UPDATE refresh_families SET revoked_at = $1 WHERE pool_id = $2 AND username = $3 AND revoked_at = 0`,
		micros(at), poolID, username)
	return int(n), err
}

const tokenColumns = `hash, family_id, pool_id, client_id, created_at, expires_at, rotated_at`

func scanToken(r pgx.Row) (storage.RefreshToken, error) {
	var (
		t                         storage.RefreshToken
		created, expires, rotated int64
	)
	if err := r.Scan(&t.Hash, &t.FamilyID, &t.PoolID, &t.ClientID, &created, &expires, &rotated); err != nil {
		return storage.RefreshToken{}, err
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt = fromMicros(created), fromMicros(expires), fromMicros(rotated)
	return t, nil
}

// CreateRefreshToken implements storage.Storage. A missing family is
// ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t storage.RefreshToken) error {
	_, err := execRows(ctx, s.q(), "create refresh token",
		`INSERT INTO refresh_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		t.Hash, t.FamilyID, t.PoolID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RotatedAt))
	return err
}

// GetRefreshToken implements storage.Storage.
func (s *Store) GetRefreshToken(ctx context.Context, hash []byte) (storage.RefreshToken, error) {
	return getOne(ctx, s.q(), "get refresh token", scanToken,
		`SELECT `+tokenColumns+` FROM refresh_tokens WHERE hash = $1`, hash)
}

// UpdateRefreshToken implements storage.Storage. The updater may not
// change Hash or FamilyID.
func (s *Store) UpdateRefreshToken(ctx context.Context, hash []byte, fn func(storage.RefreshToken) (storage.RefreshToken, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update refresh token", scanToken,
			`SELECT `+tokenColumns+` FROM refresh_tokens WHERE hash = $1 FOR UPDATE`, hash)
		if err != nil {
			return err
		}
		t, err := fn(old)
		if err != nil {
			return err
		}
		if string(t.Hash) != string(old.Hash) || t.FamilyID != old.FamilyID {
			return errKeyChanged("update refresh token", fmt.Sprintf("%x@%s", old.Hash, old.FamilyID), fmt.Sprintf("%x@%s", t.Hash, t.FamilyID))
		}
		return execOne(ctx, tx.tx, "update refresh token",
			`UPDATE refresh_tokens SET pool_id = $2, client_id = $3, created_at = $4, expires_at = $5, rotated_at = $6
			WHERE hash = $1`,
			old.Hash, t.PoolID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RotatedAt))
	})
}
