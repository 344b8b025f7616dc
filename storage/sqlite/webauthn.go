package sqlite

import (
	"context"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

const webAuthnColumns = `pool_id, id, username, public_key, sign_count, rp_id, friendly_name, attachment,
	transports, aaguid, created_at, last_used_at`

func scanWebAuthn(sc scanner) (storage.WebAuthnCredential, error) {
	var (
		c                 storage.WebAuthnCredential
		transports        string
		created, lastUsed int64
	)
	if err := sc.Scan(&c.PoolID, &c.ID, &c.Username, &c.PublicKey, &c.SignCount, &c.RelyingPartyID, &c.FriendlyName,
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
	_, err := execRows(ctx, s.writes(), "create webauthn credential",
		`INSERT INTO webauthn_credentials (`+webAuthnColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.PoolID, c.ID, c.Username, c.PublicKey, c.SignCount, c.RelyingPartyID, c.FriendlyName, c.Attachment,
		strings.Join(c.Transports, ","), c.AAGUID, micros(c.CreatedAt), micros(c.LastUsedAt))
	return err
}

// GetWebAuthnCredential implements storage.Storage.
func (s *Store) GetWebAuthnCredential(ctx context.Context, poolID string, id []byte) (storage.WebAuthnCredential, error) {
	return getOne(ctx, s.reads(), "get webauthn credential", scanWebAuthn,
		`SELECT `+webAuthnColumns+` FROM webauthn_credentials WHERE pool_id = ? AND id = ?`, poolID, id)
}

// ListWebAuthnCredentials implements storage.Storage.
func (s *Store) ListWebAuthnCredentials(ctx context.Context, poolID, username string, after []byte, limit int) ([]storage.WebAuthnCredential, error) {
	return getAll(ctx, s.reads(), "list webauthn credentials", scanWebAuthn,
		`SELECT `+webAuthnColumns+` FROM webauthn_credentials WHERE pool_id = ? AND username = ? AND id > ?
		ORDER BY id LIMIT ?`, poolID, username, append([]byte{}, after...), sqlLimit(limit))
}

// UpdateWebAuthnCredential implements storage.Storage. The updater may
// not change PoolID, ID or Username.
func (s *Store) UpdateWebAuthnCredential(ctx context.Context, poolID string, id []byte, fn func(storage.WebAuthnCredential) (storage.WebAuthnCredential, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetWebAuthnCredential(ctx, poolID, id)
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
		return execOne(ctx, tx.writes(), "update webauthn credential",
			`UPDATE webauthn_credentials SET public_key = ?, sign_count = ?, rp_id = ?, friendly_name = ?,
			attachment = ?, transports = ?, aaguid = ?, created_at = ?, last_used_at = ?
			WHERE pool_id = ? AND id = ?`,
			c.PublicKey, c.SignCount, c.RelyingPartyID, c.FriendlyName, c.Attachment, strings.Join(c.Transports, ","),
			c.AAGUID, micros(c.CreatedAt), micros(c.LastUsedAt), poolID, id)
	})
}

// DeleteWebAuthnCredential implements storage.Storage. A missing
// credential is ErrNotFound.
func (s *Store) DeleteWebAuthnCredential(ctx context.Context, poolID string, id []byte) error {
	return execOne(ctx, s.writes(), "delete webauthn credential",
		`DELETE FROM webauthn_credentials WHERE pool_id = ? AND id = ?`, poolID, id)
}
