package userpool_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

const importHeader = "name,given_name,family_name,middle_name,nickname,preferred_username,profile,picture,website,email,email_verified,gender,birthdate,zoneinfo,locale,phone_number,phone_number_verified,address,updated_at,cognito:mfa_enabled,cognito:username\n"

func importRow(user string) string {
	return ",,,,,,,,," + user + "@example.com,true,,,,,,,,,false," + user + "\n"
}

// newImportJob creates a job and uploads file to its pre-signed URL.
func (e *env) newImportJob(file string) userpool.UserImportJobType {
	e.t.Helper()
	out, err := e.svc.CreateUserImportJob(e.ctx, userpool.CreateUserImportJobInput{
		UserPoolId: e.poolID, JobName: "j", CloudWatchLogsRoleArn: "arn:aws:iam::123456789012:role/import",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if file != "" {
		if err := e.upload(out.UserImportJob, file); err != nil {
			e.t.Fatal(err)
		}
	}
	return out.UserImportJob
}

func (e *env) upload(j userpool.UserImportJobType, file string) error {
	u, err := url.Parse(j.PreSignedUrl)
	if err != nil {
		e.t.Fatal(err)
	}
	q := u.Query()
	return e.svc.UploadImportFile(e.ctx, j.UserPoolId, j.JobId, q.Get("X-Cognate-Expires"), q.Get("X-Cognate-Signature"), strings.NewReader(file))
}

func (e *env) describe(id string) userpool.UserImportJobType {
	e.t.Helper()
	out, err := e.svc.DescribeUserImportJob(e.ctx, userpool.UserImportJobInput{UserPoolId: e.poolID, JobId: id})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.UserImportJob
}

// TestImportJobResumes: a job whose node stopped after committing a batch
// is taken over once its lease runs out, and continues after the rows
// that batch committed, creating nobody twice.
func TestImportJobResumes(t *testing.T) {
	e := newEnv(t, nil)
	j := e.newImportJob(importHeader + importRow("r1") + importRow("r2") + importRow("r3"))
	if _, err := e.svc.StartUserImportJob(e.ctx, userpool.UserImportJobInput{UserPoolId: e.poolID, JobId: j.JobId}); err != nil {
		t.Fatal(err)
	}
	// What a node that stopped after its first batch (of one row) left:
	// the row's user, the count, and a lease that has not run out yet.
	lease := e.clock.Now().Add(time.Minute)
	if err := e.store.Atomic(e.ctx, func(ctx context.Context, tx storage.Storage) error {
		if err := tx.CreateUser(ctx, storage.User{PoolID: e.poolID, Username: "first-node-made-me", Sub: "sub-r1", Email: "r1@example.com",
			Attributes: map[string]string{"email": "r1@example.com"}, Status: storage.StatusResetRequired, Enabled: true}); err != nil {
			return err
		}
		return tx.UpdateImportJob(ctx, e.poolID, j.JobId, func(j storage.ImportJob) (storage.ImportJob, error) {
			j.Status, j.Rows, j.Imported, j.LeaseUntil = storage.ImportInProgress, 1, 1, lease
			return j, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	e.svc.RunImportsOnce(e.ctx)
	if got := e.describe(j.JobId); got.Status != storage.ImportInProgress || got.ImportedUsers != 1 {
		t.Fatalf("a job under another node's lease was run: %+v", got)
	}
	e.clock.Advance(2 * time.Minute)
	e.svc.RunImportsOnce(e.ctx)
	got := e.describe(j.JobId)
	if got.Status != storage.ImportSucceeded || got.ImportedUsers != 3 || got.SkippedUsers != 0 || got.FailedUsers != 0 ||
		got.CompletionMessage != "Import Job Completed Successfully." {
		t.Fatalf("resumed job: %+v", got)
	}
	users, err := e.store.ListUsers(e.ctx, e.poolID, "", 0)
	if err != nil || len(users) != 3 {
		t.Fatalf("users: %d %v", len(users), err)
	}
	if _, err := e.store.GetImportFile(e.ctx, e.poolID, j.JobId); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the file of a finished job is kept: %v", err)
	}
}

// TestImportJobExpiry: the upload URL stops working after an hour, and a
// job not started within a day is Expired.
func TestImportJobExpiry(t *testing.T) {
	e := newEnv(t, nil)
	j := e.newImportJob("")
	e.clock.Advance(time.Hour)
	if err := e.upload(j, importHeader); !errors.Is(err, userpool.ErrUploadForbidden) {
		t.Fatalf("upload after an hour: %v", err)
	}
	fresh := e.describe(j.JobId) // a new expiry is not handed out
	if fresh.PreSignedUrl != j.PreSignedUrl {
		t.Errorf("the job's URL changed: %s", fresh.PreSignedUrl)
	}
	e.clock.Advance(24 * time.Hour)
	if st := e.describe(j.JobId).Status; st != storage.ImportExpired {
		t.Fatalf("status after a day: %s", st)
	}
	_, err := e.svc.StartUserImportJob(e.ctx, userpool.UserImportJobInput{UserPoolId: e.poolID, JobId: j.JobId})
	if !errors.Is(err, userpool.ErrPreconditionNotMet) {
		t.Fatalf("start of an expired job: %v", err)
	}
}

// TestImportJobStopping: a job asked to stop while running ends Stopped
// after the batch in progress.
func TestImportJobStopping(t *testing.T) {
	e := newEnv(t, nil)
	j := e.newImportJob(importHeader + importRow("s1") + importRow("s2"))
	in := userpool.UserImportJobInput{UserPoolId: e.poolID, JobId: j.JobId}
	if _, err := e.svc.StartUserImportJob(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	if err := e.store.UpdateImportJob(e.ctx, e.poolID, j.JobId, func(j storage.ImportJob) (storage.ImportJob, error) {
		j.Status = storage.ImportInProgress
		return j, nil
	}); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.StopUserImportJob(e.ctx, in)
	if err != nil || out.UserImportJob.Status != storage.ImportStopping {
		t.Fatalf("stop: %+v %v", out.UserImportJob, err)
	}
	e.svc.RunImportsOnce(e.ctx)
	if got := e.describe(j.JobId); got.Status != storage.ImportStopped || got.CompletionMessage != "Import Job Stopped." {
		t.Fatalf("stopped job: %+v", got)
	}
}
