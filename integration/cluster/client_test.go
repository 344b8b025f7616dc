package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/jackc/pgx/v5"
)

// Kinds of outcome a request has, as a client sees it.
const (
	kindOK = "ok"
	// kindRetryable is the one error a node may answer with while its
	// database is unreachable: InternalErrorException, HTTP 503, with a
	// Retry-After header.
	kindRetryable = "503 InternalErrorException (Retry-After)"
	// kindRefused is a request whose connection was refused: nothing
	// listens (the node is down).
	kindRefused = "connection refused"
	// kindConn is a request that got no HTTP answer on a connection that
	// was open or opening: reset or cut off (the node died under it).
	kindConn = "connection cut"
	// kindTimeout is a request that got no answer within clientTimeout.
	kindTimeout = "timeout"
)

// classify names the kind of err: one of the kinds above, or
// "<status> <error code>" for any other API error, or "other: …".
func classify(err error) string {
	if err == nil {
		return kindOK
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() > 0 {
		code := "(no error code)"
		var ae smithy.APIError
		if errors.As(err, &ae) {
			code = ae.ErrorCode()
		}
		status := re.HTTPStatusCode()
		// The SDK's modeled type, not only the code: what an application
		// branches on.
		var ie *types.InternalErrorException
		if status == 503 && errors.As(err, &ie) && re.Response.Header.Get("Retry-After") != "" {
			return kindRetryable
		}
		return fmt.Sprintf("%d %s", status, code)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return kindTimeout
	}
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return kindRefused
		}
		return kindConn
	}
	return "other: " + err.Error()
}

// retryOnAnotherNode says whether a client should send the same request
// to another node: the node gave no answer, or said to retry.
func retryOnAnotherNode(kind string) bool {
	return kind == kindConn || kind == kindRefused || kind == kindRetryable
}

// apiCode is err's Cognito error code ("" without one).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// tally counts outcomes by operation and kind, safely across workers,
// and keeps one example message of each.
type tally struct {
	mu      sync.Mutex
	n       map[string]int
	example map[string]string
}

func newTally() *tally {
	return &tally{n: map[string]int{}, example: map[string]string{}}
}

// add counts one outcome of op.
func (t *tally) add(op, kind string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := op + ": " + kind
	t.n[k]++
	if err != nil && t.example[k] == "" {
		t.example[k] = err.Error()
	}
}

// count is how many outcomes of kind were counted, over every operation.
func (t *tally) count(kind string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for k, v := range t.n {
		if strings.HasSuffix(k, ": "+kind) {
			n += v
		}
	}
	return n
}

// get is how many outcomes of op had kind.
func (t *tally) get(op, kind string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[op+": "+kind]
}

// total is how many outcomes were counted.
func (t *tally) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, v := range t.n {
		n += v
	}
	return n
}

// unexpected lists the counted outcomes whose kind is not in allowed.
func (t *tally) unexpected(allowed ...string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k, v := range t.n {
		ok := false
		for _, a := range allowed {
			if strings.HasSuffix(k, ": "+a) {
				ok = true
			}
		}
		if !ok {
			out = append(out, fmt.Sprintf("%s ×%d (e.g. %s)", k, v, t.example[k]))
		}
	}
	sort.Strings(out)
	return out
}

// String is one line per operation and kind, sorted.
func (t *tally) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	keys := make([]string, 0, len(t.n))
	for k := range t.n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n  %-60s %6d", k, t.n[k])
		if ex := t.example[k]; ex != "" && !strings.HasSuffix(k, kindOK) {
			fmt.Fprintf(&b, "   e.g. %.160s", ex)
		}
	}
	return b.String()
}

// signUpInput is a SignUp of username with the attributes the tests
// check afterwards (emailOf and nameOf).
func signUpInput(username string) *cip.SignUpInput {
	return &cip.SignUpInput{
		ClientId: aws.String(clientID),
		Username: aws.String(username),
		Password: aws.String(password),
		UserAttributes: []types.AttributeType{
			{Name: aws.String("email"), Value: aws.String(emailOf(username))},
			{Name: aws.String("name"), Value: aws.String(nameOf(username))},
		},
	}
}

func emailOf(username string) string { return username + "@cluster.example.com" }
func nameOf(username string) string  { return "User " + strings.ToUpper(username) }

// attr is the value of the attribute name in list.
func attr(list []types.AttributeType, name string) string {
	for _, a := range list {
		if aws.ToString(a.Name) == name {
			return aws.ToString(a.Value)
		}
	}
	return ""
}

// ctxFor is a context for one request, bounded a little beyond the HTTP
// client's own timeout so that a hang shows as kindTimeout either way.
func ctxFor(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, clientTimeout+time.Second)
}

// storedUsernames reads every username of the pool straight from the
// database at dbURL: what a load left, whatever any node answers. (The
// API's ListUsers is not used for this check: under the race detector in
// a full parallel run, the AWS SDK's streaming read of a ListUsers page
// has failed after a 200 with "use of closed network connection" on the
// test's side, which is not what these tests are about.)
func storedUsernames(ctx context.Context, dbURL string) ([]string, error) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT username FROM users WHERE pool_id = $1 ORDER BY username", poolID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
