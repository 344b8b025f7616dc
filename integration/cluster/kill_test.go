package cluster_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognate-auth/cognate/internal/servicetest"
)

// What became of one user a worker set out to sign up.
const (
	// outcomeAcked: a node answered the SignUp with 200.
	outcomeAcked = "acknowledged"
	// outcomeExistsOnRetry: a node failed to answer (it died), and the
	// retry on another node found the username taken: the first node
	// stored the user but its answer was lost. It counts as a success
	// only if the user exists.
	outcomeExistsOnRetry = "UsernameExistsException on a retry"
)

// plannedUser is one user a worker signs up, and how it went.
type plannedUser struct {
	username string
	outcome  string // one of the outcomes above, or "failed: <kind>"
	node     string // the node that answered last
	attempts int
	err      error // the last error of a failed sign-up
}

// signUpAnywhere signs username up through node first, and on a
// connection error or a retryable error through the next node, and the
// next, for up to retryFor.
func signUpAnywhere(ctx context.Context, c *cluster, calls *tally, username string, first int) *plannedUser {
	const retryFor = 20 * time.Second
	p := &plannedUser{username: username}
	until := time.Now().Add(retryFor)
	for attempt := 0; ; attempt++ {
		n := c.nodes[(first+attempt)%len(c.nodes)]
		rctx, cancel := ctxFor(ctx)
		_, err := n.api.SignUp(rctx, signUpInput(username))
		cancel()
		kind := classify(err)
		p.attempts++
		p.node = n.name
		op := "SignUp " + n.name
		switch {
		case err == nil:
			calls.add(op, kind, nil)
			p.outcome = outcomeAcked
			return p
		case attempt > 0 && apiCode(err) == "UsernameExistsException":
			calls.add(op, outcomeExistsOnRetry, err)
			p.outcome = outcomeExistsOnRetry
			return p
		case retryOnAnotherNode(kind) && time.Now().Before(until) && ctx.Err() == nil:
			calls.add(op, kind, err)
			if kind == kindRetryable {
				time.Sleep(100 * time.Millisecond)
			}
		default:
			calls.add(op, kind, err)
			p.outcome, p.err = "failed: "+kind, err
			return p
		}
	}
}

