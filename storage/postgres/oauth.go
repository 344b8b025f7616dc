package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const authCodeColumns = `hash, pool_id, client_id, username, redirect_uri, scope, nonce, code_challenge,
	auth_time, created_at, expires_at, redeemed_at, family_id`

func scanAuthCode(r pgx.Row) (storage.AuthCode, error) {
	var (
		c                                    storage.AuthCode
		authTime, created, expires, redeemed int64
	)
	if err := r.Scan(&c.Hash, &c.PoolID, &c.ClientID, &c.Username, &c.RedirectURI, &c.Scope, &c.Nonce,
		&c.CodeChallenge, &authTime, &created, &expires, &redeemed, &c.FamilyID); err != nil {
		return storage.AuthCode{}, err
	}
	c.AuthTime, c.CreatedAt = fromMicros(authTime), fromMicros(created)
	c.ExpiresAt, c.RedeemedAt = fromMicros(expires), fromMicros(redeemed)
	return c, nil
}

// CreateAuthCode implements storage.Storage. A missing pool is
// ErrNotFound; a taken hash is ErrAlreadyExists.
func (s *Store) CreateAuthCode(ctx context.Context, c storage.AuthCode) error {
	_, err := execRows(ctx, s.q(), "create auth code",
		`INSERT INTO auth_codes (`+authCodeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		c.Hash, c.PoolID, c.ClientID, c.Username, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
		micros(c.AuthTime), micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.RedeemedAt), c.FamilyID)
	return err
}

// GetAuthCode implements storage.Storage.
func (s *Store) GetAuthCode(ctx context.Context, hash []byte) (storage.AuthCode, error) {
	return getOne(ctx, s.q(), "get auth code", scanAuthCode,
		`SELECT `+authCodeColumns+` FROM auth_codes WHERE hash = $1`, hash)
}

// UpdateAuthCode implements storage.Storage. The updater may not change
// Hash, PoolID or Username (the code's owner).
func (s *Store) UpdateAuthCode(ctx context.Context, hash []byte, fn func(storage.AuthCode) (storage.AuthCode, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update auth code", scanAuthCode,
			`SELECT `+authCodeColumns+` FROM auth_codes WHERE hash = $1 FOR UPDATE`, hash)
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		if string(c.Hash) != string(old.Hash) || c.PoolID != old.PoolID || c.Username != old.Username {
			return errKeyChanged("update auth code",
				fmt.Sprintf("%x@%s/%s", old.Hash, old.PoolID, old.Username),
				fmt.Sprintf("%x@%s/%s", c.Hash, c.PoolID, c.Username))
		}
		return execOne(ctx, tx.tx, "update auth code",
			`UPDATE auth_codes SET client_id = $2, redirect_uri = $3, scope = $4, nonce = $5, code_challenge = $6,
				auth_time = $7, created_at = $8, expires_at = $9, redeemed_at = $10, family_id = $11
			WHERE hash = $1`,
			old.Hash, c.ClientID, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
			micros(c.AuthTime), micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.RedeemedAt), c.FamilyID)
	})
}

const loginSessionColumns = `hash, pool_id, username, auth_time, created_at, expires_at`

func scanLoginSession(r pgx.Row) (storage.LoginSession, error) {
	var (
		ls                         storage.LoginSession
		authTime, created, expires int64
	)
	if err := r.Scan(&ls.Hash, &ls.PoolID, &ls.Username, &authTime, &created, &expires); err != nil {
		return storage.LoginSession{}, err
	}
	ls.AuthTime, ls.CreatedAt, ls.ExpiresAt = fromMicros(authTime), fromMicros(created), fromMicros(expires)
	return ls, nil
}

// CreateLoginSession implements storage.Storage. A missing pool is
// ErrNotFound; a taken hash is ErrAlreadyExists.
func (s *Store) CreateLoginSession(ctx context.Context, ls storage.LoginSession) error {
	_, err := execRows(ctx, s.q(), "create login session",
		`INSERT INTO login_sessions (`+loginSessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
		ls.Hash, ls.PoolID, ls.Username, micros(ls.AuthTime), micros(ls.CreatedAt), micros(ls.ExpiresAt))
	return err
}

// GetLoginSession implements storage.Storage.
func (s *Store) GetLoginSession(ctx context.Context, hash []byte) (storage.LoginSession, error) {
	return getOne(ctx, s.q(), "get login session", scanLoginSession,
		`SELECT `+loginSessionColumns+` FROM login_sessions WHERE hash = $1`, hash)
}

// DeleteLoginSession implements storage.Storage. A missing session is
// ErrNotFound.
func (s *Store) DeleteLoginSession(ctx context.Context, hash []byte) error {
	return execOne(ctx, s.q(), "delete login session", `DELETE FROM login_sessions WHERE hash = $1`, hash)
}
