package cluster_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/internal/servicetest"
)

// attempt is one request of the load, with when it ran and how it ended.
type attempt struct {
	op         string
	node       int
	start, end time.Time
	kind       string
	err        error
}

// attempts records every request of a load.
type attempts struct {
	mu   sync.Mutex
	list []attempt
}

func (a *attempts) add(x attempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.list = append(a.list, x)
}

func (a *attempts) snapshot() []attempt {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]attempt(nil), a.list...)
}

// firstOKAfter is, per node, the end of the first successful request
// that started at or after t (zero if none has yet).
func (a *attempts) firstOKAfter(t time.Time) []time.Time {
	out := make([]time.Time, nodes)
	for _, x := range a.snapshot() {
		if x.kind == kindOK && !x.start.Before(t) && (out[x.node].IsZero() || x.end.Before(out[x.node])) {
			out[x.node] = x.end
		}
	}
	return out
}

// loadUser is one user of the sign-up, sign-in and GetUser load.
type loadUser struct {
	username  string
	signedUp  bool // acknowledged, or found existing on a retry
	confirmed bool
	signedIn  bool
	failed    string // why the worker gave this user up
}

// userLoad drives workers, each signing users up, confirming them,
// signing them in and reading them with their access token, every step
// on the next node, retrying a step (on the next node) after a retryable
// error or no answer.
type userLoad struct {
	c    *cluster
	rec  *attempts
	tall *tally
	stop atomic.Bool

	mu    sync.Mutex
	users []*loadUser
}

