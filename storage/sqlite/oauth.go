package sqlite

import (
	"context"
	"fmt"

	"github.com/cognate-auth/cognate/storage"
)

const authCodeColumns = `hash, pool_id, client_id, username, redirect_uri, scope, nonce, code_challenge,
	auth_time, created_at, expires_at, redeemed_at, family_id`

const (
	sqlCreateAuthCode = `INSERT INTO auth_codes (` + authCodeColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlGetAuthCode    = `SELECT ` + authCodeColumns + ` FROM auth_codes WHERE hash = ?`
	sqlUpdateAuthCode = `UPDATE auth_codes SET client_id = ?, redirect_uri = ?, scope = ?, nonce = ?, code_challenge = ?,
		auth_time = ?, created_at = ?, expires_at = ?, redeemed_at = ?, family_id = ?
	WHERE hash = ?`
)

func scanAuthCode(sc scanner) (storage.AuthCode, error) {
	r := new(struct { // one allocation, see scanUser
		c                                    storage.AuthCode
		authTime, created, expires, redeemed int64
		dest                                 [13]any
	})
	c := &r.c
	r.dest = [...]any{&c.Hash, &c.PoolID, &c.ClientID, &c.Username, &c.RedirectURI, &c.Scope, &c.Nonce,
		&c.CodeChallenge, &r.authTime, &r.created, &r.expires, &r.redeemed, &c.FamilyID}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.AuthCode{}, err
	}
	c.AuthTime, c.CreatedAt = fromMicros(r.authTime), fromMicros(r.created)
	c.ExpiresAt, c.RedeemedAt = fromMicros(r.expires), fromMicros(r.redeemed)
	return *c, nil
}

// CreateAuthCode implements storage.Storage. A missing pool is
// ErrNotFound; a taken hash is ErrAlreadyExists.
func (s *Store) CreateAuthCode(ctx context.Context, c storage.AuthCode) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stCreateAuthCode), "create auth code",
		c.Hash, c.PoolID, c.ClientID, c.Username, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
		micros(c.AuthTime), micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.RedeemedAt), c.FamilyID)
	return err
}

// GetAuthCode implements storage.Storage.
func (s *Store) GetAuthCode(ctx context.Context, hash []byte) (storage.AuthCode, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetAuthCode), "get auth code", scanAuthCode, hash)
}

// UpdateAuthCode implements storage.Storage. The updater may not change
// Hash, PoolID or Username (the code's owner).
func (s *Store) UpdateAuthCode(ctx context.Context, hash []byte, fn func(storage.AuthCode) (storage.AuthCode, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetAuthCode(ctx, hash)
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
		return execOneStmt(ctx, tx.stmt(ctx, stUpdateAuthCode), "update auth code",
			c.ClientID, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
			micros(c.AuthTime), micros(c.CreatedAt), micros(c.ExpiresAt), micros(c.RedeemedAt), c.FamilyID, old.Hash)
	})
}

const loginSessionColumns = `hash, pool_id, username, auth_time, created_at, expires_at`

const (
	sqlCreateLoginSession = `INSERT INTO login_sessions (` + loginSessionColumns + `) VALUES (?, ?, ?, ?, ?, ?)`
	sqlGetLoginSession    = `SELECT ` + loginSessionColumns + ` FROM login_sessions WHERE hash = ?`
	sqlDeleteLoginSession = `DELETE FROM login_sessions WHERE hash = ?`
)

func scanLoginSession(sc scanner) (storage.LoginSession, error) {
	r := new(struct { // one allocation, see scanUser
		ls                         storage.LoginSession
		authTime, created, expires int64
		dest                       [6]any
	})
	ls := &r.ls
	r.dest = [...]any{&ls.Hash, &ls.PoolID, &ls.Username, &r.authTime, &r.created, &r.expires}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.LoginSession{}, err
	}
	ls.AuthTime, ls.CreatedAt, ls.ExpiresAt = fromMicros(r.authTime), fromMicros(r.created), fromMicros(r.expires)
	return *ls, nil
}

// CreateLoginSession implements storage.Storage. A missing pool is
// ErrNotFound; a taken hash is ErrAlreadyExists.
func (s *Store) CreateLoginSession(ctx context.Context, ls storage.LoginSession) error {
	_, err := execRowsStmt(ctx, s.stmt(ctx, stCreateLoginSession), "create login session",
		ls.Hash, ls.PoolID, ls.Username, micros(ls.AuthTime), micros(ls.CreatedAt), micros(ls.ExpiresAt))
	return err
}

// GetLoginSession implements storage.Storage.
func (s *Store) GetLoginSession(ctx context.Context, hash []byte) (storage.LoginSession, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetLoginSession), "get login session", scanLoginSession, hash)
}

// DeleteLoginSession implements storage.Storage. A missing session is
// ErrNotFound.
func (s *Store) DeleteLoginSession(ctx context.Context, hash []byte) error {
	return execOneStmt(ctx, s.stmt(ctx, stDeleteLoginSession), "delete login session", hash)
}
