package integration_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

const roleArn = "arn:aws:iam::123456789012:role/CognitoImport"

// runImports runs the server's import runner for the test, as `cognate
// serve` runs it next to its listeners.
func (e *env) runImports() {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.srv.Service().RunImports(ctx) }()
	e.t.Cleanup(func() { cancel(); <-done })
}

// put uploads body to a pre-signed URL and returns the status.
func (e *env) put(u string, body []byte) int {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPut, u, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/csv")
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// csvFile renders rows under header; each row maps columns to values.
func csvFile(header []string, rows ...map[string]string) []byte {
	var b bytes.Buffer
	b.WriteString(strings.Join(header, ",") + "\n")
	for _, r := range rows {
		vals := make([]string, len(header))
		for i, h := range header {
			vals[i] = r[h]
		}
		b.WriteString(strings.Join(vals, ",") + "\n")
	}
	return b.Bytes()
}

func (e *env) waitJob(pool, job string, done ...types.UserImportJobStatusType) *types.UserImportJobType {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := must(e.api.DescribeUserImportJob(e.ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(pool), JobId: aws.String(job)}))(e.t)
		if slices.Contains(done, out.UserImportJob.Status) {
			return out.UserImportJob
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s still %s", job, out.UserImportJob.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestUserImportJob runs a CSV import job through the SDK: header,
// job, upload to the pre-signed URL, start, poll; imported users must
// reset their passwords, bad rows and duplicates are reported per row.
func TestUserImportJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runImports()
	hdr := must(e.api.GetCSVHeader(e.ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String(e.pool)}))(t)
	wantHeader := []string{"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username", "profile",
		"picture", "website", "email", "email_verified", "gender", "birthdate", "zoneinfo", "locale", "phone_number",
		"phone_number_verified", "address", "updated_at", "cognito:mfa_enabled", "cognito:username"}
	if !slices.Equal(hdr.CSVHeader, wantHeader) || aws.ToString(hdr.UserPoolId) != e.pool {
		t.Fatalf("GetCSVHeader = %v", hdr.CSVHeader)
	}

	job := must(e.api.CreateUserImportJob(e.ctx, &cip.CreateUserImportJobInput{
		UserPoolId: aws.String(e.pool), JobName: aws.String("first import"), CloudWatchLogsRoleArn: aws.String(roleArn),
	}))(t).UserImportJob
	id := aws.ToString(job.JobId)
	if job.Status != types.UserImportJobStatusTypeCreated || !strings.HasPrefix(id, "import-") || aws.ToString(job.PreSignedUrl) == "" {
		t.Fatalf("created job: %+v", job)
	}
	_, err := e.api.StartUserImportJob(e.ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: job.JobId})
	wantErr(t, err, "PreconditionNotMetException") // nothing uploaded yet

	ok := func(user, email string) map[string]string {
		return map[string]string{"cognito:username": user, "email": email, "email_verified": "true", "cognito:mfa_enabled": "false", "name": "N " + user}
	}
	rows := []map[string]string{
		ok("ann", "ann@example.com"),
		ok("bob", "bob@example.com"),
		{"cognito:username": "carl", "email": "not-an-email", "email_verified": "true", "cognito:mfa_enabled": "false"},
		ok("dup", "ann@example.com"),
		{"cognito:username": "eve", "email": "eve@example.com", "email_verified": "false", "cognito:mfa_enabled": "false"},
		{"cognito:username": "", "email": "nobody@example.com", "email_verified": "true", "cognito:mfa_enabled": "false"},
		ok("fay", "fay@example.com"),
	}
	file := csvFile(hdr.CSVHeader, rows...)
	file = append(file, "gus,too,few,columns\n"...)

	upload := aws.ToString(job.PreSignedUrl)
	forged, _ := url.Parse(upload)
	q := forged.Query()
	q.Set("X-Cognate-Signature", strings.Repeat("0", 64))
	forged.RawQuery = q.Encode()
	later, _ := url.Parse(upload)
	q = later.Query()
	q.Set("X-Cognate-Expires", fmt.Sprint(time.Now().Add(48*time.Hour).Unix()))
	later.RawQuery = q.Encode()
	other, _ := url.Parse(upload)
	other.Path = strings.Replace(other.Path, id, "import-Other1234", 1)
	for name, u := range map[string]string{"forged signature": forged.String(), "extended expiry": later.String(), "another job": other.String()} {
		if st := e.put(u, file); st != http.StatusForbidden {
			t.Errorf("PUT with %s: %d, want 403", name, st)
		}
	}
	if st := e.put(upload, file); st != http.StatusOK {
		t.Fatalf("PUT to the pre-signed URL: %d", st)
	}

	started := must(e.api.StartUserImportJob(e.ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: job.JobId}))(t).UserImportJob
	if started.Status != types.UserImportJobStatusTypePending && started.Status != types.UserImportJobStatusTypeInProgress {
		t.Fatalf("started job is %s", started.Status)
	}
	if st := e.put(upload, file); st != http.StatusConflict {
		t.Errorf("PUT after start: %d, want 409", st)
	}
	done := e.waitJob(e.pool, id, types.UserImportJobStatusTypeSucceeded, types.UserImportJobStatusTypeFailed)
	if done.Status != types.UserImportJobStatusTypeSucceeded || done.ImportedUsers != 3 || done.SkippedUsers != 1 || done.FailedUsers != 4 {
		t.Fatalf("finished job: %s imported %d skipped %d failed %d: %s", done.Status, done.ImportedUsers, done.SkippedUsers, done.FailedUsers, aws.ToString(done.CompletionMessage))
	}
	msg := aws.ToString(done.CompletionMessage)
	for _, want := range []string{"3 imported, 1 skipped, 4 failed", "Row 4 (carl): Invalid email address format", "Row 5 (dup)", "import-errors"} {
		if !strings.Contains(msg, want) {
			t.Errorf("CompletionMessage %q lacks %q", msg, want)
		}
	}
	if done.StartDate == nil || done.CompletionDate == nil {
		t.Errorf("dates: start %v completion %v", done.StartDate, done.CompletionDate)
	}
	_, err = e.api.StartUserImportJob(e.ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: job.JobId})
	wantErr(t, err, "PreconditionNotMetException")

	for _, email := range []string{"ann@example.com", "bob@example.com", "fay@example.com"} {
		u := must(e.adminGet(e.pool, email))(t)
		if u.UserStatus != types.UserStatusTypeResetRequired {
			t.Errorf("%s: status %s, want RESET_REQUIRED", email, u.UserStatus)
		}
		if v, _ := attr(u.UserAttributes, "email_verified"); v != "true" {
			t.Errorf("%s: email_verified %q", email, v)
		}
	}
	if n, _ := attr(must(e.adminGet(e.pool, "ann@example.com"))(t).UserAttributes, "name"); n != "N ann" {
		t.Errorf("ann's name: %q", n)
	}
	_, err = e.adminGet(e.pool, "eve@example.com")
	wantErr(t, err, "UserNotFoundException")
	// An imported user has no password: signing in asks for a reset.
	_, err = e.passwordAuth(e.pub, "ann@example.com", password)
	wantErr(t, err, "PasswordResetRequiredException")
	_, _, err = e.srpStart(e.pool, e.pub, "ann@example.com", nil)
	wantErr(t, err, "PasswordResetRequiredException")
}

