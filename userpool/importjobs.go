package userpool

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// Limits of user import jobs.
const (
	// MaxImportFileBytes is the largest CSV an import job takes
	// (Cognito's limit is 100 MB).
	MaxImportFileBytes = 100 << 20
	// maxImportRows is Cognito's limit of users per file.
	maxImportRows = 500_000
	// importUploadTTL is how long a job's pre-signed upload URL works.
	importUploadTTL = time.Hour
	// importJobExpiry is how long a created job may wait to be started
	// before it is Expired, as Cognito's do.
	importJobExpiry = 24 * time.Hour
)

// ErrPreconditionNotMet is Cognito's answer to starting or stopping an
// import job in a status that does not allow it.
var ErrPreconditionNotMet = newErr("PreconditionNotMetException", "Precondition not met.")

// Upload refusals, which the upload handler answers with an HTTP status
// of their own.
var (
	// ErrUploadForbidden is a URL that is forged, altered or expired.
	ErrUploadForbidden = errors.New("userpool: import upload URL invalid or expired")
	// ErrUploadTooLarge is a file over MaxImportFileBytes.
	ErrUploadTooLarge = errors.New("userpool: import file too large")
	// ErrUploadClosed is an upload to a job that was started already.
	ErrUploadClosed = errors.New("userpool: import job no longer takes a file")
)

// UploadPath is the path of the pre-signed upload URLs, under the
// server's public URL; the upload handler serves PUT on it.
const UploadPath = "/_import/{pool}/{job}"

// UserImportJobType is Cognito's UserImportJobType.
type UserImportJobType struct {
	JobName               string `json:"JobName"`
	JobId                 string `json:"JobId"`
	UserPoolId            string `json:"UserPoolId"`
	PreSignedUrl          string `json:"PreSignedUrl,omitempty"`
	CreationDate          Epoch  `json:"CreationDate"`
	StartDate             Epoch  `json:"StartDate,omitzero"`
	CompletionDate        Epoch  `json:"CompletionDate,omitzero"`
	Status                string `json:"Status"`
	CloudWatchLogsRoleArn string `json:"CloudWatchLogsRoleArn"`
	ImportedUsers         int64  `json:"ImportedUsers"`
	SkippedUsers          int64  `json:"SkippedUsers"`
	FailedUsers           int64  `json:"FailedUsers"`
	CompletionMessage     string `json:"CompletionMessage,omitempty"`
}

// GetCSVHeaderOutput is GetCSVHeader's response.
type GetCSVHeaderOutput struct {
	UserPoolId string   `json:"UserPoolId"`
	CSVHeader  []string `json:"CSVHeader"`
}

// CreateUserImportJobInput is CreateUserImportJob's request.
type CreateUserImportJobInput struct {
	JobName               string `json:"JobName"`
	UserPoolId            string `json:"UserPoolId"`
	CloudWatchLogsRoleArn string `json:"CloudWatchLogsRoleArn"`
}

// UserImportJobInput is the request of StartUserImportJob,
// StopUserImportJob and DescribeUserImportJob.
type UserImportJobInput struct {
	UserPoolId string `json:"UserPoolId"`
	JobId      string `json:"JobId"`
}

// UserImportJobOutput is the response of the operations on one job.
type UserImportJobOutput struct {
	UserImportJob UserImportJobType `json:"UserImportJob"`
}

// ListUserImportJobsInput is ListUserImportJobs' request.
type ListUserImportJobsInput struct {
	UserPoolId      string `json:"UserPoolId"`
	MaxResults      int    `json:"MaxResults"`
	PaginationToken string `json:"PaginationToken"`
}

// ListUserImportJobsOutput is ListUserImportJobs' response.
type ListUserImportJobsOutput struct {
	UserImportJobs  []UserImportJobType `json:"UserImportJobs"`
	PaginationToken string              `json:"PaginationToken,omitempty"`
}

// The model's constraints on import job requests.
var (
	jobNamePattern    = regexp.MustCompile(`^[\w\s+=,.@-]+$`)
	jobIDPattern      = regexp.MustCompile(`^import-[0-9a-zA-Z-]+$`)
	roleArnPattern    = regexp.MustCompile(`^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$`)
	jobIDLength       = span{1, 55}
	importJobsResults = span{1, 60}
)

func (in CreateUserImportJobInput) validate() error {
	var v violations
	v.required("jobName", in.JobName)
	v.length("jobName", in.JobName, nameLength)
	if in.JobName != "" && !jobNamePattern.MatchString(in.JobName) {
		v.fail(in.JobName, "jobName", `Member must satisfy regular expression pattern: [\w\s+=,.@-]+`)
	}
	v.required("cloudWatchLogsRoleArn", in.CloudWatchLogsRoleArn)
	v.length("cloudWatchLogsRoleArn", in.CloudWatchLogsRoleArn, arnLength)
	if in.CloudWatchLogsRoleArn != "" && !roleArnPattern.MatchString(in.CloudWatchLogsRoleArn) {
		v.fail(in.CloudWatchLogsRoleArn, "cloudWatchLogsRoleArn", `Member must satisfy regular expression pattern: arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?`)
	}
	return v.err()
}

