package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cognate-auth/cognate/storage/internal/migrations"
)

// ErrSchemaTooNew is Open's error when the database was migrated by a
// newer Cognate than this one: its data may mean something this binary
// would misread, so it refuses to start rather than guess.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this binary")

// migrationLockKey is the advisory lock (pg_advisory_xact_lock's bigint
// key space is shared by every application of the database) that
// serializes migrations: "cognate" in ASCII.
const migrationLockKey int64 = 0x636f676e617465

// migrationFiles holds the schema history. Files are named
// NNNN_description.sql, with the numbers of storage/sqlite's migrations
// they mirror, and are never edited once released: a change is a new
// file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration = migrations.Migration

// loadMigrations returns the embedded migrations ordered by version.
func loadMigrations() ([]migration, error) {
	return migrations.Load(migrationFiles, "migrations/*.sql")
}

// migrate applies the migrations the database lacks, all in one
// transaction that first takes the migration lock: of several nodes
// starting at once, one migrates and the others, once it commits, find
// nothing left to do.
func migrate(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return wrap("migrate: begin", err)
	}
	// A no-op once committed; on failure it undoes every migration.
	defer tx.Rollback(context.WithoutCancel(ctx))
	applied, err := applyMigrations(ctx, tx, ms)
	if err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap("migrate: commit", err)
	}
	for _, m := range applied {
		log.Info("postgres: applied migration", "version", m.Version, "name", m.Name)
	}
	return nil
}

// applyMigrations takes the migration lock in tx, checks the database is
// not newer than ms, and applies those of ms it lacks.
func applyMigrations(ctx context.Context, tx pgx.Tx, ms []migration) ([]migration, error) {
	// A migration may rewrite a big table, and waiting for another node's
	// migration is expected: ctx alone bounds them.
	if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
		return nil, wrap("migrate", err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey); err != nil {
		return nil, wrap("migrate: lock", err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT      NOT NULL PRIMARY KEY,
		name       TEXT        NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return nil, wrap("migrate", err)
	}
	versions, err := getAll(ctx, tx, "migrate", func(r pgx.Row) (int64, error) {
		var v int64
		return v, r.Scan(&v)
	}, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, err
	}
	done := map[int64]bool{}
	var newest int64
	for _, v := range versions {
		done[v] = true
		newest = max(newest, v)
	}
	if latest := ms[len(ms)-1].Version; newest > latest {
		return nil, fmt.Errorf("%w: the database is at schema version %d and this binary knows versions up to %d; "+
			"upgrade cognate to the release that migrated it, or a newer one", ErrSchemaTooNew, newest, latest)
	}
	var applied []migration
	for _, m := range ms {
		if done[m.Version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return nil, wrap("migrate "+m.Name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
			m.Version, m.Name); err != nil {
			return nil, wrap("migrate "+m.Name, err)
		}
		applied = append(applied, m)
	}
	return applied, nil
}