// TestUserImportJobAdmin covers listing and stopping jobs and the
// model's checks of the requests.
func TestUserImportJobAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // no import runner: started jobs stay Pending
	var ids []string
	for i := range 3 {
		j := must(e.api.CreateUserImportJob(e.ctx, &cip.CreateUserImportJobInput{
			UserPoolId: aws.String(e.pool), JobName: aws.String(fmt.Sprint("job ", i)), CloudWatchLogsRoleArn: aws.String(roleArn),
		}))(t).UserImportJob
		ids = append(ids, aws.ToString(j.JobId))
	}
	var listed []string
	var token *string
	for {
		out := must(e.api.ListUserImportJobs(e.ctx, &cip.ListUserImportJobsInput{UserPoolId: aws.String(e.pool), MaxResults: aws.Int32(2), PaginationToken: token}))(t)
		for _, j := range out.UserImportJobs {
			listed = append(listed, aws.ToString(j.JobId))
		}
		if token = out.PaginationToken; token == nil {
			break
		}
	}
	slices.Sort(ids)
	if !slices.Equal(listed, ids) {
		t.Fatalf("listed %v, want %v", listed, ids)
	}

	_, err := e.api.StopUserImportJob(e.ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: aws.String(ids[0])})
	wantErr(t, err, "PreconditionNotMetException") // not started
	j := must(e.api.DescribeUserImportJob(e.ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: aws.String(ids[0])}))(t).UserImportJob
	if st := e.put(aws.ToString(j.PreSignedUrl), []byte("cognito:username\n")); st != http.StatusOK {
		t.Fatalf("upload: %d", st)
	}
	must(e.api.StartUserImportJob(e.ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: aws.String(ids[0])}))(t)
	stopped := must(e.api.StopUserImportJob(e.ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: aws.String(ids[0])}))(t).UserImportJob
	if stopped.Status != types.UserImportJobStatusTypeStopped || stopped.CompletionDate == nil {
		t.Fatalf("stopped job: %+v", stopped)
	}
	_, err = e.api.StopUserImportJob(e.ctx, &cip.StopUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: aws.String(ids[0])})
	wantErr(t, err, "PreconditionNotMetException")

	_, err = e.api.DescribeUserImportJob(e.ctx, &cip.DescribeUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: aws.String("import-nothere")})
	wantErr(t, err, "ResourceNotFoundException")
	_, err = e.api.GetCSVHeader(e.ctx, &cip.GetCSVHeaderInput{UserPoolId: aws.String("us-east-1_nothere00")})
	wantErr(t, err, "ResourceNotFoundException")
	for name, body := range map[string]string{
		"bad job id":   `{"UserPoolId":"` + e.pool + `","JobId":"job-1"}`,
		"bad role arn": `{"UserPoolId":"` + e.pool + `","JobName":"x","CloudWatchLogsRoleArn":"not-an-arn-at-all-really"}`,
		"bad name":     `{"UserPoolId":"` + e.pool + `","JobName":"a/b","CloudWatchLogsRoleArn":"` + roleArn + `"}`,
	} {
		op := "DescribeUserImportJob"
		if name != "bad job id" {
			op = "CreateUserImportJob"
		}
		wantRaw(t, e.signedRaw(op, []byte(body)), http.StatusBadRequest, "InvalidParameterException")
	}
	wantRaw(t, e.signedRaw("ListUserImportJobs", []byte(`{"UserPoolId":"`+e.pool+`","MaxResults":61}`)), http.StatusBadRequest, "InvalidParameterException")
	// Unsigned, the operations are refused like every admin operation.
	wantRaw(t, e.raw(targetPrefix+"GetCSVHeader", []byte(`{"UserPoolId":"`+e.pool+`"}`)), http.StatusBadRequest, "MissingAuthenticationTokenException")
}

