package postgres

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const userColumns = `pool_id, username, sub, email, attributes, pending_attributes, status, enabled,
	srp_salt, srp_verifier, password_expires_at, created_at, updated_at, mfa`

func scanUser(r pgx.Row) (storage.User, error) {
	var (
		u                           storage.User
		attrs, pending              []byte
		mfa                         string
		pwExpires, created, updated int64
	)
	if err := r.Scan(&u.PoolID, &u.Username, &u.Sub, &u.Email, &attrs, &pending, &u.Status, &u.Enabled,
		&u.SRPSalt, &u.SRPVerifier, &pwExpires, &created, &updated, &mfa); err != nil {
		return storage.User{}, err
	}
	var err error
	if u.Attributes, err = decodeMap(attrs); err != nil {
		return storage.User{}, err
	}
	if u.PendingAttributes, err = decodeMap(pending); err != nil {
		return storage.User{}, err
	}
	if u.MFA, err = storage.DecodeUserMFA(mfa); err != nil {
		return storage.User{}, err
	}
	u.PasswordExpiresAt = fromMicros(pwExpires)
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return u, nil
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

// encodeMap encodes an attribute map as JSON, nil as {}.
func encodeMap(m map[string]string) ([]byte, error) {
	if m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(m)
}

// decodeMap decodes what encodeMap encodes, always to a non-nil map so
// that updaters can assign into it.
func decodeMap(b []byte) (map[string]string, error) {
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// CreateUser implements storage.Storage. A missing pool is ErrNotFound; a
// taken username, email alias or sub is ErrAlreadyExists.
func (s *Store) CreateUser(ctx context.Context, u storage.User) error {
	args, err := userArgs(u)
	if err != nil {
		return wrap("create user", err)
	}
	_, err = execRows(ctx, s.q(), "create user", `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, args...)
	return err
}

// GetUser implements storage.Storage.
func (s *Store) GetUser(ctx context.Context, poolID, username string) (storage.User, error) {
	return getOne(ctx, s.q(), "get user", scanUser,
		`SELECT `+userColumns+` FROM users WHERE pool_id = $1 AND username = $2`, poolID, username)
}

// GetUserByEmail implements storage.Storage. The empty email matches no
// one.
func (s *Store) GetUserByEmail(ctx context.Context, poolID, email string) (storage.User, error) {
	if email == "" {
		return storage.User{}, wrap("get user by email", pgx.ErrNoRows)
	}
	return getOne(ctx, s.q(), "get user by email", scanUser,
		`SELECT `+userColumns+` FROM users WHERE pool_id = $1 AND email = $2`, poolID, strings.ToLower(email))
}

// GetUserBySub implements storage.Storage.
func (s *Store) GetUserBySub(ctx context.Context, poolID, sub string) (storage.User, error) {
	return getOne(ctx, s.q(), "get user by sub", scanUser,
		`SELECT `+userColumns+` FROM users WHERE pool_id = $1 AND sub = $2`, poolID, sub)
}

// ListUsers implements storage.Storage. Usernames order bytewise; a limit
// of zero or less means no limit.
func (s *Store) ListUsers(ctx context.Context, poolID, after string, limit int) ([]storage.User, error) {
	return getAll(ctx, s.q(), "list users", scanUser,
		`SELECT `+userColumns+` FROM users WHERE pool_id = $1 AND username > $2 ORDER BY username LIMIT $3`,
		poolID, after, sqlLimit(limit))
}

// UpdateUser implements storage.Storage. The updater may not change
// PoolID or Username.
func (s *Store) UpdateUser(ctx context.Context, poolID, username string, fn func(storage.User) (storage.User, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update user", scanUser,
			`SELECT `+userColumns+` FROM users WHERE pool_id = $1 AND username = $2 FOR UPDATE`, poolID, username)
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
		// args starts with the key, $1 and $2; the SET list takes the rest.
		return execOne(ctx, tx.tx, "update user", `UPDATE users SET sub = $3, email = $4, attributes = $5,
			pending_attributes = $6, status = $7, enabled = $8, srp_salt = $9, srp_verifier = $10,
			password_expires_at = $11, created_at = $12, updated_at = $13, mfa = $14
			WHERE pool_id = $1 AND username = $2`, args...)
	})
}

// DeleteUser implements storage.Storage. Memberships, codes and refresh
// families (with their tokens) go by foreign-key cascade; authorization
// codes and login sessions, which hang off the pool, are deleted here,
// in the same transaction.
func (s *Store) DeleteUser(ctx context.Context, poolID, username string) error {
	return s.inTx(ctx, func(tx *Store) error {
		if err := execOne(ctx, tx.tx, "delete user",
			`DELETE FROM users WHERE pool_id = $1 AND username = $2`, poolID, username); err != nil {
			return err
		}
		if _, err := execRows(ctx, tx.tx, "delete user auth codes",
			`DELETE FROM auth_codes WHERE pool_id = $1 AND username = $2`, poolID, username); err != nil {
			return err
		}
		_, err := execRows(ctx, tx.tx, "delete user login sessions",
			`DELETE FROM login_sessions WHERE pool_id = $1 AND username = $2`, poolID, username)
		return err
	})
}