func (in UserImportJobInput) validate() error {
	var v violations
	v.required("jobId", in.JobId)
	v.length("jobId", in.JobId, jobIDLength)
	if in.JobId != "" && !jobIDPattern.MatchString(in.JobId) {
		v.fail(in.JobId, "jobId", "Member must satisfy regular expression pattern: import-[0-9a-zA-Z-]+")
	}
	return v.err()
}

func (in ListUserImportJobsInput) validate() error {
	var v violations
	v.number("maxResults", int64(in.MaxResults), importJobsResults)
	return v.err()
}

// jobType is a stored job as Cognito shows it: a created job not started
// within importJobExpiry reads as Expired.
func (s *Service) jobType(j storage.ImportJob) UserImportJobType {
	status := j.Status
	if s.expired(j) {
		status = storage.ImportExpired
	}
	t := UserImportJobType{
		JobName: j.JobName, JobId: j.JobID, UserPoolId: j.PoolID, CreationDate: Epoch(j.CreatedAt),
		StartDate: Epoch(j.StartedAt), CompletionDate: Epoch(j.CompletedAt), Status: status,
		CloudWatchLogsRoleArn: j.CloudWatchLogsRoleArn, ImportedUsers: j.Imported, SkippedUsers: j.Skipped,
		FailedUsers: j.Failed, CompletionMessage: j.CompletionMessage,
	}
	t.PreSignedUrl = s.uploadURL(j)
	return t
}

func (s *Service) expired(j storage.ImportJob) bool {
	return j.Status == storage.ImportCreated && s.now().After(j.CreatedAt.Add(importJobExpiry))
}

// uploadSignature keys an HMAC of the pool, the job and the expiry with
// the server's import secret: the URL names one job and stops working at
// its expiry, and nobody without the secret can make another.
func (s *Service) uploadSignature(poolID, jobID string, expires int64) []byte {
	m := hmac.New(sha256.New, s.importKey)
	fmt.Fprintf(m, "cognate-import-upload\x00%s\x00%s\x00%d", poolID, jobID, expires)
	return m.Sum(nil)
}

func (s *Service) uploadURL(j storage.ImportJob) string {
	exp := j.UploadExpiresAt.Unix()
	q := url.Values{
		"X-Cognate-Expires":   {strconv.FormatInt(exp, 10)},
		"X-Cognate-Signature": {hex.EncodeToString(s.uploadSignature(j.PoolID, j.JobID, exp))},
	}
	return s.issuerBase + "/_import/" + url.PathEscape(j.PoolID) + "/" + url.PathEscape(j.JobID) + "?" + q.Encode()
}

// GetCSVHeader returns the header a pool's import file must have.
func (s *Service) GetCSVHeader(ctx context.Context, in UserPoolIDInput) (GetCSVHeaderOutput, error) {
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return GetCSVHeaderOutput{}, err
	}
	return GetCSVHeaderOutput{UserPoolId: p.ID, CSVHeader: csvHeader(p)}, nil
}

// CreateUserImportJob creates a job and the pre-signed URL its CSV is
// uploaded to.
func (s *Service) CreateUserImportJob(ctx context.Context, in CreateUserImportJobInput) (UserImportJobOutput, error) {
	if err := in.validate(); err != nil {
		return UserImportJobOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return UserImportJobOutput{}, err
	}
	suffix, err := randomString(alnum, 10)
	if err != nil {
		return UserImportJobOutput{}, internal("job id", err)
	}
	now := s.now()
	j := storage.ImportJob{
		PoolID: p.ID, JobID: "import-" + suffix, JobName: in.JobName, CloudWatchLogsRoleArn: in.CloudWatchLogsRoleArn,
		Status: storage.ImportCreated, CreatedAt: now, UploadExpiresAt: now.Add(importUploadTTL),
	}
	if err := s.store.CreateImportJob(ctx, j); err != nil {
		return UserImportJobOutput{}, internal("create import job", err)
	}
	return UserImportJobOutput{UserImportJob: s.jobType(j)}, nil
}