// TestUserImportJobHeaderMismatch: a file whose header is not the pool's
// fails the whole job, saying which column.
func TestUserImportJobHeaderMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.runImports()
	j := must(e.api.CreateUserImportJob(e.ctx, &cip.CreateUserImportJobInput{
		UserPoolId: aws.String(e.pool), JobName: aws.String("bad"), CloudWatchLogsRoleArn: aws.String(roleArn),
	}))(t).UserImportJob
	if st := e.put(aws.ToString(j.PreSignedUrl), []byte("cognito:username,email,shoe_size\nx,x@example.com,9\n")); st != http.StatusOK {
		t.Fatalf("upload: %d", st)
	}
	must(e.api.StartUserImportJob(e.ctx, &cip.StartUserImportJobInput{UserPoolId: aws.String(e.pool), JobId: j.JobId}))(t)
	done := e.waitJob(e.pool, aws.ToString(j.JobId), types.UserImportJobStatusTypeFailed, types.UserImportJobStatusTypeSucceeded)
	if done.Status != types.UserImportJobStatusTypeFailed || !strings.Contains(aws.ToString(done.CompletionMessage), `unknown column "shoe_size"`) {
		t.Fatalf("job: %s %q", done.Status, aws.ToString(done.CompletionMessage))
	}
}

