package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/cognate-auth/cognate/storage/internal/migrations"
)

// migrationFiles holds the schema history. Files are named
// NNNN_description.sql and are never edited once released: a change is a
// new file.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration = migrations.Migration

// loadMigrations returns the embedded migrations ordered by version.
func loadMigrations() ([]migration, error) {
	return migrations.Load(migrationFiles, "migrations/*.sql")
}

// migrate applies the migrations db lacks, each in its own transaction.
// Transactions begin IMMEDIATE, so two processes opening a fresh file at
// once apply each migration once.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    BIGINT NOT NULL PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	// A file migrated by a newer binary may hold data this one would
	// misread; refuse it rather than guess.
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if latest := ms[len(ms)-1].Version; newest.Int64 > latest {
		return fmt.Errorf("sqlite: migrate: database is at version %d, newer than this binary's %d", newest.Int64, latest)
	}
	for _, m := range ms {
		applied, err := applyMigration(ctx, db, m)
		if err != nil {
			return fmt.Errorf("sqlite: migrate %s: %w", m.Name, err)
		}
		if applied {
			log.Info("sqlite: applied migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// applyMigration runs m unless it is already recorded, and reports whether
// it ran.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() // no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
		m.Version, time.Now().UnixMicro()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
