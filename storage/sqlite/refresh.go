package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

const familyColumns = `id, pool_id, client_id, username, event_id, scope, oauth, auth_time, created_at, expires_at, revoked_at`

const (
	sqlCreateRefreshFamily = `INSERT INTO refresh_families (` + familyColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlGetRefreshFamily    = `SELECT ` + familyColumns + ` FROM refresh_families WHERE id = ?`
	sqlUpdateRefreshFamily = `UPDATE refresh_families SET client_id = ?, event_id = ?, scope = ?, oauth = ?,
		auth_time = ?, created_at = ?, expires_at = ?, revoked_at = ?
	WHERE id = ?`
	sqlRevokeUserRefreshFamilies = `UPDATE refresh_families SET revoked_at = ?
	WHERE pool_id = ? AND username = ? AND revoked_at = 0`
)

func scanFamily(sc scanner) (storage.RefreshFamily, error) {
	r := new(struct { // one allocation, see scanUser
		f                                   storage.RefreshFamily
		authTime, created, expires, revoked int64
		dest                                [11]any
	})
	f := &r.f
	r.dest = [...]any{&f.ID, &f.PoolID, &f.ClientID, &f.Username, &f.EventID, &f.Scope, &f.OAuth,
		&r.authTime, &r.created, &r.expires, &r.revoked}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.RefreshFamily{}, err
	}
	f.AuthTime, f.CreatedAt = fromMicros(r.authTime), fromMicros(r.created)
	f.ExpiresAt, f.RevokedAt = fromMicros(r.expires), fromMicros(r.revoked)
	return *f, nil
}

// CreateRefreshFamily implements storage.Storage. A missing user is
// ErrNotFound.
func (s *Store) CreateRefreshFamily(ctx context.Context, f storage.RefreshFamily) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stCreateRefreshFamily), "create refresh family",
		f.ID, f.PoolID, f.ClientID, f.Username, f.EventID, f.Scope, f.OAuth,
		micros(f.AuthTime), micros(f.CreatedAt), micros(f.ExpiresAt), micros(f.RevokedAt))
	return err
}

// GetRefreshFamily implements storage.Storage.
func (s *Store) GetRefreshFamily(ctx context.Context, id string) (storage.RefreshFamily, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetRefreshFamily), "get refresh family", scanFamily, id)
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
		return execOneStmt(ctx, tx.stmt(ctx, stUpdateRefreshFamily), "update refresh family",
			f.ClientID, f.EventID, f.Scope, f.OAuth,
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
	n, err := execRowsStmt(ctx, s.stmt(ctx, stRevokeUserRefreshFamilies), "revoke refresh families",
		micros(at), poolID, username)
	return int(n), err
}

const tokenColumns = `hash, family_id, pool_id, client_id, created_at, expires_at, rotated_at`

const (
	sqlCreateRefreshToken = `INSERT INTO refresh_tokens (` + tokenColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqlGetRefreshToken    = `SELECT ` + tokenColumns + ` FROM refresh_tokens WHERE hash = ?`
	sqlUpdateRefreshToken = `UPDATE refresh_tokens SET pool_id = ?, client_id = ?, created_at = ?, expires_at = ?, rotated_at = ?
	WHERE hash = ?`
)

func scanToken(sc scanner) (storage.RefreshToken, error) {
	r := new(struct { // one allocation, see scanUser
		t                         storage.RefreshToken
		created, expires, rotated int64
		dest                      [7]any
	})
	t := &r.t
	r.dest = [...]any{&t.Hash, &t.FamilyID, &t.PoolID, &t.ClientID, &r.created, &r.expires, &r.rotated}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.RefreshToken{}, err
	}
	t.CreatedAt, t.ExpiresAt, t.RotatedAt = fromMicros(r.created), fromMicros(r.expires), fromMicros(r.rotated)
	return *t, nil
}

// CreateRefreshToken implements storage.Storage. A missing family is
// ErrNotFound.
func (s *Store) CreateRefreshToken(ctx context.Context, t storage.RefreshToken) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stCreateRefreshToken), "create refresh token",
		t.Hash, t.FamilyID, t.PoolID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RotatedAt))
	return err
}

// GetRefreshToken implements storage.Storage.
func (s *Store) GetRefreshToken(ctx context.Context, hash []byte) (storage.RefreshToken, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetRefreshToken), "get refresh token", scanToken, hash)
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
		return execOneStmt(ctx, tx.stmt(ctx, stUpdateRefreshToken), "update refresh token",
			t.PoolID, t.ClientID, micros(t.CreatedAt), micros(t.ExpiresAt), micros(t.RotatedAt), old.Hash)
	})
}