// TestPasswordHashImport: users imported with the hashes of their old
// system sign in with their old passwords through USER_PASSWORD_AUTH;
// until then SRP answers as for a user not migrated yet; after it SRP
// works, and the hash is gone. Wrong passwords count toward the lockout.
func TestPasswordHashImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bc, err := bcrypt.GenerateFromPassword([]byte("old-bcrypt-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	salt := []byte("0123456789abcdef")
	ar := argon2.IDKey([]byte("old-argon-pw"), salt, 1, 1024, 1, 32)
	b64 := base64.RawStdEncoding.EncodeToString
	users := []userpool.ImportedUser{
		{Username: "b", Attributes: map[string]string{"email": "hb@example.com", "email_verified": "true"}, PasswordHash: string(bc)},
		{Username: "a", Attributes: map[string]string{"email": "ha@example.com", "email_verified": "true"},
			PasswordHash: "$argon2id$v=19$m=1024,t=1,p=1$" + b64(salt) + "$" + b64(ar)},
		{Username: "c", Attributes: map[string]string{"email": "hc@example.com"}, PasswordHash: "$md5$nope"},
	}
	res := must(e.srv.Service().ImportUsers(e.ctx, e.pool, users))(t)
	if res[0].Outcome != userpool.ImportOutcomeImported || res[1].Outcome != userpool.ImportOutcomeImported ||
		res[2].Outcome != userpool.ImportOutcomeFailed || !strings.Contains(res[2].Message, "unknown hash format") {
		t.Fatalf("results: %+v", res)
	}
	again := must(e.srv.Service().ImportUsers(e.ctx, e.pool, users[:2]))(t)
	if again[0].Outcome != userpool.ImportOutcomeSkipped || again[1].Outcome != userpool.ImportOutcomeSkipped {
		t.Fatalf("a second run: %+v", again)
	}
	if st := must(e.adminGet(e.pool, "hb@example.com"))(t).UserStatus; st != types.UserStatusTypeConfirmed {
		t.Fatalf("status %s", st)
	}

	// Before the first password sign-in, SRP cannot check the hash: the
	// client that prevents existence errors gets a challenge that fails,
	// one that does not gets UserNotFoundException.
	c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "hb@example.com", nil))
	_, err = e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, "old-bcrypt-pw"))
	wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	legacy, _ := e.newClient(e.pool, func(in *cip.CreateUserPoolClientInput) {
		in.PreventUserExistenceErrors = types.PreventUserExistenceErrorTypesLegacy
	})
	_, _, err = e.srpStart(e.pool, legacy, "hb@example.com", nil)
	wantErr(t, err, "UserNotFoundException")

	_, err = e.passwordAuth(e.pub, "hb@example.com", "wrong-pw")
	wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	for _, u := range []struct{ email, pw string }{{"hb@example.com", "old-bcrypt-pw"}, {"ha@example.com", "old-argon-pw"}} {
		tok := e.signIn(e.pub, u.email, u.pw)
		if tok.AccessToken == nil {
			t.Fatalf("%s: no tokens", u.email)
		}
		// The hash became an SRP verifier: SRP works, and again with the
		// password flow.
		e.srpSignIn(e.pool, e.pub, u.email, u.pw)
		e.signIn(e.pub, u.email, u.pw)
		_, err = e.passwordAuth(e.pub, u.email, "wrong-pw")
		wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	}
	sub := aws.ToString(must(e.adminGet(e.pool, "hb@example.com"))(t).Username)
	db, err := sqlite.Open(e.ctx, filepath.Join(e.data, "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.GetPasswordHash(e.ctx, e.pool, sub); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the imported hash after the first sign-in: %v, want none", err)
	}
}

// TestPasswordHashImportLockout: wrong guesses at an imported hash count
// toward the lockout like any other.
func TestPasswordHashImportLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	bc, err := bcrypt.GenerateFromPassword([]byte("old-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	must(e.srv.Service().ImportUsers(e.ctx, e.pool, []userpool.ImportedUser{
		{Username: "l", Attributes: map[string]string{"email": "hl@example.com"}, PasswordHash: string(bc)},
	}))(t)
	for range 5 {
		_, err := e.passwordAuth(e.pub, "hl@example.com", "wrong-pw")
		wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	}
	_, err = e.passwordAuth(e.pub, "hl@example.com", "old-pw")
	wantMessage(t, err, "NotAuthorizedException", "Password attempts exceeded")
}

// TestPasswordHashImportManagedLogin: a user imported with a password
// hash signs in on the managed login page with the old password, and
// then with SRP.
func TestPasswordHashImportManagedLogin(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	bc, err := bcrypt.GenerateFromPassword([]byte("page-old-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	must(e.srv.Service().ImportUsers(e.ctx, e.pool, []userpool.ImportedUser{
		{Attributes: map[string]string{"email": "page@example.com", "email_verified": "true"}, PasswordHash: string(bc)},
	}))(t)
	id, _ := e.oauthClient(clientSpec{})
	conf := e.rpConfig(id, "")
	r, code := e.newBrowser().login(conf, "page@example.com", "page-old-pw")
	if tok := e.exchange(conf, r, code); tok.AccessToken == "" {
		t.Fatal("no access token")
	}
	e.srpSignIn(e.pool, e.pub, "page@example.com", "page-old-pw")
}
