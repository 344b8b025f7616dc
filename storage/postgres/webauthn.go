package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const webAuthnColumns = `pool_id, id, username, public_key, sign_count, rp_id, friendly_name, attachment,
	transports, aaguid, created_at, last_used_at`

func scanWebAuthn(r pgx.Row) (storage.WebAuthnCredential, error) {
	var (
		c                 storage.WebAuthnCredential
		transports        string
		created, lastUsed int64
	)
	if err := r.Scan(&c.PoolID, &c.ID, &c.Username, &c.PublicKey, &c.SignCount, &c.RelyingPartyID, &c.FriendlyName,
		&c.Attachment, &transports, &c.AAGUID, &created, &lastUsed); err != nil {
		return c, err
	}
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	c.CreatedAt, c.LastUsedAt = fromMicros(created), fromMicros(lastUsed)
	return c, nil
}

// CreateWebAuthnCredential implements storage.Storage. A taken id is
// ErrAlreadyExists, a missing user ErrNotFound.
func (s *Store) CreateWebAuthnCredential(ctx context.Context, c storage.WebAuthnCredential) error {
	_, err := execRows(ctx, s.q(), "create webauthn credential",
		`INSERT INTO webauthn_credentials (`+webAuthnColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.PoolID, c.ID, c.Username, c.PublicKey, c.SignCount, c.RelyingPartyID, c.FriendlyName, c.Attachment,
		strings.Join(c.Transports, ","), c.AAGUID, micros(c.CreatedAt), micros(c.LastUsedAt))
	return err
}

// GetWebAuthnCredential implements storage.Storage.
func (s *Store) GetWebAuthnCredential(ctx context.Context, poolID string, id []byte) (storage.WebAuthnCredential, error) {
	return getOne(ctx, s.q(), "get webauthn credential", scanWebAuthn,
		`SELECT `+webAuthnColumns+` FROM webauthn_credentials WHERE pool_id = $1 AND id = $2`, poolID, id)
}

// ListWebAuthnCredentials implements storage.Storage.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, poolID, username string, after []byte, limit int) ([]storage.WebAuthnCredential, error) {
	return getAll(ctx, s.q(), "list webauthn credentials", scanWebAuthn,
		`SELECT `+webAuthnColumns+` FROM webauthn_credentials WHERE pool_id = $1 AND username = $2 AND id > $3
		ORDER BY id LIMIT $4`, poolID, username, append([]byte{}, after...), sqlLimit(limit))
}

// UpdateWebAuthnCredential implements storage.Storage. The updater may
// not change PoolID, ID or Username.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, poolID string, id []byte, fn func(storage.WebAuthnCredential) (storage.WebAuthnCredential, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.q(), "update webauthn credential", scanWebAuthn,
			`SELECT `+webAuthnColumns+` FROM webauthn_credentials WHERE pool_id = $1 AND id = $2 FOR UPDATE`, poolID, id)
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		if c.PoolID != old.PoolID || string(c.ID) != string(old.ID) || c.Username != old.Username {
			return errKeyChanged("update webauthn credential", old.PoolID+"/"+old.Username, c.PoolID+"/"+c.Username)
		}
		return execOne(ctx, tx.q(), "update webauthn credential",
			`UPDATE webauthn_credentials SET public_key = $1, sign_count = $2, rp_id = $3, friendly_name = $4,
			attachment = $5, transports = $6, aaguid = $7, created_at = $8, last_used_at = $9
			WHERE pool_id = $10 AND id = $11`,
			c.PublicKey, c.SignCount, c.RelyingPartyID, c.FriendlyName, c.Attachment, strings.Join(c.Transports, ","),
			c.AAGUID, micros(c.CreatedAt), micros(c.LastUsedAt), poolID, id)
	})
}

// DeleteWebAuthnCredential implements storage.Storage. A missing
// credential is ErrNotFound.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, poolID string, id []byte) error {
	return execOne(ctx, s.q(), "delete webauthn credential",
		`DELETE FROM webauthn_credentials WHERE pool_id = $1 AND id = $2`, poolID, id)
}
