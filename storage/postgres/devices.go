package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const deviceColumns = `pool_id, device_key, username, group_key, name, remembered, salt, verifier, last_ip,
	created_at, updated_at, last_authenticated_at`

func scanDevice(r pgx.Row) (storage.Device, error) {
	var (
		d                          storage.Device
		created, updated, lastAuth int64
	)
	if err := r.Scan(&d.PoolID, &d.Key, &d.Username, &d.GroupKey, &d.Name, &d.Remembered, &d.Salt, &d.Verifier,
		&d.LastIP, &created, &updated, &lastAuth); err != nil {
		return storage.Device{}, err
	}
	d.CreatedAt, d.UpdatedAt, d.LastAuthenticatedAt = fromMicros(created), fromMicros(updated), fromMicros(lastAuth)
	return d, nil
}

// nonNil stores an empty byte slice as an empty bytea rather than NULL,
// which the NOT NULL columns refuse.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateDevice implements storage.Storage. A missing user is ErrNotFound;
// a taken key is ErrAlreadyExists.
func (s *Store) CreateDevice(ctx context.Context, d storage.Device) error {
	_, err := execRows(ctx, s.q(), "create device",
		`INSERT INTO devices (`+deviceColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		d.PoolID, d.Key, d.Username, d.GroupKey, d.Name, d.Remembered, nonNil(d.Salt), nonNil(d.Verifier), d.LastIP,
		micros(d.CreatedAt), micros(d.UpdatedAt), micros(d.LastAuthenticatedAt))
	return err
}

// GetDevice implements storage.Storage.
func (s *Store) GetDevice(ctx context.Context, poolID, key string) (storage.Device, error) {
	return getOne(ctx, s.q(), "get device", scanDevice,
		`SELECT `+deviceColumns+` FROM devices WHERE pool_id = $1 AND device_key = $2`, poolID, key)
}

// ListDevices implements storage.Storage. Keys order bytewise (COLLATE
// "C"); a limit of zero or less means no limit.
func (s *Store) ListDevices(ctx context.Context, poolID, username, after string, limit int) ([]storage.Device, error) {
	return getAll(ctx, s.q(), "list devices", scanDevice,
		`SELECT `+deviceColumns+` FROM devices WHERE pool_id = $1 AND username = $2 AND device_key > $3
		ORDER BY device_key LIMIT $4`, poolID, username, after, sqlLimit(limit))
}

// UpdateDevice implements storage.Storage.
func (s *Store) UpdateDevice(ctx context.Context, poolID, key string, fn func(storage.Device) (storage.Device, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := getOne(ctx, tx.tx, "update device", scanDevice,
			`SELECT `+deviceColumns+` FROM devices WHERE pool_id = $1 AND device_key = $2 FOR UPDATE`, poolID, key)
		if err != nil {
			return err
		}
		d, err := fn(old)
		if err != nil {
			return err
		}
		if d.PoolID != poolID || d.Key != key || d.Username != old.Username {
			return errKeyChanged("update device", poolID+"/"+key+"@"+old.Username, d.PoolID+"/"+d.Key+"@"+d.Username)
		}
		return execOne(ctx, tx.tx, "update device",
			`UPDATE devices SET group_key = $3, name = $4, remembered = $5, salt = $6, verifier = $7, last_ip = $8,
			created_at = $9, updated_at = $10, last_authenticated_at = $11
			WHERE pool_id = $1 AND device_key = $2`,
			poolID, key, d.GroupKey, d.Name, d.Remembered, nonNil(d.Salt), nonNil(d.Verifier), d.LastIP,
			micros(d.CreatedAt), micros(d.UpdatedAt), micros(d.LastAuthenticatedAt))
	})
}

// DeleteDevice implements storage.Storage.
func (s *Store) DeleteDevice(ctx context.Context, poolID, key string) error {
	return execOne(ctx, s.q(), "delete device",
		`DELETE FROM devices WHERE pool_id = $1 AND device_key = $2`, poolID, key)
}
