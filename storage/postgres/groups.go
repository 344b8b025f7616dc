package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/cognate-auth/cognate/storage"
)

const groupColumns = `pool_id, name, description, precedence, role_arn, created_at, updated_at`

func scanGroup(r pgx.Row) (storage.Group, error) {
	var (
		g                storage.Group
		created, updated int64
	)
	if err := r.Scan(&g.PoolID, &g.Name, &g.Description, &g.Precedence, &g.RoleArn, &created, &updated); err != nil {
		return storage.Group{}, err
	}
	g.CreatedAt, g.UpdatedAt = fromMicros(created), fromMicros(updated)
	return g, nil
}

// CreateGroup implements storage.Storage. A missing pool is ErrNotFound.
func (s *Store) CreateGroup(ctx context.Context, g storage.Group) error {
	_, err := execRows(ctx, s.q(), "create group",
		`INSERT INTO pool_groups (`+groupColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.PoolID, g.Name, g.Description, g.Precedence, g.RoleArn, micros(g.CreatedAt), micros(g.UpdatedAt))
	return err
}

// GetGroup implements storage.Storage.
func (s *Store) GetGroup(ctx context.Context, poolID, name string) (storage.Group, error) {
	return getOne(ctx, s.q(), "get group", scanGroup,
		`SELECT `+groupColumns+` FROM pool_groups WHERE pool_id = $1 AND name = $2`, poolID, name)
}

// ListGroups implements storage.Storage; groups come ordered by name.
func (s *Store) ListGroups(ctx context.Context, poolID string) ([]storage.Group, error) {
	return getAll(ctx, s.q(), "list groups", scanGroup,
		`SELECT `+groupColumns+` FROM pool_groups WHERE pool_id = $1 ORDER BY name`, poolID)
}

// AddUserToGroup implements storage.Storage. A missing user or group is
// ErrNotFound.
func (s *Store) AddUserToGroup(ctx context.Context, poolID, username, group string) error {
	// ON CONFLICT covers only the primary key, so the foreign keys still
	// catch a missing user or group.
	_, err := execRows(ctx, s.q(), "add user to group",
		`INSERT INTO group_members (pool_id, username, group_name) VALUES ($1, $2, $3)
		ON CONFLICT (pool_id, username, group_name) DO NOTHING`,
		poolID, username, group)
	return err
}

// RemoveUserFromGroup implements storage.Storage.
func (s *Store) RemoveUserFromGroup(ctx context.Context, poolID, username, group string) error {
	_, err := execRows(ctx, s.q(), "remove user from group",
		`DELETE FROM group_members WHERE pool_id = $1 AND username = $2 AND group_name = $3`,
		poolID, username, group)
	return err
}

// ListGroupsForUser implements storage.Storage. An unknown user has no
// groups.
func (s *Store) ListGroupsForUser(ctx context.Context, poolID, username string) ([]storage.Group, error) {
	return getAll(ctx, s.q(), "list groups for user", scanGroup,
		`SELECT g.pool_id, g.name, g.description, g.precedence, g.role_arn, g.created_at, g.updated_at
		FROM group_members m
		JOIN pool_groups g ON g.pool_id = m.pool_id AND g.name = m.group_name
		WHERE m.pool_id = $1 AND m.username = $2
		ORDER BY g.precedence ASC NULLS LAST, g.name`, poolID, username)
}
