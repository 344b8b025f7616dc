package sqlite

import (
	"context"

	"github.com/cognate-auth/cognate/storage"
)

const deviceColumns = `pool_id, device_key, username, group_key, name, remembered, salt, verifier, last_ip,
	created_at, updated_at, last_authenticated_at`

func scanDevice(sc scanner) (storage.Device, error) {
	var (
		d                          storage.Device
		created, updated, lastAuth int64
	)
	if err := sc.Scan(&d.PoolID, &d.Key, &d.Username, &d.GroupKey, &d.Name, &d.Remembered, &d.Salt, &d.Verifier,
		&d.LastIP, &created, &updated, &lastAuth); err != nil {
		return storage.Device{}, err
	}
	d.CreatedAt, d.UpdatedAt, d.LastAuthenticatedAt = fromMicros(created), fromMicros(updated), fromMicros(lastAuth)
	return d, nil
}

// CreateDevice implements storage.Storage. A missing user is ErrNotFound;
// a taken key is ErrAlreadyExists.
func (s *Store) CreateDevice(ctx context.Context, d storage.Device) error {
	_, err := execRows(ctx, s.writes(), "create device",
		`INSERT INTO devices (`+deviceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.PoolID, d.Key, d.Username, d.GroupKey, d.Name, d.Remembered, nonNil(d.Salt), nonNil(d.Verifier), d.LastIP,
		micros(d.CreatedAt), micros(d.UpdatedAt), micros(d.LastAuthenticatedAt))
	return err
}

// nonNil stores an empty byte slice as an empty blob rather than NULL,
// which the NOT NULL columns refuse.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// GetDevice implements storage.Storage.
func (s *Store) GetDevice(ctx context.Context, poolID, key string) (storage.Device, error) {
	return getOne(ctx, s.reads(), "get device", scanDevice,
		`SELECT `+deviceColumns+` FROM devices WHERE pool_id = ? AND device_key = ?`, poolID, key)
}

// ListDevices implements storage.Storage. Keys order bytewise; a limit of
// zero or less means no limit.
func (s *Store) ListDevices(ctx context.Context, poolID, username, after string, limit int) ([]storage.Device, error) {
	return getAll(ctx, s.reads(), "list devices", scanDevice,
		`SELECT `+deviceColumns+` FROM devices WHERE pool_id = ? AND username = ? AND device_key > ?
		ORDER BY device_key LIMIT ?`, poolID, username, after, sqlLimit(limit))
}

// UpdateDevice implements storage.Storage.
func (s *Store) UpdateDevice(ctx context.Context, poolID, key string, fn func(storage.Device) (storage.Device, error)) error {
	return s.inTx(ctx, func(tx *Store) error {
		old, err := tx.GetDevice(ctx, poolID, key)
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
			`UPDATE devices SET group_key = ?, name = ?, remembered = ?, salt = ?, verifier = ?, last_ip = ?,
			created_at = ?, updated_at = ?, last_authenticated_at = ?
			WHERE pool_id = ? AND device_key = ?`,
			d.GroupKey, d.Name, d.Remembered, nonNil(d.Salt), nonNil(d.Verifier), d.LastIP,
			micros(d.CreatedAt), micros(d.UpdatedAt), micros(d.LastAuthenticatedAt), poolID, key)
	})
}

// DeleteDevice implements storage.Storage.
func (s *Store) DeleteDevice(ctx context.Context, poolID, key string) error {
	return execOne(ctx, s.writes(), "delete device",
		`DELETE FROM devices WHERE pool_id = ? AND device_key = ?`, poolID, key)
}