// TestSignUpLoadSurvivesKilledNode runs sign-ups from 12 workers, each
// spreading its requests over the three nodes and retrying on another
// node when one gives no answer or a retryable error, and SIGKILLs node
// 2 in the middle. Every acknowledged sign-up must exist afterwards,
// every worker's users must all end up created, none twice; node 2 must
// then restart and serve.
func TestSignUpLoadSurvivesKilledNode(t *testing.T) {
	db := servicetest.Postgres(t)
	broker := servicetest.StartNATSServer(t)
	c := newCluster(t, db, broker.URL())
	ctx := t.Context()
	const (
		workers   = 12
		loadFor   = 5 * time.Second
		killAfter = 2 * time.Second
	)

	calls := newTally()
	var (
		mu    sync.Mutex
		users []*plannedUser
		wg    sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(loadFor)
	for w := range workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				p := signUpAnywhere(ctx, c, calls, fmt.Sprintf("w%02du%04d", w, i), (w+i)%nodes)
				mu.Lock()
				users = append(users, p)
				mu.Unlock()
			}
		})
	}
	time.Sleep(killAfter)
	before := calls.count(kindOK)
	killStart := time.Now()
	c.nodes[1].kill()
	t.Logf("SIGKILLed node2 %s into the load, after %d acknowledged sign-ups (kill took %s)",
		killStart.Sub(start).Round(time.Millisecond), before, time.Since(killStart).Round(time.Millisecond))
	wg.Wait()
	elapsed := time.Since(start)

	outcomes := map[string]int{}
	for _, p := range users {
		outcomes[p.outcome]++
		if strings.HasPrefix(p.outcome, "failed") {
			t.Errorf("sign-up of %s %s after %d attempts (last on %s): %v", p.username, p.outcome, p.attempts, p.node, p.err)
		}
	}
	t.Logf("%d workers planned %d users in %s (%.1f sign-ups/s); outcomes %v; requests %d:%s",
		workers, len(users), elapsed.Round(time.Millisecond), float64(len(users))/elapsed.Seconds(), outcomes, calls.total(), calls)
	if calls.count(kindOK) == 0 {
		t.Fatal("no sign-up succeeded")
	}
	// Only node 2, which was killed, may fail to answer.
	for _, u := range calls.unexpected(kindOK, kindRetryable, outcomeExistsOnRetry, kindConn, kindRefused) {
		t.Errorf("unexpected outcome: %s", u)
	}
	for _, n := range []string{"node1", "node3"} {
		for _, k := range []string{kindConn, kindRefused, kindTimeout} {
			if got := calls.get("SignUp "+n, k); got > 0 {
				t.Errorf("%d sign-ups to the surviving %s ended in %s", got, n, k)
			}
		}
	}

	// Every user a worker ended with is there, through the survivors,
	// with the attributes it was signed up with and a sub of its own.
	survivors := []*node{c.nodes[0], c.nodes[2]}
	subs := map[string]string{}
	var missing []string
	checkStart := time.Now()
	forEach(users, 4, func(i int, p *plannedUser) {
		if strings.HasPrefix(p.outcome, "failed") {
			return
		}
		rctx, cancel := ctxFor(ctx)
		defer cancel()
		out, err := survivors[i%2].api.AdminGetUser(rctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(p.username)})
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			missing = append(missing, fmt.Sprintf("%s (%s on %s): %v", p.username, p.outcome, p.node, err))
			return
		}
		if e, n := attr(out.UserAttributes, "email"), attr(out.UserAttributes, "name"); e != emailOf(p.username) || n != nameOf(p.username) {
			t.Errorf("%s: email %q, name %q; want %q, %q", p.username, e, n, emailOf(p.username), nameOf(p.username))
		}
		sub := attr(out.UserAttributes, "sub")
		if other, dup := subs[sub]; dup || sub == "" {
			t.Errorf("%s has sub %q, as does %q", p.username, sub, other)
		}
		subs[sub] = p.username
	})
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("user a worker ended with is missing: %s", m)
	}

	listed, err := storedUsernames(ctx, db)
	if err != nil {
		t.Fatalf("users in the database: %v", err)
	}
	seen := map[string]int{}
	for _, u := range listed {
		seen[u]++
	}
	want := map[string]bool{}
	for _, p := range users {
		want[p.username] = true
		if seen[p.username] > 1 {
			t.Errorf("%s is listed %d times", p.username, seen[p.username])
		}
	}
	for u := range seen {
		if !want[u] {
			t.Errorf("the database has %s, which no worker signed up", u)
		}
	}
	t.Logf("checked %d users (AdminGetUser through node1 and node3, %d distinct subs) and the database (%d stored, %d planned) in %s",
		len(users), len(subs), len(listed), len(users), time.Since(checkStart).Round(time.Millisecond))

	// Node 2 comes back on its own port and data directory and serves
	// both what the others wrote and new writes the others see.
	restart := time.Now()
	c.nodes[1].start()
	t.Logf("node2 restarted and ready in %s", time.Since(restart).Round(time.Millisecond))
	n2 := c.nodes[1]
	if _, err := n2.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String(users[len(users)-1].username)}); err != nil {
		t.Fatalf("restarted node2 AdminGetUser %s: %v", users[len(users)-1].username, err)
	}
	if _, err := n2.api.SignUp(ctx, signUpInput("afterrestart")); err != nil {
		t.Fatalf("restarted node2 SignUp: %v", err)
	}
	if _, err := c.nodes[2].api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: aws.String(poolID), Username: aws.String("afterrestart")}); err != nil {
		t.Fatalf("node3 AdminGetUser of node2's new user: %v", err)
	}
}

// forEach calls fn for every item of items, from at most par goroutines
// at once.
func forEach[T any](items []T, par int, fn func(int, T)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, par)
	for i, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i, it)
		})
	}
	wg.Wait()
}
