package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

var importTests = []test{
	{"PasswordHashes/RoundTrip", testPasswordHashes},
	{"PasswordHashes/ReplacedInAtomic", testPasswordHashReplaced},
	{"ImportJobs/RoundTrip", testImportJobs},
	{"ImportJobs/ListAndRun", testImportJobsList},
	{"ImportJobs/Files", testImportFiles},
	{"ImportJobs/RowErrors", testImportRowErrors},
}

// testPasswordHashes stores, replaces and deletes a user's imported hash;
// a missing user has none and cannot get one; DeleteUser takes it along.
func testPasswordHashes(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	_, err := s.GetPasswordHash(ctx, "pool-1", "alice")
	wantErr(t, "get before put", err, storage.ErrNotFound)
	wantErr(t, "put for a missing user", s.PutPasswordHash(ctx, "pool-1", "nobody", "$2a$x"), storage.ErrNotFound)
	wantErr(t, "put in the other pool", s.PutPasswordHash(ctx, "pool-2", "alice", "$2a$x"), storage.ErrNotFound)
	wantErr(t, "delete missing", s.DeletePasswordHash(ctx, "pool-1", "alice"), storage.ErrNotFound)

	must(t, s.PutPasswordHash(ctx, "pool-1", "alice", "$argon2id$first"))
	must(t, s.PutPasswordHash(ctx, "pool-1", "alice", "$argon2id$second"))
	got, err := s.GetPasswordHash(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "hash", got, "$argon2id$second")

	must(t, s.DeletePasswordHash(ctx, "pool-1", "alice"))
	_, err = s.GetPasswordHash(ctx, "pool-1", "alice")
	wantErr(t, "get after delete", err, storage.ErrNotFound)

	must(t, s.PutPasswordHash(ctx, "pool-1", "alice", "$argon2id$third"))
	must(t, s.DeleteUser(ctx, "pool-1", "alice"))
	must(t, s.CreateUser(ctx, userRecord("pool-1", "alice")))
	_, err = s.GetPasswordHash(ctx, "pool-1", "alice")
	wantErr(t, "a new user of a deleted one's name", err, storage.ErrNotFound)
}

// testPasswordHashReplaced is what the first sign-in does: the verifier
// is set and the hash deleted in one Atomic; a second such replacement
// finds no hash and undoes its own write.
func testPasswordHashReplaced(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.PutPasswordHash(ctx, "pool-1", "alice", "$2a$hash"))
	replace := func(verifier string) error {
		return s.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
			if err := tx.UpdateUser(ctx, "pool-1", "alice", func(u storage.User) (storage.User, error) {
				u.SRPVerifier = []byte(verifier)
				return u, nil
			}); err != nil {
				return err
			}
			return tx.DeletePasswordHash(ctx, "pool-1", "alice")
		})
	}
	must(t, replace("first"))
	wantErr(t, "second replacement", replace("second"), storage.ErrNotFound)
	u, err := s.GetUser(ctx, "pool-1", "alice")
	must(t, err)
	check(t, "verifier", string(u.SRPVerifier), "first")
}

func importJobRecord(poolID, jobID string) storage.ImportJob {
	return storage.ImportJob{
		PoolID: poolID, JobID: jobID, JobName: "name of " + jobID,
		CloudWatchLogsRoleArn: "arn:aws:iam::123456789012:role/import",
		Status:                storage.ImportCreated,
		CreatedAt:             base.In(elsewhere),
		UploadExpiresAt:       base.Add(time.Hour),
	}
}

func testImportJobs(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	j := importJobRecord("pool-1", "import-a")
	wantErr(t, "create in a missing pool", s.CreateImportJob(ctx, importJobRecord("pool-9", "import-a")), storage.ErrNotFound)
	must(t, s.CreateImportJob(ctx, j))
	wantErr(t, "create again", s.CreateImportJob(ctx, j), storage.ErrAlreadyExists)
	must(t, s.CreateImportJob(ctx, importJobRecord("pool-2", "import-a")))
	got, err := s.GetImportJob(ctx, "pool-1", "import-a")
	must(t, err)
	check(t, "created", got, j)
	_, err = s.GetImportJob(ctx, "pool-1", "import-b")
	wantErr(t, "get missing", err, storage.ErrNotFound)

	must(t, s.UpdateImportJob(ctx, "pool-1", "import-a", func(j storage.ImportJob) (storage.ImportJob, error) {
		j.Status, j.StartedAt, j.CompletedAt = storage.ImportSucceeded, base.Add(time.Minute), base.Add(2*time.Minute)
		j.FileSize, j.Rows, j.Imported, j.Skipped, j.Failed = 1<<40, 7, 4, 2, 1
		j.CompletionMessage, j.LeaseUntil = "Import Job Completed Successfully.", base.Add(3*time.Minute)
		return j, nil
	}))
	want := j
	want.Status, want.StartedAt, want.CompletedAt = storage.ImportSucceeded, base.Add(time.Minute), base.Add(2*time.Minute)
	want.FileSize, want.Rows, want.Imported, want.Skipped, want.Failed = 1<<40, 7, 4, 2, 1
	want.CompletionMessage, want.LeaseUntil = "Import Job Completed Successfully.", base.Add(3*time.Minute)
	got, err = s.GetImportJob(ctx, "pool-1", "import-a")
	must(t, err)
	check(t, "updated", got, want)

	wantErr(t, "updater error", s.UpdateImportJob(ctx, "pool-1", "import-a", func(j storage.ImportJob) (storage.ImportJob, error) {
		return j, errUpdater
	}), errUpdater)
	if err := s.UpdateImportJob(ctx, "pool-1", "import-a", func(j storage.ImportJob) (storage.ImportJob, error) {
		j.JobID = "import-z"
		return j, nil
	}); err == nil {
		t.Error("an updater changed the job's key")
	}
	wantErr(t, "update missing", s.UpdateImportJob(ctx, "pool-1", "import-b", func(j storage.ImportJob) (storage.ImportJob, error) {
		return j, nil
	}), storage.ErrNotFound)
	// The other pool's job of the same id is its own.
	other, err := s.GetImportJob(ctx, "pool-2", "import-a")
	must(t, err)
	check(t, "other pool's job", other, importJobRecord("pool-2", "import-a"))
}

