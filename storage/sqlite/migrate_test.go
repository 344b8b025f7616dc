package sqlite

import (
	"path/filepath"
	"testing"
	"time"
)

// TestMigration5CarriesState upgrades a version-4 file holding a user in
// the middle of a lockout and an outbox message: the lockout moves to the
// attempts table and the message counts as sent.
func TestMigration5CarriesState(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cognate.db")
	db, err := openWriter(ctx, path)
	mustDo(t, err)
	ms, err := loadMigrations()
	mustDo(t, err)
	_, err = db.ExecContext(ctx, `CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)`)
	mustDo(t, err)
	for _, m := range ms {
		if m.Version > 4 {
			break
		}
		_, err := applyMigration(ctx, db, m)
		mustDo(t, err)
	}
	locked := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	updated := locked.Add(-time.Second)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`INSERT INTO pools (id, name, settings, created_at, updated_at) VALUES ('p', 'p', '{}', 1, 1)`)
	for i, failures := range []int{7, 0} {
		exec(`INSERT INTO users (pool_id, username, sub, email, attributes, pending_attributes, status, enabled,
			srp_salt, srp_verifier, password_expires_at, failed_sign_ins, locked_until, created_at, updated_at)
			VALUES ('p', ?, ?, '', '{}', '{}', 'CONFIRMED', 1, x'00', x'00', 0, ?, ?, 1, ?)`,
			[]string{"alice", "bob"}[i], []string{"s1", "s2"}[i], failures, locked.UnixMicro(), updated.UnixMicro())
	}
	exec(`INSERT INTO messages (pool_id, username, destination, kind, code, created_at) VALUES ('p', 'alice', 'a@example.com', 'sign_up', '123456', ?)`,
		updated.UnixMicro())
	mustDo(t, db.Close())

	s := openStore(t, path)
	a, err := s.GetAttempts(ctx, "p", "password/alice")
	mustDo(t, err)
	if a.Failures != 7 || !a.LockedUntil.Equal(locked) || !a.LastFailure.Equal(updated) || !a.ExpiresAt.Equal(locked.Add(24*time.Hour)) {
		t.Errorf("alice's carried-over counter = %+v", a)
	}
	if _, err := s.GetAttempts(ctx, "p", "password/bob"); err == nil {
		t.Error("bob, with no failures, got a counter")
	}
	u, err := s.GetUser(ctx, "p", "alice")
	mustDo(t, err)
	if u.Username != "alice" {
		t.Errorf("GetUser after the migration = %+v", u)
	}
	msgs, err := s.ListMessages(ctx, 0)
	mustDo(t, err)
	if len(msgs) != 1 || !msgs[0].DoneAt.Equal(updated) || msgs[0].Code != "123456" {
		t.Errorf("outbox after the migration = %+v, want the message sent at its creation", msgs)
	}
	if pending, err := s.ClaimMessages(ctx, locked.Add(time.Hour), time.Minute, 10); err != nil || len(pending) != 0 {
		t.Errorf("ClaimMessages after the migration = %v, %v; want nothing to deliver", pending, err)
	}
	var n int
	mustDo(t, s.reader.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info('users') WHERE name IN ('failed_sign_ins', 'locked_until')`).Scan(&n))
	if n != 0 {
		t.Errorf("users still has %d of the moved columns", n)
	}
}