// importJob loads a job of a pool for an operation on it.
func (s *Service) importJob(ctx context.Context, in UserImportJobInput) (storage.ImportJob, error) {
	if err := in.validate(); err != nil {
		return storage.ImportJob{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return storage.ImportJob{}, err
	}
	j, err := s.store.GetImportJob(ctx, p.ID, in.JobId)
	if errors.Is(err, storage.ErrNotFound) {
		return j, errorf(ErrResourceNotFound, "Import job %s does not exist.", in.JobId)
	}
	if err != nil {
		return j, internal("get import job", err)
	}
	return j, nil
}

// DescribeUserImportJob returns a job.
func (s *Service) DescribeUserImportJob(ctx context.Context, in UserImportJobInput) (UserImportJobOutput, error) {
	j, err := s.importJob(ctx, in)
	if err != nil {
		return UserImportJobOutput{}, err
	}
	return UserImportJobOutput{UserImportJob: s.jobType(j)}, nil
}

// updateImportJob applies fn to a job of the request, answering
// ResourceNotFoundException for a missing one.
func (s *Service) updateImportJob(ctx context.Context, in UserImportJobInput, fn func(*storage.ImportJob) error) (UserImportJobOutput, error) {
	if _, err := s.importJob(ctx, in); err != nil {
		return UserImportJobOutput{}, err
	}
	var out storage.ImportJob
	err := s.store.UpdateImportJob(ctx, in.UserPoolId, in.JobId, func(j storage.ImportJob) (storage.ImportJob, error) {
		if err := fn(&j); err != nil {
			return j, err
		}
		out = j
		return j, nil
	})
	if err != nil {
		return UserImportJobOutput{}, internal("update import job", err)
	}
	return UserImportJobOutput{UserImportJob: s.jobType(out)}, nil
}

// StartUserImportJob queues a created job whose file was uploaded; a
// node's import runner picks it up at once.
func (s *Service) StartUserImportJob(ctx context.Context, in UserImportJobInput) (UserImportJobOutput, error) {
	out, err := s.updateImportJob(ctx, in, func(j *storage.ImportJob) error {
		switch {
		case s.expired(*j):
			return errorf(ErrPreconditionNotMet, "Import job %s has expired.", j.JobID)
		case j.Status != storage.ImportCreated:
			return errorf(ErrPreconditionNotMet, "Import job %s is %s and cannot be started.", j.JobID, j.Status)
		case j.FileSize == 0:
			return errorf(ErrPreconditionNotMet, "No file was uploaded to the pre-signed URL of import job %s.", j.JobID)
		}
		j.Status, j.StartedAt = storage.ImportPending, s.now()
		return nil
	})
	if err == nil {
		s.wakeImports()
	}
	return out, err
}

// StopUserImportJob stops a job: a pending one at once, a running one
// after the batch of rows in progress (Stopping, then Stopped).
func (s *Service) StopUserImportJob(ctx context.Context, in UserImportJobInput) (UserImportJobOutput, error) {
	return s.updateImportJob(ctx, in, func(j *storage.ImportJob) error {
		switch j.Status {
		case storage.ImportPending:
			j.Status, j.CompletedAt, j.CompletionMessage = storage.ImportStopped, s.now(), "Import Job Stopped."
		case storage.ImportInProgress:
			j.Status = storage.ImportStopping
		default:
			return errorf(ErrPreconditionNotMet, "Import job %s is %s and cannot be stopped.", j.JobID, j.Status)
		}
		return nil
	})
}

// ListUserImportJobs pages through a pool's jobs.
func (s *Service) ListUserImportJobs(ctx context.Context, in ListUserImportJobsInput) (ListUserImportJobsOutput, error) {
	if err := in.validate(); err != nil {
		return ListUserImportJobsOutput{}, err
	}
	p, err := s.pool(ctx, in.UserPoolId)
	if err != nil {
		return ListUserImportJobsOutput{}, err
	}
	after := ""
	if in.PaginationToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.PaginationToken)
		if err != nil || !jobIDPattern.Match(raw) {
			return ListUserImportJobsOutput{}, invalidParam("Invalid pagination token.")
		}
		after = string(raw)
	}
	jobs, err := s.store.ListImportJobs(ctx, p.ID, after, in.MaxResults+1)
	if err != nil {
		return ListUserImportJobsOutput{}, internal("list import jobs", err)
	}
	out := ListUserImportJobsOutput{UserImportJobs: []UserImportJobType{}}
	for i, j := range jobs {
		if i == in.MaxResults {
			out.PaginationToken = base64.RawURLEncoding.EncodeToString([]byte(jobs[i-1].JobID))
			break
		}
		out.UserImportJobs = append(out.UserImportJobs, s.jobType(j))
	}
	return out, nil
}

// UploadImportFile stores the CSV sent to a job's pre-signed URL, whose
// expires and signature query values it checks first (in constant time).
// A job takes a file until it is started; a new upload replaces the
// previous one.
func (s *Service) UploadImportFile(ctx context.Context, poolID, jobID, expires, signature string, body io.Reader) error {
	exp, err := strconv.ParseInt(expires, 10, 64)
	sig, herr := hex.DecodeString(signature)
	if err != nil || herr != nil || !hmac.Equal(sig, s.uploadSignature(poolID, jobID, exp)) {
		return ErrUploadForbidden
	}
	if s.now().Unix() >= exp {
		return ErrUploadForbidden
	}
	data, err := io.ReadAll(io.LimitReader(body, MaxImportFileBytes+1))
	if err != nil {
		return fmt.Errorf("userpool: read import file: %w", err)
	}
	if len(data) > MaxImportFileBytes {
		return ErrUploadTooLarge
	}
	return s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		err := tx.UpdateImportJob(ctx, poolID, jobID, func(j storage.ImportJob) (storage.ImportJob, error) {
			if j.Status != storage.ImportCreated || s.expired(j) {
				return j, ErrUploadClosed
			}
			j.FileSize = int64(len(data))
			return j, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return ErrUploadForbidden
		}
		if err != nil {
			return err
		}
		return tx.PutImportFile(ctx, poolID, jobID, data)
	})
}