// testImportJobsList pages a pool's jobs by id and lists, across pools,
// the jobs a runner may take: those to do whose lease has run out.
func testImportJobsList(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	statuses := []string{storage.ImportCreated, storage.ImportPending, storage.ImportInProgress, storage.ImportStopping,
		storage.ImportStopped, storage.ImportFailed, storage.ImportSucceeded}
	for i, st := range statuses {
		j := importJobRecord("pool-1", fmt.Sprintf("import-%d", i))
		j.Status = st
		must(t, s.CreateImportJob(ctx, j))
	}
	leased := importJobRecord("pool-2", "import-leased")
	leased.Status, leased.LeaseUntil = storage.ImportInProgress, base.Add(time.Minute)
	must(t, s.CreateImportJob(ctx, leased))
	expired := importJobRecord("pool-2", "import-expired")
	expired.Status, expired.LeaseUntil = storage.ImportInProgress, base.Add(-time.Minute)
	must(t, s.CreateImportJob(ctx, expired))

	page, err := s.ListImportJobs(ctx, "pool-1", "", 3)
	must(t, err)
	if len(page) != 3 || page[0].JobID != "import-0" || page[2].JobID != "import-2" {
		t.Fatalf("first page: %v", jobIDs(page))
	}
	page, err = s.ListImportJobs(ctx, "pool-1", "import-2", 0)
	must(t, err)
	if len(page) != 4 || page[0].JobID != "import-3" || page[3].JobID != "import-6" {
		t.Fatalf("rest: %v", jobIDs(page))
	}

	run, err := s.ListImportJobsToRun(ctx, base)
	must(t, err)
	got := jobIDs(run)
	want := []string{"pool-1/import-1", "pool-1/import-2", "pool-1/import-3", "pool-2/import-expired"}
	check(t, "to run", got, want)
}

func jobIDs(js []storage.ImportJob) []string {
	out := make([]string, len(js))
	for i, j := range js {
		out[i] = j.PoolID + "/" + j.JobID
	}
	return out
}

func testImportFiles(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	wantErr(t, "put for a missing job", s.PutImportFile(ctx, "pool-1", "import-x", []byte("a")), storage.ErrNotFound)
	must(t, s.CreateImportJob(ctx, importJobRecord("pool-1", "import-x")))
	_, err := s.GetImportFile(ctx, "pool-1", "import-x")
	wantErr(t, "get before put", err, storage.ErrNotFound)
	must(t, s.PutImportFile(ctx, "pool-1", "import-x", []byte("first")))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	must(t, s.PutImportFile(ctx, "pool-1", "import-x", data))
	got, err := s.GetImportFile(ctx, "pool-1", "import-x")
	must(t, err)
	if string(got) != string(data) {
		t.Errorf("file: %d bytes back, want the %d put", len(got), len(data))
	}
	must(t, s.DeleteImportFile(ctx, "pool-1", "import-x"))
	must(t, s.DeleteImportFile(ctx, "pool-1", "import-x"))
	_, err = s.GetImportFile(ctx, "pool-1", "import-x")
	wantErr(t, "get after delete", err, storage.ErrNotFound)
}

func testImportRowErrors(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	seed(t, s)
	e := func(row int64, msg string) storage.ImportRowError {
		return storage.ImportRowError{PoolID: "pool-1", JobID: "import-x", Row: row, Username: fmt.Sprintf("user-%d", row), Message: msg}
	}
	wantErr(t, "add for a missing job", s.AddImportRowError(ctx, e(2, "m")), storage.ErrNotFound)
	must(t, s.CreateImportJob(ctx, importJobRecord("pool-1", "import-x")))
	for _, row := range []int64{5, 2, 12, 3} {
		must(t, s.AddImportRowError(ctx, e(row, fmt.Sprintf("error of row %d", row))))
	}
	// A row resumed after a restart may be reported again: the first
	// report stays.
	must(t, s.AddImportRowError(ctx, e(5, "again")))
	all, err := s.ListImportRowErrors(ctx, "pool-1", "import-x", 0, 0)
	must(t, err)
	check(t, "all", all, []storage.ImportRowError{e(2, "error of row 2"), e(3, "error of row 3"), e(5, "error of row 5"), e(12, "error of row 12")})
	page, err := s.ListImportRowErrors(ctx, "pool-1", "import-x", 3, 1)
	must(t, err)
	check(t, "page", page, []storage.ImportRowError{e(5, "error of row 5")})
	if errs, err := s.ListImportRowErrors(ctx, "pool-2", "import-x", 0, 0); err != nil || len(errs) != 0 {
		t.Errorf("another pool's job: %v, %v", errs, err)
	}
	if !errors.Is(s.DeletePasswordHash(ctx, "pool-1", "alice"), storage.ErrNotFound) {
		t.Error("row errors are not password hashes")
	}
}
