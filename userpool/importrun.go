package userpool

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// How import jobs run.
const (
	// importBatch rows are imported per transaction, which also records
	// the job's progress: a job resumed after a crash or a restart starts
	// after the last batch committed, creating no user twice.
	importBatch = 500
	// importLease is how long a node holds a job between batches; a job
	// whose node stopped is taken over by another (or the restarted one)
	// once it has passed.
	importLease = 30 * time.Second
	// importPoll is how often RunImports looks for jobs to take over.
	importPoll = 5 * time.Second
	// completionErrors is how many row errors CompletionMessage quotes.
	completionErrors = 3
)

// errLeaseLost stops a job whose lease another node took over.
var errLeaseLost = errors.New("userpool: import job lease lost")

// wakeImports tells RunImports that a job was started.
func (s *Service) wakeImports() {
	select {
	case s.importWake <- struct{}{}:
	default:
	}
}

// RunImports runs the pools' import jobs until ctx is done: a started
// job at once, and a job whose lease has run out (its node stopped, or
// this one restarted) within importPoll. Every node runs it; a lease
// gives each job to one node at a time.
func (s *Service) RunImports(ctx context.Context) {
	t := time.NewTicker(importPoll)
	defer t.Stop()
	for {
		s.RunImportsOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.importWake:
		}
	}
}

// RunImportsOnce runs, to their end, the jobs that are due now.
func (s *Service) RunImportsOnce(ctx context.Context) {
	jobs, err := s.store.ListImportJobsToRun(ctx, s.now())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("import jobs: list", "err", err)
		}
		return
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			return
		}
		if err := s.runImportJob(ctx, j.PoolID, j.JobID); err != nil && ctx.Err() == nil {
			s.log.Warn("import job interrupted; it resumes when its lease runs out", "pool", j.PoolID, "job", j.JobID, "err", err)
		}
	}
}

// importRun is one node's run of a job: the lease it holds and the
// job as last written.
type importRun struct {
	s     *Service
	job   storage.ImportJob
	lease time.Time
}

// claim takes the job's lease if it is still due, moving a pending job to
// InProgress; it reports false when another node took it first.
func (s *Service) claimImport(ctx context.Context, poolID, jobID string) (*importRun, bool, error) {
	r := &importRun{s: s}
	now := s.now()
	taken := false
	err := s.store.UpdateImportJob(ctx, poolID, jobID, func(j storage.ImportJob) (storage.ImportJob, error) {
		taken = false
		switch j.Status {
		case storage.ImportPending, storage.ImportInProgress, storage.ImportStopping:
		default:
			return j, nil
		}
		if !j.LeaseUntil.Before(now) {
			return j, nil
		}
		if j.Status == storage.ImportPending {
			j.Status = storage.ImportInProgress
		}
		// At storage's precision, so that the lease read back compares
		// equal.
		j.LeaseUntil = now.Add(importLease).Truncate(time.Microsecond)
		taken, r.job, r.lease = true, j, j.LeaseUntil
		return j, nil
	})
	return r, taken, err
}

// runImportJob runs a job from where it stands to its end.
func (s *Service) runImportJob(ctx context.Context, poolID, jobID string) error {
	r, ok, err := s.claimImport(ctx, poolID, jobID)
	if err != nil || !ok {
		return err
	}
	if r.job.Status == storage.ImportStopping {
		return r.finish(ctx, storage.ImportStopped, "Import Job Stopped.")
	}
	p, err := s.store.GetPool(ctx, poolID)
	if err != nil {
		return fmt.Errorf("get pool: %w", err)
	}
	data, err := s.store.GetImportFile(ctx, poolID, jobID)
	if errors.Is(err, storage.ErrNotFound) {
		return r.finish(ctx, storage.ImportFailed, "The import file is gone.")
	}
	if err != nil {
		return fmt.Errorf("get import file: %w", err)
	}
	return r.importFile(ctx, p, data)
}

// importFile imports the file's rows after the ones done, batch by batch.
func (r *importRun) importFile(ctx context.Context, p storage.Pool, data []byte) error {
	if n, err := countRecords(data); err != nil {
		return r.finish(ctx, storage.ImportFailed, "The file is not CSV: "+err.Error())
	} else if n-1 > maxImportRows {
		return r.finish(ctx, storage.ImportFailed, fmt.Sprintf("The file has %d users; an import job takes at most %d.", n-1, maxImportRows))
	}
	rd := csvReader(data)
	header, err := rd.Read()
	if err != nil {
		return r.finish(ctx, storage.ImportFailed, "The file has no header row.")
	}
	cols, err := csvColumns(p, header)
	if err != nil {
		return r.finish(ctx, storage.ImportFailed, "Import Job Failed: "+err.Error()+".")
	}
	row := int64(1)
	for ; row <= r.job.Rows; row++ {
		if _, err := rd.Read(); err == io.EOF {
			break
		}
	}
	for {
		batch, eof := nextBatch(rd, row)
		row += int64(len(batch))
		if len(batch) > 0 {
			stop, err := r.commitBatch(ctx, p, cols, batch, false)
			if errors.Is(err, errImportConflict) {
				stop, err = r.commitBatch(ctx, p, cols, batch, true)
			}
			if err != nil {
				return err
			}
			if stop {
				return r.finish(ctx, storage.ImportStopped, r.summary(ctx, "Import Job Stopped"))
			}
		}
		if eof {
			return r.finish(ctx, storage.ImportSucceeded, r.summary(ctx, "Import Job Completed"))
		}
	}
}

