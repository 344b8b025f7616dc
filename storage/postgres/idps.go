package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const idpColumns = `pool_id, name, type, details, attribute_mapping, identifiers, created_at, updated_at`

func scanIDP(r pgx.Row) (storage.IdentityProvider, error) {
	var (
		p                             storage.IdentityProvider
		details, mapping, identifiers string
		created, updated              int64
	)
	if err := r.Scan(&p.PoolID, &p.Name, &p.Type, &details, &mapping, &identifiers, &created, &updated); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	for doc, dst := range map[string]any{details: &p.Details, mapping: &p.AttributeMapping, identifiers: &p.Identifiers} {
		if err := json.Unmarshal([]byte(doc), dst); err != nil {
			return p, err
		}
	}
	return p, nil
}

// idpArgs are the columns of idpColumns, the JSON documents encoded.
func idpArgs(p storage.IdentityProvider) ([]any, error) {
	docs := make([]string, 3)
	for i, v := range []any{p.Details, p.AttributeMapping, p.Identifiers} {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		docs[i] = string(b)
	}
	return []any{p.PoolID, p.Name, p.Type, docs[0], docs[1], docs[2], micros(p.CreatedAt), micros(p.UpdatedAt)}, nil
}

// CreateIdentityProvider implements storage.Storage. A missing pool is
// ErrNotFound.
func (s *Store) CreateIdentityProvider(ctx context.Context, p storage.IdentityProvider) error {
	args, err := idpArgs(p)
	if err != nil {
		return wrap("create identity provider", err)
	}
	_, err = execRows(ctx, s.q(), "create identity provider",
		`INSERT INTO identity_providers (`+idpColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, args...)
	return err
}

// GetIdentityProvider implements storage.Storage.
func (s *Store) GetIdentityProvider(ctx context.Context, poolID, name string) (storage.IdentityProvider, error) {
	return getOne(ctx, s.q(), "get identity provider", scanIDP,
		`SELECT `+idpColumns+` FROM identity_providers WHERE pool_id = $1 AND name = $2`, poolID, name)
}

// ListIdentityProviders implements storage.Storage. Names order bytewise.
func (s *Store) ListIdentityProviders(ctx context.Context, poolID, after string, limit int) ([]storage.IdentityProvider, error) {
	return getAll(ctx, s.q(), "list identity providers", scanIDP,
		`SELECT `+idpColumns+` FROM identity_providers WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT $3`,
		poolID, after, sqlLimit(limit))
}

// UpdateIdentityProvider implements storage.Storage.
func (s *Store) UpdateIdentityProvider(ctx context.Context, poolID, name string, fn func(storage.IdentityProvider) (storage.IdentityProvider, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update identity provider", scanIDP,
			`SELECT `+idpColumns+` FROM identity_providers WHERE pool_id = $1 AND name = $2 FOR UPDATE`, poolID, name)
		if err != nil {
			return err
		}
		p, err := fn(old)
		if err != nil {
			return err
		}
		if p.PoolID != poolID || p.Name != name {
			return errKeyChanged("update identity provider", poolID+"/"+name, p.PoolID+"/"+p.Name)
		}
		args, err := idpArgs(p)
		if err != nil {
			return wrap("update identity provider", err)
		}
		return execOne(ctx, tx.tx, "update identity provider", `UPDATE identity_providers SET type = $3, details = $4,
			attribute_mapping = $5, identifiers = $6, created_at = $7, updated_at = $8
			WHERE pool_id = $1 AND name = $2`, args...)
	})
}

// DeleteIdentityProvider implements storage.Storage.
func (s *Store) DeleteIdentityProvider(ctx context.Context, poolID, name string) error {
	return s.inTx(ctx, func(tx *Store) error {
		if err := execOne(ctx, tx.tx, "delete identity provider",
			`DELETE FROM identity_providers WHERE pool_id = $1 AND name = $2`, poolID, name); err != nil {
			return err
		}
		_, err := execRows(ctx, tx.tx, "delete identity provider links",
			`DELETE FROM federated_links WHERE pool_id = $1 AND provider_name = $2`, poolID, name)
		return err
	})
}

const linkColumns = `pool_id, provider_name, subject, username, created_at`

func scanLink(r pgx.Row) (storage.FederatedLink, error) {
	var (
		l       storage.FederatedLink
		created int64
	)
	if err := r.Scan(&l.PoolID, &l.ProviderName, &l.Subject, &l.Username, &created); err != nil {
		return l, err
	}
	l.CreatedAt = fromMicros(created)
	return l, nil
}

// CreateFederatedLink implements storage.Storage. A missing user is
// ErrNotFound.
func (s *Store) CreateFederatedLink(ctx context.Context, l storage.FederatedLink) error {
	_, err := execRows(ctx, s.q(), "create federated link",
		`INSERT INTO federated_links (`+linkColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		l.PoolID, l.ProviderName, l.Subject, l.Username, micros(l.CreatedAt))
	return err
}

// GetFederatedLink implements storage.Storage.
func (s *Store) GetFederatedLink(ctx context.Context, poolID, providerName, subject string) (storage.FederatedLink, error) {
	return getOne(ctx, s.q(), "get federated link", scanLink,
		`SELECT `+linkColumns+` FROM federated_links WHERE pool_id = $1 AND provider_name = $2 AND subject = $3`,
		poolID, providerName, subject)
}

// ListFederatedLinks implements storage.Storage.
func (s *Store) ListFederatedLinks(ctx context.Context, poolID, username string) ([]storage.FederatedLink, error) {
	return getAll(ctx, s.q(), "list federated links", scanLink,
		`SELECT `+linkColumns+` FROM federated_links WHERE pool_id = $1 AND username = $2 ORDER BY provider_name, subject`,
		poolID, username)
}

// DeleteFederatedLink implements storage.Storage.
func (s *Store) DeleteFederatedLink(ctx context.Context, poolID, providerName, subject string) error {
	return execOne(ctx, s.q(), "delete federated link",
		`DELETE FROM federated_links WHERE pool_id = $1 AND provider_name = $2 AND subject = $3`,
		poolID, providerName, subject)
}
