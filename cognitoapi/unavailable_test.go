package cognitoapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"

	"github.com/cognate-auth/cognate/cognitoapi"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

// failingStore is real storage whose ListUsers fails as an unreachable
// database does while fail is positive (each failure uses one up) or
// while down is set.
type failingStore struct {
	storage.Storage
	fail  atomic.Int32
	down  atomic.Bool
	calls atomic.Int32
}

func (s *failingStore) ListUsers(ctx context.Context, poolID, after string, limit int) ([]storage.User, error) {
	s.calls.Add(1)
	if s.down.Load() || s.fail.Add(-1) >= 0 {
		return nil, fmt.Errorf("sqlite: list users: connection lost: %w", storage.ErrUnavailable)
	}
	return s.Storage.ListUsers(ctx, poolID, after, limit)
}

const (
	testKeyID  = "AKIAUNAVAILABLETEST1"
	testSecret = "unavailable-test-secret-access-key"
)

// newUnavailableEnv serves the JSON API over a failingStore and returns
// the store, the server's URL and a pool id.
func newUnavailableEnv(t *testing.T) (*failingStore, string, string) {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	store := &failingStore{Storage: db}
	svc, err := userpool.New(ctx, userpool.Options{Storage: store, Keys: keys.NewManager(store, keys.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "unavailable"})
	if err != nil {
		t.Fatal(err)
	}
	h := cognitoapi.New(cognitoapi.Options{
		Service:     svc,
		Credentials: func(id string) (string, bool) { return testSecret, id == testKeyID },
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return store, srv.URL, p.UserPool.Id
}

func sdkClient(url string, retryer aws.Retryer) *cip.Client {
	return cip.New(cip.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		Retryer:      retryer,
	})
}

// TestStorageUnavailableIsRetryable: an operation whose storage call
// fails with storage.ErrUnavailable answers InternalErrorException with
// 503 and Retry-After, which the AWS SDK's standard retryer retries,
// so a short outage is invisible to the caller.
func TestStorageUnavailableIsRetryable(t *testing.T) {
	store, url, pool := newUnavailableEnv(t)
	in := &cip.ListUsersInput{UserPoolId: aws.String(pool)}

	t.Run("one attempt", func(t *testing.T) {
		store.down.Store(true)
		defer store.down.Store(false)
		_, err := sdkClient(url, aws.NopRetryer{}).ListUsers(t.Context(), in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalErrorException" {
			t.Fatalf("error %v, want InternalErrorException", err)
		}
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
			t.Fatalf("error %v, want HTTP 503", err)
		}
		if got := re.Response.Header.Get("Retry-After"); got != "1" {
			t.Fatalf("Retry-After %q, want 1", got)
		}
		if !retry.NewStandard().IsErrorRetryable(err) {
			t.Fatalf("the SDK's standard retryer does not retry %v", err)
		}
	})

	t.Run("retried until it succeeds", func(t *testing.T) {
		store.calls.Store(0)
		store.fail.Store(2)
		retryer := retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 3
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
		if _, err := sdkClient(url, retryer).ListUsers(t.Context(), in); err != nil {
			t.Fatalf("ListUsers after two storage failures: %v", err)
		}
		if n := store.calls.Load(); n != 3 {
			t.Fatalf("storage called %d times, want 3 (two failures, one success)", n)
		}
	})
}

// TestNULRefusedBeforeAnythingRuns: a string with a NUL character is
// InvalidParameterException through the AWS SDK, on every backend alike
// (PostgreSQL cannot store it), and storage is never asked.
func TestNULRefusedBeforeAnythingRuns(t *testing.T) {
	store, url, pool := newUnavailableEnv(t)
	store.calls.Store(0)
	_, err := sdkClient(url, aws.NopRetryer{}).ListUsers(t.Context(), &cip.ListUsersInput{UserPoolId: aws.String(pool), Filter: aws.String("email = \"a\x00\"")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" {
		t.Fatalf("error %v, want InvalidParameterException", err)
	}
	if n := store.calls.Load(); n != 0 {
		t.Fatalf("storage was called %d times", n)
	}
}
