package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

var _ storage.Enumerator = (*Store)(nil)

// Text keys are ordered COLLATE "C", by their bytes, whatever the
// database's collation: the order SQLite walks them in too.

// each runs a query and calls fn with each scanned row, streaming them;
// fn's error stops the walk and is returned unchanged.
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

func scanGroupMember(r pgx.Row) (groupMember, error) {
	var m groupMember
	err := r.Scan(&m.poolID, &m.username, &m.group)
	return m, err
}

// EachGroupMember implements storage.Enumerator.
func (s *Store) EachGroupMember(ctx context.Context, fn func(poolID, username, group string) error) error {
	return each(ctx, s, "each group member", scanGroupMember,
		func(m groupMember) error { return fn(m.poolID, m.username, m.group) },
		`SELECT pool_id, username, group_name FROM group_members
		ORDER BY pool_id COLLATE "C", username COLLATE "C", group_name COLLATE "C"`)
}

// EachRefreshFamily implements storage.Enumerator.
func (s *Store) EachRefreshFamily(ctx context.Context, fn func(storage.RefreshFamily) error) error {
	return each(ctx, s, "each refresh family", scanFamily, fn,
		`SELECT `+familyColumns+` FROM refresh_families ORDER BY id COLLATE "C"`)
}

// EachRefreshToken implements storage.Enumerator.
func (s *Store) EachRefreshToken(ctx context.Context, fn func(storage.RefreshToken) error) error {
	return each(ctx, s, "each refresh token", scanToken, fn,
		`SELECT `+tokenColumns+` FROM refresh_tokens ORDER BY hash`)
}

// EachCode implements storage.Enumerator.
func (s *Store) EachCode(ctx context.Context, fn func(storage.Code) error) error {
	return each(ctx, s, "each code", scanCode, fn,
		`SELECT `+codeColumns+` FROM codes
		ORDER BY pool_id COLLATE "C", username COLLATE "C", purpose COLLATE "C"`)
}

// secret is one row of secrets.
type secret struct {
	name  string
	value []byte
}

func scanSecret(r pgx.Row) (secret, error) {
	var v secret
	err := r.Scan(&v.name, &v.value)
	return v, err
}

// EachSecret implements storage.Enumerator.
func (s *Store) EachSecret(ctx context.Context, fn func(name string, value []byte) error) error {
	return each(ctx, s, "each secret", scanSecret,
		func(v secret) error { return fn(v.name, v.value) },
		`SELECT name, value FROM secrets ORDER BY name COLLATE "C"`)
}