// csvReader reads an import file: any number of fields per record (a
// wrong count is the row's error), records reused for speed.
func csvReader(data []byte) *csv.Reader {
	rd := csv.NewReader(bytes.NewReader(data))
	rd.FieldsPerRecord = -1
	return rd
}

// countRecords counts the file's records, header included.
func countRecords(data []byte) (int64, error) {
	rd := csvReader(data)
	rd.ReuseRecord = true
	var n int64
	for {
		_, err := rd.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return n, nil
		case errors.As(err, &pe), err == nil:
			n++
		default:
			return n, err
		}
		if n > maxImportRows+1 {
			return n, nil
		}
	}
}

// record is a data row: its fields, or why it could not be read.
type record struct {
	row    int64
	fields []string
	err    error
}

// nextBatch reads up to importBatch records; eof reports the file's end.
func nextBatch(rd *csv.Reader, lastRow int64) ([]record, bool) {
	var out []record
	for len(out) < importBatch {
		fields, err := rd.Read()
		if err == io.EOF {
			return out, true
		}
		lastRow++
		out = append(out, record{row: lastRow, fields: fields, err: err})
	}
	return out, false
}

// commitBatch imports a batch and records the job's progress in one
// transaction, if the lease is still this run's; it reports whether the
// job was asked to stop. Without careful, a row whose user exists fails
// the batch with errImportConflict (see createImported).
func (r *importRun) commitBatch(ctx context.Context, p storage.Pool, cols map[string]int, batch []record, careful bool) (bool, error) {
	now := r.s.now()
	var job storage.ImportJob
	err := r.s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		job = r.job
		for _, rec := range batch {
			username, err := importRecord(ctx, tx, p, cols, rec, now, careful)
			var re *rowError
			switch {
			case err == nil:
				job.Imported++
				continue
			case !errors.As(err, &re):
				return err
			case re.skipped:
				job.Skipped++
			default:
				job.Failed++
			}
			if err := tx.AddImportRowError(ctx, storage.ImportRowError{
				PoolID: p.ID, JobID: job.JobID, Row: rec.row, Username: username, Message: re.msg,
			}); err != nil {
				return err
			}
		}
		job.Rows += int64(len(batch))
		return tx.UpdateImportJob(ctx, p.ID, job.JobID, func(cur storage.ImportJob) (storage.ImportJob, error) {
			if !cur.LeaseUntil.Equal(r.lease) {
				return cur, errLeaseLost
			}
			job.Status = cur.Status
			job.LeaseUntil = r.s.now().Add(importLease).Truncate(time.Microsecond)
			return job, nil
		})
	})
	if err != nil {
		return false, err
	}
	r.job, r.lease = job, job.LeaseUntil
	return job.Status == storage.ImportStopping, nil
}

// importRecord creates one row's user (see createImported). It returns
// the row's username for its error, and a *rowError for a row that fails
// or is skipped.
func importRecord(ctx context.Context, tx storage.Storage, p storage.Pool, cols map[string]int, rec record, now time.Time, careful bool) (string, error) {
	name := ""
	if i, ok := cols[csvUsername]; ok && i < len(rec.fields) {
		name = truncate(rec.fields[i], 128)
	}
	if rec.err != nil {
		return name, rowFailed("the row is not valid CSV: %v", rec.err)
	}
	u, err := csvUser(p, cols, rec.fields)
	if err != nil {
		return name, err
	}
	u.CreatedAt, u.UpdatedAt = now, now
	err = createImported(ctx, tx, u, "", careful)
	switch {
	case errors.Is(err, storage.ErrAlreadyExists):
		return name, &rowError{msg: "a user with this username or email exists already", skipped: true}
	case errors.Is(err, storage.ErrInvalidValue):
		return name, rowFailed("a value cannot be stored (NUL character or invalid UTF-8)")
	}
	return name, err
}

// finish ends the job with a status and message, if the lease is still
// this run's, and drops its file.
func (r *importRun) finish(ctx context.Context, status, msg string) error {
	return r.s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.UpdateImportJob(ctx, r.job.PoolID, r.job.JobID, func(j storage.ImportJob) (storage.ImportJob, error) {
			if !j.LeaseUntil.Equal(r.lease) {
				return j, errLeaseLost
			}
			if status == storage.ImportSucceeded && j.Status == storage.ImportStopping {
				status = storage.ImportStopped
			}
			j.Status, j.CompletedAt, j.CompletionMessage, j.LeaseUntil = status, r.s.now(), msg, time.Time{}
			return j, nil
		}); err != nil {
			return err
		}
		return tx.DeleteImportFile(ctx, r.job.PoolID, r.job.JobID)
	})
}

// summary is the CompletionMessage of a job that went through its rows:
// the counts and the first row errors (Cognito writes every row's error
// to CloudWatch Logs; Cognate keeps them, listed by `cognate admin
// import-errors`).
func (r *importRun) summary(ctx context.Context, head string) string {
	j := r.job
	if j.Failed == 0 && j.Skipped == 0 {
		return head + " Successfully."
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d imported, %d skipped, %d failed.", head, j.Imported, j.Skipped, j.Failed)
	errs, err := r.s.store.ListImportRowErrors(ctx, j.PoolID, j.JobID, 0, completionErrors)
	if err == nil {
		for _, e := range errs {
			fmt.Fprintf(&b, " Row %d (%s): %s.", e.Row, e.Username, strings.TrimSuffix(e.Message, "."))
		}
	}
	fmt.Fprintf(&b, " Every row's error: cognate admin import-errors --pool %s --job %s", j.PoolID, j.JobID)
	return b.String()
}
