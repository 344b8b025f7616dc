package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const poolColumns = `id, name, settings, created_at, updated_at`

func scanPool(r pgx.Row) (storage.Pool, error) {
	var (
		p                storage.Pool
		settings         []byte
		created, updated int64
	)
	if err := r.Scan(&p.ID, &p.Name, &settings, &created, &updated); err != nil {
		return storage.Pool{}, err
	}
	if err := json.Unmarshal(settings, &p.Settings); err != nil {
		return storage.Pool{}, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return p, nil
}

// CreatePool implements storage.Storage.
func (s *Store) CreatePool(ctx context.Context, p storage.Pool) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return wrap("create pool", err)
	}
	_, err = execRows(ctx, s.q(), "create pool",
		`INSERT INTO pools (`+poolColumns+`) VALUES ($1, $2, $3, $4, $5)`,
		p.ID, p.Name, settings, micros(p.CreatedAt), micros(p.UpdatedAt))
	return err
}

// GetPool implements storage.Storage.
func (s *Store) GetPool(ctx context.Context, id string) (storage.Pool, error) {
	return getOne(ctx, s.q(), "get pool", scanPool, `SELECT `+poolColumns+` FROM pools WHERE id = $1`, id)
}

// ListPools implements storage.Storage; pools come ordered by ID.
func (s *Store) ListPools(ctx context.Context) ([]storage.Pool, error) {
	return getAll(ctx, s.q(), "list pools", scanPool, `SELECT `+poolColumns+` FROM pools ORDER BY id`)
}

// UpdatePool implements storage.Storage.
func (s *Store) UpdatePool(ctx context.Context, id string, fn func(storage.Pool) (storage.Pool, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update pool", scanPool,
			`SELECT `+poolColumns+` FROM pools WHERE id = $1 FOR UPDATE`, id)
		if err != nil {
			return err
		}
		p, err := fn(old)
		if err != nil {
			return err
		}
		if p.ID != id {
			return errKeyChanged("update pool", id, p.ID)
		}
		settings, err := json.Marshal(p.Settings)
		if err != nil {
			return wrap("update pool", err)
		}
		return execOne(ctx, tx.tx, "update pool",
			`UPDATE pools SET name = $1, settings = $2, created_at = $3, updated_at = $4 WHERE id = $5`,
			p.Name, settings, micros(p.CreatedAt), micros(p.UpdatedAt), id)
	})
}

const clientColumns = `client_id, pool_id, name, secret, settings, created_at, updated_at`

func scanClient(r pgx.Row) (storage.Client, error) {
	var (
		c                storage.Client
		settings         []byte
		created, updated int64
	)
	if err := r.Scan(&c.ClientID, &c.PoolID, &c.Name, &c.Secret, &settings, &created, &updated); err != nil {
		return storage.Client{}, err
	}
	if err := json.Unmarshal(settings, &c.Settings); err != nil {
		return storage.Client{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// CreateClient implements storage.Storage. A missing pool is ErrNotFound.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	settings, err := json.Marshal(c.Settings)
	if err != nil {
		return wrap("create client", err)
	}
	_, err = execRows(ctx, s.q(), "create client",
		`INSERT INTO clients (`+clientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ClientID, c.PoolID, c.Name, c.Secret, settings, micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

// GetClient implements storage.Storage.
func (s *Store) GetClient(ctx context.Context, clientID string) (storage.Client, error) {
	return getOne(ctx, s.q(), "get client", scanClient,
		`SELECT `+clientColumns+` FROM clients WHERE client_id = $1`, clientID)
}

// ListClients implements storage.Storage; clients come ordered by ID.
func (s *Store) ListClients(ctx context.Context, poolID string) ([]storage.Client, error) {
	return getAll(ctx, s.q(), "list clients", scanClient,
		`SELECT `+clientColumns+` FROM clients WHERE pool_id = $1 ORDER BY client_id`, poolID)
}

// UpdateClient implements storage.Storage. The updater may not change
// ClientID or PoolID.
func (s *Store) UpdateClient(ctx context.Context, clientID string, fn func(storage.Client) (storage.Client, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update client", scanClient,
			`SELECT `+clientColumns+` FROM clients WHERE client_id = $1 FOR UPDATE`, clientID)
		if err != nil {
			return err
		}
		c, err := fn(old)
		if err != nil {
			return err
		}
		if c.ClientID != old.ClientID || c.PoolID != old.PoolID {
			return errKeyChanged("update client", old.PoolID+"/"+old.ClientID, c.PoolID+"/"+c.ClientID)
		}
		settings, err := json.Marshal(c.Settings)
		if err != nil {
			return wrap("update client", err)
		}
		return execOne(ctx, tx.tx, "update client",
			`UPDATE clients SET name = $1, secret = $2, settings = $3, created_at = $4, updated_at = $5 WHERE client_id = $6`,
			c.Name, c.Secret, settings, micros(c.CreatedAt), micros(c.UpdatedAt), clientID)
	})
}
