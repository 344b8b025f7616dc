package sqlite

import (
	"context"
	"encoding/json"

	"github.com/cognate-auth/cognate/storage"
)

const poolColumns = `id, name, settings, created_at, updated_at`

const sqlGetPool = `SELECT ` + poolColumns + ` FROM pools WHERE id = ?`

func scanPool(sc scanner) (storage.Pool, error) {
	r := new(struct { // one allocation, see scanUser
		p                storage.Pool
		settings         string
		created, updated int64
		dest             [5]any
	})
	p := &r.p
	r.dest = [...]any{&p.ID, &p.Name, &r.settings, &r.created, &r.updated}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.Pool{}, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	if err := poolSettings.decode(r.settings, &p.Settings); err != nil {
		return storage.Pool{}, err
	}
	return *p, nil
}

// CreatePool implements storage.Storage.
func (s *Store) CreatePool(ctx context.Context, p storage.Pool) error {
	settings, err := json.Marshal(p.Settings)
	if err != nil {
		return wrap("create pool", err)
	}
	_, err = execRows(ctx, s.writes(), "create pool",
		`INSERT INTO pools (`+poolColumns+`) VALUES (?, ?, ?, ?, ?)`,
		p.ID, p.Name, string(settings), micros(p.CreatedAt), micros(p.UpdatedAt))
	return err
}

// GetPool implements storage.Storage.
func (s *Store) GetPool(ctx context.Context, id string) (storage.Pool, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetPool), "get pool", scanPool, id)
}

// ListPools implements storage.Storage; pools come ordered by ID.
func (s *Store) ListPools(ctx context.Context) ([]storage.Pool, error) {
	return getAll(ctx, s.reads(), "list pools", scanPool,
		`SELECT `+poolColumns+` FROM pools ORDER BY id`)
}

// UpdatePool implements storage.Storage.
func (s *Store) UpdatePool(ctx context.Context, id string, fn func(storage.Pool) (storage.Pool, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetPool(ctx, id)
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
			`UPDATE pools SET name = ?, settings = ?, created_at = ?, updated_at = ? WHERE id = ?`,
			p.Name, string(settings), micros(p.CreatedAt), micros(p.UpdatedAt), id)
	})
}

const clientColumns = `client_id, pool_id, name, secret, settings, created_at, updated_at`

const sqlGetClient = `SELECT ` + clientColumns + ` FROM clients WHERE client_id = ?`

func scanClient(sc scanner) (storage.Client, error) {
	r := new(struct { // one allocation, see scanUser
		c                storage.Client
		settings         string
		created, updated int64
		dest             [7]any
	})
	c := &r.c
	r.dest = [...]any{&c.ClientID, &c.PoolID, &c.Name, &c.Secret, &r.settings, &r.created, &r.updated}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.Client{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	if err := clientSettings.decode(r.settings, &c.Settings); err != nil {
		return storage.Client{}, err
	}
	return *c, nil
}

// CreateClient implements storage.Storage. A missing pool is ErrNotFound.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	settings, err := json.Marshal(c.Settings)
	if err != nil {
		return wrap("create client", err)
	}
	_, err = execRows(ctx, s.writes(), "create client",
		`INSERT INTO clients (`+clientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.ClientID, c.PoolID, c.Name, c.Secret, string(settings), micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

// GetClient implements storage.Storage.
func (s *Store) GetClient(ctx context.Context, clientID string) (storage.Client, error) {
	return getOneStmt(ctx, s.stmt(ctx, stGetClient), "get client", scanClient, clientID)
}

// ListClients implements storage.Storage; clients come ordered by ID.
func (s *Store) ListClients(ctx context.Context, poolID string) ([]storage.Client, error) {
	return getAll(ctx, s.reads(), "list clients", scanClient,
		`SELECT `+clientColumns+` FROM clients WHERE pool_id = ? ORDER BY client_id`, poolID)
}

// UpdateClient implements storage.Storage. The updater may not change
// ClientID or PoolID.
func (s *Store) UpdateClient(ctx context.Context, clientID string, fn func(storage.Client) (storage.Client, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetClient(ctx, clientID)
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
			`UPDATE clients SET name = ?, secret = ?, settings = ?, created_at = ?, updated_at = ? WHERE client_id = ?`,
			c.Name, c.Secret, string(settings), micros(c.CreatedAt), micros(c.UpdatedAt), clientID)
	})
}
