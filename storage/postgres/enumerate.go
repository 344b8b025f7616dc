package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

var _ storage.Enumerator = (*Store)(nil)

// each runs a query and calls fn with each scanned row as it arrives, so
// that a walk of a big table holds one row at a time (and a connection
// until it ends); fn's error stops the walk and is returned unchanged.
func each[T any](ctx context.Context, s *Store, op string, scan func(pgx.Row) (T, error), fn func(T) error, query string) error {
	rows, err := s.q().Query(ctx, query)
	if err != nil {
		return wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return wrap(op, err)
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap(op, err)
	}
	return nil
}

// groupMember is one row of group_members.
type groupMember struct{ poolID, username, group string }

// EachGroupMember implements storage.Enumerator.
func (s *Store) EachGroupMember(ctx context.Context, fn func(poolID, username, group string) error) error {
	return each(ctx, s, "each group member", func(r pgx.Row) (groupMember, error) {
		var m groupMember
		return m, r.Scan(&m.poolID, &m.username, &m.group)
	}, func(m groupMember) error { return fn(m.poolID, m.username, m.group) },
		`SELECT pool_id, username, group_name FROM group_members ORDER BY pool_id, username, group_name`)
}

// EachRefreshFamily implements storage.Enumerator.
func (s *Store) EachRefreshFamily(ctx context.Context, fn func(storage.RefreshFamily) error) error {
	return each(ctx, s, "each refresh family", scanFamily, fn,
		`SELECT `+familyColumns+` FROM refresh_families ORDER BY id`)
}

// EachRefreshToken implements storage.Enumerator. BYTEA orders bytewise.
func (s *Store) EachRefreshToken(ctx context.Context, fn func(storage.RefreshToken) error) error {
	return each(ctx, s, "each refresh token", scanToken, fn,
		`SELECT `+tokenColumns+` FROM refresh_tokens ORDER BY hash`)
}

// EachCode implements storage.Enumerator.
func (s *Store) EachCode(ctx context.Context, fn func(storage.Code) error) error {
	return each(ctx, s, "each code", scanCode, fn,
		`SELECT `+codeColumns+` FROM codes ORDER BY pool_id, username, purpose`)
}

// secret is one row of secrets.
type secret struct {
	name  string
	value []byte
}

// EachSecret implements storage.Enumerator. Secret names keep the
// database's collation in the schema, so the order is asked for here.
func (s *Store) EachSecret(ctx context.Context, fn func(name string, value []byte) error) error {
	return each(ctx, s, "each secret", func(r pgx.Row) (secret, error) {
		var v secret
		return v, r.Scan(&v.name, &v.value)
	}, func(v secret) error { return fn(v.name, v.value) },
		`SELECT name, value FROM secrets ORDER BY name COLLATE "C"`)
}
