package sqlite

import (
	"context"
	"database/sql"

	"github.com/cognate-auth/cognate/storage"
)

const groupColumns = `pool_id, name, description, precedence, role_arn, created_at, updated_at`

// sqlListGroupsForUser sorts "precedence IS NULL" false (0) before true
// (1): groups without a precedence go last, in SQLite and PostgreSQL
// alike.
const sqlListGroupsForUser = `SELECT g.pool_id, g.name, g.description, g.precedence, g.role_arn, g.created_at, g.updated_at
	FROM group_members m
	JOIN pool_groups g ON g.pool_id = m.pool_id AND g.name = m.group_name
	WHERE m.pool_id = ? AND m.username = ?
	ORDER BY g.precedence IS NULL, g.precedence, g.name`

func scanGroup(sc scanner) (storage.Group, error) {
	r := new(struct { // one allocation, see scanUser
		g                storage.Group
		precedence       sql.NullInt64
		created, updated int64
		dest             [7]any
	})
	g := &r.g
	r.dest = [...]any{&g.PoolID, &g.Name, &g.Description, &r.precedence, &g.RoleArn, &r.created, &r.updated}
	if err := sc.Scan(r.dest[:]...); err != nil {
		return storage.Group{}, err
	}
	if r.precedence.Valid {
		p := r.precedence.Int64
		g.Precedence = &p
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	return *g, nil
}

// CreateGroup implements storage.Storage. A missing pool is ErrNotFound.
func (s *Store) CreateGroup(ctx context.Context, g storage.Group) error {
	var precedence sql.NullInt64
	if g.Precedence != nil {
		precedence = sql.NullInt64{Int64: *g.Precedence, Valid: true}
	}
	_, err := execRows(ctx, s.writes(), "create group",
		`INSERT INTO pool_groups (`+groupColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		g.PoolID, g.Name, g.Description, precedence, g.RoleArn, micros(g.CreatedAt), micros(g.UpdatedAt))
	return err
}

// GetGroup implements storage.Storage.
func (s *Store) GetGroup(ctx context.Context, poolID, name string) (storage.Group, error) {
	return getOne(ctx, s.reads(), "get group", scanGroup,
		`SELECT `+groupColumns+` FROM pool_groups WHERE pool_id = ? AND name = ?`, poolID, name)
}

// ListGroups implements storage.Storage; groups come ordered by name.
func (s *Store) ListGroups(ctx context.Context, poolID string) ([]storage.Group, error) {
	return getAll(ctx, s.reads(), "list groups", scanGroup,
		`SELECT `+groupColumns+` FROM pool_groups WHERE pool_id = ? ORDER BY name`, poolID)
}

// AddUserToGroup implements storage.Storage. A missing user or group is
// ErrNotFound.
func (s *Store) AddUserToGroup(ctx context.Context, poolID, username, group string) error {
	// ON CONFLICT covers only the primary key, so the foreign keys still
	// catch a missing user or group.
	_, err := execRows(ctx, s.writes(), "add user to group",
		`INSERT INTO group_members (pool_id, username, group_name) VALUES (?, ?, ?)
		ON CONFLICT (pool_id, username, group_name) DO NOTHING`,
		poolID, username, group)
	return err
}

// RemoveUserFromGroup implements storage.Storage.
func (s *Store) RemoveUserFromGroup(ctx context.Context, poolID, username, group string) error {
	_, err := execRows(ctx, s.writes(), "remove user from group",
		`DELETE FROM group_members WHERE pool_id = ? AND username = ? AND group_name = ?`,
		poolID, username, group)
	return err
}

// ListGroupsForUser implements storage.Storage. An unknown user has no
// groups.
func (s *Store) ListGroupsForUser(ctx context.Context, poolID, username string) ([]storage.Group, error) {
	return getAllStmt(ctx, s.stmt(ctx, stListGroupsForUser), "list groups for user", scanGroup, poolID, username)
}
