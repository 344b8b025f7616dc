package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

const userColumns = `pool_id, username, sub, email, attributes, pending_attributes, status, enabled,
	srp_salt, srp_verifier, password_expires_at, created_at, updated_at, mfa`

const (
	sqlGetUser        = `SELECT ` + userColumns + ` FROM users WHERE pool_id = ? AND username = ?`
	sqlGetUserByEmail = `SELECT ` + userColumns + ` FROM users WHERE pool_id = ? AND email = ?`
	sqlGetUserBySub   = `SELECT ` + userColumns + ` FROM users WHERE pool_id = ? AND sub = ?`
	sqlCreateUser     = `INSERT INTO users (` + userColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	sqlUpdateUser     = `UPDATE users SET sub = ?, email = ?, attributes = ?, pending_attributes = ?, status = ?, enabled = ?,
		srp_salt = ?, srp_verifier = ?, password_expires_at = ?, created_at = ?, updated_at = ?, mfa = ?
	WHERE pool_id = ? AND username = ?`
)

func scanUser(sc scanner) (storage.User, error) {
	// One allocation holds the row and Scan's arguments, which would
	// otherwise each escape to the heap on their own.
	r := new(struct {
		u                           storage.User
		attrs, pending, mfa         string
		pwExpires, created, updated int64
		dest                        [14]any
	})
	u := &r.u
	r.dest = [...]any{&u.PoolID, &u.Username, &u.Sub, &u.Email, &r.attrs, &r.pending, &u.Status, &u.Enabled,
		&u.SRPSalt, &u.SRPVerifier, &r.pwExpires, &r.created, &r.updated, &r.mfa}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.User{}, err
	}
	var err error
	if u.Attributes, err = decodeMap(r.attrs); err != nil {
		return storage.User{}, err
	}
	if u.PendingAttributes, err = decodeMap(r.pending); err != nil {
		return storage.User{}, err
	}
	if u.MFA, err = storage.DecodeUserMFA(r.mfa); err != nil {
		return storage.User{}, err
	}
	u.PasswordExpiresAt = fromMicros(r.pwExpires)
	u.CreatedAt, u.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	return *u, nil
}

// userArgs returns u's columns in userColumns order, with the email alias
// lower-cased so that uniqueness and lookups ignore case.
func userArgs(u storage.User) ([]any, error) {
	attrs, err := encodeMap(u.Attributes)
	if err != nil {
		return nil, err
	}
	pending, err := encodeMap(u.PendingAttributes)
	if err != nil {
		return nil, err
	}
	mfa, err := storage.EncodeUserMFA(u.MFA)
	if err != nil {
		return nil, err
	}
	return []any{u.PoolID, u.Username, u.Sub, strings.ToLower(u.Email), attrs, pending, u.Status, u.Enabled,
		u.SRPSalt, u.SRPVerifier, micros(u.PasswordExpiresAt), micros(u.CreatedAt), micros(u.UpdatedAt), mfa}, nil
}

// CreateUser implements storage.Storage. A missing pool is ErrNotFound; a
// taken username, email alias or sub is ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err != nil {
		return wrap("create user", err)
	}
	_, err = execRowsStmt(ctx, s.stmt(ctx, stCreateUser), "create user", args...)
	return err
}

// GetUser implements storage.Storage.
func (s *Store) GetUser(ctx context.Context, poolID, username string) (storage.User, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetUser), "get user", scanUser, poolID, username)
}

// GetUserByEmail implements storage.Storage. The empty email matches no
// one.
func (s *Store) GetUserByEmail(ctx context.Context, poolID, email string) (storage.User, error) {
	if email == "" {
		return storage.User{}, wrap("get user by email", sql.ErrNoRows)
	}
	return getOneStmt(ctx, s.stmt(ctx, stGetUserByEmail), "get user by email", scanUser, poolID, strings.ToLower(email))
}

// GetUserBySub implements storage.Storage.
func (s *Store) GetUserBySub(ctx context.Context, poolID, sub string) (storage.User, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetUserBySub), "get user by sub", scanUser, poolID, sub)
}

// ListUsers implements storage.Storage. Usernames order bytewise; a limit
// of zero or less means no limit.
func (s *Store) ListUsers(ctx context.Context, poolID, after string, limit int) ([]storage.User, error) {
	return getAll(ctx, s.reads(), "list users", scanUser,
		`SELECT `+userColumns+` FROM users WHERE pool_id = ? AND username > ? ORDER BY username LIMIT ?`,
		poolID, after, sqlLimit(limit))
}

// UpdateUser implements storage.Storage. The updater may not change
// PoolID or Username.
func (s *Store) UpdateUser(ctx context.Context, poolID, username string, fn func(storage.User) (storage.User, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetUser(ctx, poolID, username)
		if err != nil {
			return err
		}
		u, err := fn(old)
		if err != nil {
			return err
		}
		if u.PoolID != poolID || u.Username != username {
			return errKeyChanged("update user", poolID+"/"+username, u.PoolID+"/"+u.Username)
		}
		args, err := userArgs(u)
		if err != nil {
			return wrap("update user", err)
		}
		// args starts with the key; the SET list takes the rest.
		return execOneStmt(ctx, tx.stmt(ctx, stUpdateUser), "update user", append(args[2:], poolID, username)...)
	})
}

// DeleteUser implements storage.Storage. Memberships, codes and refresh
// families (with their tokens) go by foreign-key cascade; authorization
// codes and login sessions, which hang off the pool, are deleted here.
func (s *Store) DeleteUser(ctx context.Context, poolID, username string) error {
	return s.inTx(ctx, func(tx *Store) error {
		if err := execOne(ctx, tx.tx, "delete user",
			`DELETE FROM users WHERE pool_id = ? AND username = ?`, poolID, username); err != nil {
			return err
		}
		if _, err := execRows(ctx, tx.tx, "delete user auth codes",
			`DELETE FROM auth_codes WHERE pool_id = ? AND username = ?`, poolID, username); err != nil {
			return err
		}
		_, err := execRows(ctx, tx.tx, "delete user login sessions",
			`DELETE FROM login_sessions WHERE pool_id = ? AND username = ?`, poolID, username)
		return err
	})
}
