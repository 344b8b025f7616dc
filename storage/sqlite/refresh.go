package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

const familyColumns = `id, pool_id, client_id, username, event_id, scope, auth_time, created_at, expires_at, revoked_at`

func scanFamily(sc scanner) (storage.RefreshFamily, error) {
	var (
		f                                   storage.RefreshFamily
		authTime, created, expires, revoked int64
	)
	if err := sc.Scan(&f.ID, &f.PoolID, &f.ClientID, &f.Username, &f.EventID, &f.Scope,
		&authTime, &created, &expires, &revoked); err != nil {
		return f, err
	}
	f.AuthTime, f.CreatedAt = fromMicros(authTime), fromMicros(created)
	f.ExpiresAt, f.RevokedAt = fromMicros(expires), fromMicros(revoked)
	return f, nil
}

// CreateRefreshFamily implements storage.Storage. A missing user is
// ErrNotFound.
func (s *Store) CreateRefreshFamily(ctx context.Context, f storage.RefreshFamily) error {
	_, err := execRows(ctx, s.writes(), "create refresh family",
		`INSERT INTO refresh_families (`+familyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		f.ID, f.PoolID, f.ClientID, f.Username, f.EventID, f.Scope,
		micros(f.AuthTime), micros(f.CreatedAt), micros(f.ExpiresAt), micros(f.RevokedAt))
	return err
}

// GetRefreshFamily implements storage.Storage.
func (s *Store) GetRefreshFamily(ctx context.Context, id string) (storage.RefreshFamily, error) {
	return getOne(ctx, s.reads(), "get refresh family", scanFamily,
		`SELECT `+familyColumns+` FROM refresh_families WHERE id = ?`, id)
}

// UpdateRefreshFamily implements storage.Storage. The updater may not
// change ID, PoolID or Username (the family's owner).
func (s *Store) UpdateRefreshFamily(ctx context.Context, id string, fn func(storage.RefreshFamily) (storage.RefreshFamily, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetRefreshFamily(ctx, id)
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
			`UPDATE refresh_families SET client_id = ?, event_id = ?, scope = ?,
				auth_time = ?, created_at = ?, expires_at = ?, revoked_at = ?
			WHERE id = ?`,
			f.ClientID, f.EventID, f.Scope,
			micros(f.AuthTime), micros(f.CreatedAt), micros(f.ExpiresAt), micros(f.RevokedAt), id)
	})
}

// RevokeUserRefreshFamilies implements storage.Storage. Live means not yet
// revoked; families revoked earlier keep their RevokedAt.
func (s *Store) RevokeUserRefreshFamilies(ctx context.Context, poolID, username string, at time.Time) (int, error) {
	if at.IsZero() {
		// Zero is how a live family is stored: revoking "at zero" would
		// revoke nothing while reporting success.
		return 0, errors.New("sqlite: revoke refresh families: zero revocation time")
	}
	n, err := execRows(ctx, s.writes(), "revoke refresh families",
		`UPDATE refresh_families SET revoked_at = ? WHERE pool_id = ? AND username = ? AND revoked_at = 0`,
		micros(at), poolID, username)
	return int(n), err
}

const tokenColumns = `hash, family_id, pool_id, client_id, created_at, expires_at, rotated_at`

func scanToken(sc scanner) (storage.RefreshToken, error) {
	var (
		t                         storage.RefreshToken
		created, expires, rotated int64
	)
	if err := sc.Scan(&t.Hash, &t.FamilyID, &t.PoolID, &t.ClientID, &created, &expires, &rotated); err != nil {
		return t, err
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt = fromMicros(created), fromMicros(expires), fromMicros(rotated)
	return t, nil
}

// CreateRefreshToken implements storage.Storage. A missing family is
// ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t storage.RefreshToken) error {
	_, err := execRows(ctx, s.writes(), "create refresh token",
		`INSERT INTO refresh_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.FamilyID, t.PoolID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RotatedAt))
	return err
}

// GetRefreshToken implements storage.Storage.
func (s *Store) GetRefreshToken(ctx context.Context, hash []byte) (storage.RefreshToken, error) {
	return getOne(ctx, s.reads(), "get refresh token", scanToken,
		`SELECT `+tokenColumns+` FROM refresh_tokens WHERE hash = ?`, hash)
}

// UpdateRefreshToken implements storage.Storage. The updater may not
// change Hash or FamilyID.
func (s *Store) UpdateRefreshToken(ctx context.Context, hash []byte, fn func(storage.RefreshToken) (storage.RefreshToken, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetRefreshToken(ctx, hash)
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
			`UPDATE refresh_tokens SET pool_id = ?, client_id = ?, created_at = ?, expires_at = ?, rotated_at = ?
			WHERE hash = ?`,
			t.PoolID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RotatedAt), old.Hash)
	})
}