// retry runs a step until it succeeds, each attempt through the next
// node after a retryable failure, and records every attempt. accept, if
// not nil, may turn the error of a retry into success (an earlier
// attempt took effect though its answer was an error): it returns the
// kind to record instead, which starts with acceptedPrefix.
func (l *userLoad) retry(ctx context.Context, op string, first int, call func(context.Context, *cip.Client) error, accept func(error) string) error {
	const giveUpAfter = 30 * time.Second
	until := time.Now().Add(giveUpAfter)
	for n := 0; ; n++ {
		i := (first + n) % nodes
		rctx, cancel := ctxFor(ctx)
		start := time.Now()
		err := call(rctx, l.c.nodes[i].api)
		cancel()
		kind := classify(err)
		if n > 0 && err != nil && accept != nil {
			if as := accept(err); as != "" {
				l.rec.add(attempt{op: op, node: i, start: start, end: time.Now(), kind: as, err: err})
				l.tall.add(op, as, err)
				return nil
			}
		}
		l.rec.add(attempt{op: op, node: i, start: start, end: time.Now(), kind: kind, err: err})
		l.tall.add(op, kind, err)
		if err == nil || !retryOnAnotherNode(kind) || time.Now().After(until) || ctx.Err() != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// acceptedPrefix starts the kind of a retry's error taken as success.
const acceptedPrefix = "taken as success: "

// worker loads users until stopped, each user's steps to the end.
func (l *userLoad) worker(ctx context.Context, w int) {
	for i := 0; !l.stop.Load() && ctx.Err() == nil; i++ {
		u := &loadUser{username: fmt.Sprintf("p%02du%04d", w, i)}
		l.mu.Lock()
		l.users = append(l.users, u)
		l.mu.Unlock()
		l.run(ctx, u, w+i)
	}
}

// run takes one user through sign-up, confirmation, sign-in and GetUser,
// starting on node first%3.
func (l *userLoad) run(ctx context.Context, u *loadUser, first int) {
	err := l.retry(ctx, "SignUp", first, func(ctx context.Context, api *cip.Client) error {
		_, err := api.SignUp(ctx, signUpInput(u.username))
		return err
	}, func(err error) string {
		if apiCode(err) == "UsernameExistsException" {
			return acceptedPrefix + "UsernameExistsException on a retry"
		}
		return ""
	})
	if err != nil {
		u.failed = "SignUp: " + err.Error()
		return
	}
	u.signedUp = true
	err = l.retry(ctx, "AdminConfirmSignUp", first+1, func(ctx context.Context, api *cip.Client) error {
		_, err := api.AdminConfirmSignUp(ctx, &cip.AdminConfirmSignUpInput{UserPoolId: aws.String(poolID), Username: aws.String(u.username)})
		return err
	}, func(err error) string {
		if apiCode(err) == "NotAuthorizedException" && strings.Contains(err.Error(), "Current status is CONFIRMED") {
			return acceptedPrefix + "NotAuthorizedException (already confirmed) on a retry"
		}
		return ""
	})
	if err != nil {
		u.failed = "AdminConfirmSignUp: " + err.Error()
		return
	}
	u.confirmed = true
	var access *string
	err = l.retry(ctx, "InitiateAuth", first+2, func(ctx context.Context, api *cip.Client) error {
		out, err := api.InitiateAuth(ctx, passwordAuth(u.username))
		if err == nil {
			if out.AuthenticationResult == nil {
				return fmt.Errorf("challenge %q instead of tokens", out.ChallengeName)
			}
			access = out.AuthenticationResult.AccessToken
		}
		return err
	}, nil)
	if err != nil {
		u.failed = "InitiateAuth: " + err.Error()
		return
	}
	u.signedIn = true
	err = l.retry(ctx, "GetUser", first, func(ctx context.Context, api *cip.Client) error {
		out, err := api.GetUser(ctx, &cip.GetUserInput{AccessToken: access})
		if err == nil && attr(out.UserAttributes, "email") != emailOf(u.username) {
			return fmt.Errorf("GetUser %s: email %q", u.username, attr(out.UserAttributes, "email"))
		}
		return err
	}, nil)
	if err != nil {
		u.failed = "GetUser: " + err.Error()
	}
}

// passwordAuth is a USER_PASSWORD_AUTH sign-in of username.
func passwordAuth(username string) *cip.InitiateAuthInput {
	return &cip.InitiateAuthInput{
		ClientId: aws.String(clientID), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": username, "PASSWORD": password},
	}
}

// TestPostgresRestartUnderLoad stops a private PostgreSQL (fast
// shutdown) for a few seconds under a sign-up, sign-in and GetUser load
// across three nodes, and starts it again. While it is down, requests
// may fail only with the retryable error (InternalErrorException, 503,
// Retry-After) and never hang; once it is back, every node serves again
// within recoverBound without being restarted; every acknowledged
// sign-up exists afterwards with its attributes and can sign in.
func TestPostgresRestartUnderLoad(t *testing.T) {
	pg := servicetest.StartPostgresServer(t)
	db := pg.Database(t)
	broker := servicetest.StartNATSServer(t)
	c := newCluster(t, db, broker.URL())
	ctx := t.Context()
	const (
		workers      = 8
		warmUp       = 2 * time.Second
		outage       = 3 * time.Second
		recoverBound = 10 * time.Second
		// steady is how long the load goes on after every node has
		// served again; every request in it must succeed.
		steady = 2 * time.Second
	)

	l := &userLoad{c: c, rec: &attempts{}, tall: newTally()}
	var wg sync.WaitGroup
	loadStart := time.Now()
	for w := range workers {
		wg.Go(func() { l.worker(ctx, w) })
	}
	time.Sleep(warmUp)

	stopStart := time.Now()
	pg.Stop(t)
	down := time.Now()
	time.Sleep(outage)
	startStart := time.Now()
	pg.Start(t)
	up := time.Now()
	t.Logf("PostgreSQL: fast stop took %s, then down for %s, then start took %s",
		down.Sub(stopStart).Round(time.Millisecond), startStart.Sub(down).Round(time.Millisecond), up.Sub(startStart).Round(time.Millisecond))

	var recovered []time.Time
	for {
		recovered = l.rec.firstOKAfter(up)
		all := true
		for _, r := range recovered {
			all = all && !r.IsZero()
		}
		if all || time.Since(up) > recoverBound {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	lastRecovered := up
	for i, r := range recovered {
		if r.IsZero() {
			t.Errorf("node%d served no request successfully within %s of PostgreSQL's restart", i+1, recoverBound)
			continue
		}
		t.Logf("node%d: first success %s after PostgreSQL accepted connections again", i+1, r.Sub(up).Round(time.Millisecond))
		if r.After(lastRecovered) {
			lastRecovered = r
		}
	}
	steadyFrom := lastRecovered.Add(time.Second)
	time.Sleep(time.Until(steadyFrom.Add(steady)))
	l.stop.Store(true)
	wg.Wait()
	elapsed := time.Since(loadStart)

	// What clients saw.
	all := l.rec.snapshot()
	var (
		inOutage, okInOutage, retryableInOutage int
		lastRetryable                           time.Time
		slowest                                 attempt
		byNode                                  [nodes]int
	)
	for _, x := range all {
		byNode[x.node]++
		if d := x.end.Sub(x.start); d > slowest.end.Sub(slowest.start) {
			slowest = x
		}
		if x.end.After(stopStart) && x.start.Before(up) {
			inOutage++
			switch x.kind {
			case kindOK:
				okInOutage++
			case kindRetryable:
				retryableInOutage++
			}
		}
		if x.kind == kindRetryable && x.end.After(lastRetryable) {
			lastRetryable = x.end
		}
		if x.kind != kindOK && x.kind != kindRetryable && !strings.HasPrefix(x.kind, acceptedPrefix) {
			t.Errorf("%s on node%d at +%s (took %s): %s: %v", x.op, x.node+1, x.start.Sub(loadStart).Round(time.Millisecond),
				x.end.Sub(x.start).Round(time.Millisecond), x.kind, x.err)
		}
		if !x.start.Before(steadyFrom) && x.kind != kindOK && !strings.HasPrefix(x.kind, acceptedPrefix) {
			t.Errorf("%s on node%d failed %s after every node had recovered: %s", x.op, x.node+1, x.start.Sub(lastRecovered).Round(time.Millisecond), x.kind)
		}
	}
	t.Logf("%d workers, %d requests in %s (node1 %d, node2 %d, node3 %d); during the outage %d requests: %d succeeded (caches), %d retryable errors; slowest request %s (%s on node%d, %s)",
		workers, len(all), elapsed.Round(time.Millisecond), byNode[0], byNode[1], byNode[2], inOutage, okInOutage, retryableInOutage,
		slowest.end.Sub(slowest.start).Round(time.Millisecond), slowest.op, slowest.node+1, slowest.kind)
	if !lastRetryable.IsZero() {
		t.Logf("last retryable error answered at %+dms relative to PostgreSQL accepting connections again (pg_ctl start returning); every node served again within %s",
			lastRetryable.Sub(up).Milliseconds(), lastRecovered.Sub(up).Round(time.Millisecond))
	}
	t.Logf("outcomes by operation and kind:%s", l.tall)
	if retryableInOutage == 0 {
		t.Errorf("no request failed during the outage: the load did not reach the database")
	}

	// What the database kept: every acknowledged sign-up, with its
	// attributes, confirmed if that was acknowledged, and able to sign in.
	var (
		mu                 sync.Mutex
		signedUp, signedIn int
	)
	for _, u := range l.users {
		if u.failed != "" {
			t.Errorf("worker gave %s up: %s", u.username, u.failed)
		}
	}
	checkStart := time.Now()
	forEach(l.users, 4, func(i int, u *loadUser) {
		if !u.signedUp {
			return
		}
		rctx, cancel := ctxFor(ctx)
		defer cancel()
		n := c.nodes[i%nodes]
		out, err := n.api.AdminGetUser(rctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(u.username)})
		if err != nil {
			t.Errorf("acknowledged sign-up %s: AdminGetUser through %s: %v", u.username, n.name, err)
			return
		}
		if e, nm := attr(out.UserAttributes, "email"), attr(out.UserAttributes, "name"); e != emailOf(u.username) || nm != nameOf(u.username) {
			t.Errorf("%s: email %q, name %q; want %q, %q", u.username, e, nm, emailOf(u.username), nameOf(u.username))
		}
		mu.Lock()
		signedUp++
		mu.Unlock()
		if !u.confirmed {
			return
		}
		if out.UserStatus != types.UserStatusTypeConfirmed {
			t.Errorf("%s: status %s after an acknowledged AdminConfirmSignUp", u.username, out.UserStatus)
			return
		}
		auth, err := c.nodes[(i+1)%nodes].api.InitiateAuth(rctx, passwordAuth(u.username))
		if err != nil || auth.AuthenticationResult == nil {
			t.Errorf("%s cannot sign in after the outage: %v", u.username, err)
			return
		}
		mu.Lock()
		signedIn++
		mu.Unlock()
	})
	listed, err := storedUsernames(ctx, db)
	if err != nil {
		t.Fatalf("users in the database: %v", err)
	}
	sort.Strings(listed)
	for i := 1; i < len(listed); i++ {
		if listed[i] == listed[i-1] {
			t.Errorf("%s is stored twice", listed[i])
		}
	}
	t.Logf("%d users planned, %d signed up (all exist with their attributes), %d confirmed and signed in again afterwards, %d stored; checked in %s",
		len(l.users), signedUp, signedIn, len(listed), time.Since(checkStart).Round(time.Millisecond))
	if len(listed) != signedUp {
		t.Errorf("%d users stored, %d signed up", len(listed), signedUp)
	}
	if signedIn == 0 {
		t.Errorf("no user got through confirmation")
	}
}
