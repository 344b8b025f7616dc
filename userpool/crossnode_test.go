package userpool_test

// Two nodes of one installation: two Services, each with its own
// PostgreSQL connection pool, keys.Manager and in-memory caches, over one
// database. What one node does, the other must honour: at once where the
// check reads the database (SRP claims), within a stated bound where it
// reads a per-node cache first (revocation, signing keys).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage/postgres"
	"github.com/cognate-auth/cognate/userpool"
)

// revocationBound is how stale a node's view of a revocation made on
// another node may be: the life of its family and user cache entries
// (familyCacheTTL in cache.go, userCacheTTL in usercache.go).
const revocationBound = 2 * time.Second

// crossNodeSlack absorbs polling and a loaded test machine on top of a
// documented bound.
const crossNodeSlack = time.Second

// pollEvery is how often the other node is asked again.
const pollEvery = 5 * time.Millisecond

const crossNodePassword = "Cr0ss-Node-Passw0rd!"

// cluster is two nodes over one database, with a pool and an app client.
type cluster struct {
	nodes  [2]*userpool.Service
	poolID string
	client string
}

// newCluster starts two nodes on a fresh database; ko configures both
// nodes' key managers.
func newCluster(t *testing.T, ko keys.Options) *cluster {
	t.Helper()
	url := servicetest.Postgres(t)
	ctx := context.Background()
	var c cluster
	for i := range c.nodes {
		st, err := postgres.Open(ctx, url, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := userpool.New(ctx, userpool.Options{Storage: st, Keys: keys.NewManager(st, ko), IssuerBase: "http://cognate.test"})
		if err != nil {
			t.Fatal(err)
		}
		c.nodes[i] = svc
	}
	p, err := c.nodes[0].CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "nodes"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := c.nodes[0].CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "app",
		ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c.poolID, c.client = p.UserPool.Id, cl.UserPoolClient.ClientId
	return &c
}

// user creates a confirmed user through node 1.
func (c *cluster) user(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	n := c.nodes[0]
	if _, err := n.AdminCreateUser(ctx, userpool.AdminCreateUserInput{UserPoolId: c.poolID, Username: name, TemporaryPassword: crossNodePassword, MessageAction: "SUPPRESS"}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{UserPoolId: c.poolID, Username: name, Password: crossNodePassword, Permanent: true}); err != nil {
		t.Fatal(err)
	}
}

// signIn signs name in on node i with USER_PASSWORD_AUTH.
func (c *cluster) signIn(t *testing.T, i int, name string) *userpool.AuthenticationResult {
	t.Helper()
	out, err := c.nodes[i].InitiateAuth(context.Background(), userpool.InitiateAuthInput{
		ClientId: c.client, AuthFlow: "USER_PASSWORD_AUTH",
		AuthParameters: map[string]string{"USERNAME": name, "PASSWORD": crossNodePassword},
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in of %s on node %d: %v %+v", name, i+1, err, out)
	}
	return out.AuthenticationResult
}

// getUser is GetUser on node i.
func (c *cluster) getUser(i int, access string) error {
	_, err := c.nodes[i].GetUser(context.Background(), userpool.AccessTokenInput{AccessToken: access})
	return err
}

// pollUntil asks check every pollEvery until it returns true, for at most
// limit, and returns how long that took (limit and false if it never did).
func pollUntil(limit time.Duration, check func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if check() {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return limit, false
		}
		time.Sleep(pollEvery)
	}
}

// distribution describes durations as min/median/max.
func distribution(ds []time.Duration) string {
	s := slices.Clone(ds)
	slices.Sort(s)
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("min %v, median %v, max %v over %d rounds", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]), len(s))
}

// TestCrossNodeRevocation revokes sign-ins on node 1 while node 2, its
// caches warm, keeps being asked: node 2 must refuse the access token
// within revocationBound, with the answer node 1 gives at once.
func TestCrossNodeRevocation(t *testing.T) {
	const rounds = 20
	c := newCluster(t, keys.Options{})
	ctx := context.Background()
	type signedIn struct {
		name string
		tok  *userpool.AuthenticationResult
	}
	cases := []struct {
		name   string
		revoke func(s signedIn) error
	}{
		{"GlobalSignOut", func(s signedIn) error {
			_, err := c.nodes[0].GlobalSignOut(ctx, userpool.AccessTokenInput{AccessToken: s.tok.AccessToken})
			return err
		}},
		{"AdminUserGlobalSignOut", func(s signedIn) error {
			_, err := c.nodes[0].AdminUserGlobalSignOut(ctx, userpool.AdminUserInput{UserPoolId: c.poolID, Username: s.name})
			return err
		}},
		{"RevokeToken", func(s signedIn) error {
			_, err := c.nodes[0].RevokeToken(ctx, userpool.RevokeTokenInput{ClientId: c.client, Token: s.tok.RefreshToken})
			return err
		}},
		{"AdminDisableUser", func(s signedIn) error {
			_, err := c.nodes[0].AdminDisableUser(ctx, userpool.AdminUserInput{UserPoolId: c.poolID, Username: s.name})
			return err
		}},
		{"AdminDeleteUser", func(s signedIn) error {
			_, err := c.nodes[0].AdminDeleteUser(ctx, userpool.AdminUserInput{UserPoolId: c.poolID, Username: s.name})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			users := make([]signedIn, rounds)
			for i := range users {
				name := fmt.Sprintf("%s-%d", strings.ToLower(tc.name), i)
				c.user(t, name)
				users[i] = signedIn{name, c.signIn(t, 0, name)}
			}
			delays := make([]time.Duration, rounds)
			var wg sync.WaitGroup
			for i, u := range users {
				wg.Go(func() {
					// Node 2 has just checked the token: its cache entries
					// are as fresh, and so the wait as long, as they get.
					if err := c.getUser(1, u.tok.AccessToken); err != nil {
						t.Errorf("%s: GetUser on node 2 before: %v", u.name, err)
						return
					}
					if err := tc.revoke(u); err != nil {
						t.Errorf("%s: %s on node 1: %v", u.name, tc.name, err)
						return
					}
					// Node 1 saw its own write.
					want := c.getUser(0, u.tok.AccessToken)
					var e *userpool.Error
					if !errors.As(want, &e) || !errors.Is(want, userpool.ErrNotAuthorized) {
						t.Errorf("%s: GetUser on node 1 after: %v, want NotAuthorizedException", u.name, want)
						return
					}
					var last error
					d, ok := pollUntil(revocationBound+crossNodeSlack, func() bool {
						last = c.getUser(1, u.tok.AccessToken)
						return last != nil
					})
					delays[i] = d
					if !ok {
						t.Errorf("%s: node 2 still accepted the token %v after %s on node 1 (bound %v)", u.name, d, tc.name, revocationBound)
						return
					}
					if last.Error() != want.Error() {
						t.Errorf("%s: node 2 refused with %v, node 1 with %v", u.name, last, want)
					}
				})
			}
			wg.Wait()
			t.Logf("%s on node 1 → refused on node 2 after %s", tc.name, distribution(delays))
		})
	}
}

// srpAnswer starts USER_SRP_AUTH for name on node i and computes the
// PASSWORD_VERIFIER answer.
func (c *cluster) srpAnswer(t *testing.T, i int, name string) userpool.RespondToAuthChallengeInput {
	t.Helper()
	cl, err := srp.NewClient(c.poolID)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.nodes[i].InitiateAuth(context.Background(), userpool.InitiateAuthInput{
		ClientId: c.client, AuthFlow: "USER_SRP_AUTH",
		AuthParameters: map[string]string{"USERNAME": name, "SRP_A": cl.AHex()},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := out.ChallengeParameters
	sig, ts, err := cl.Respond(p["USER_ID_FOR_SRP"], crossNodePassword, p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return userpool.RespondToAuthChallengeInput{
		ClientId: c.client, ChallengeName: "PASSWORD_VERIFIER",
		ChallengeResponses: map[string]string{
			"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
			"TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig,
		},
	}
}

// TestCrossNodeSRPReplay sends one PASSWORD_VERIFIER answer to both nodes
// at once: exactly one gets tokens, the other the answer Cognito gives a
// used challenge. A later replay to either node is refused too.
func TestCrossNodeSRPReplay(t *testing.T) {
	const rounds = 10
	c := newCluster(t, keys.Options{})
	c.user(t, "srp-user")
	ctx := context.Background()
	for round := range rounds {
		answer := c.srpAnswer(t, round%2, "srp-user")
		var (
			outs [2]userpool.AuthOutput
			errs [2]error
			wg   sync.WaitGroup
		)
		start := make(chan struct{})
		for i := range c.nodes {
			wg.Go(func() {
				<-start
				outs[i], errs[i] = c.nodes[i].RespondToAuthChallenge(ctx, answer)
			})
		}
		close(start)
		wg.Wait()
		won := 0
		for i := range c.nodes {
			switch {
			case errs[i] == nil && outs[i].AuthenticationResult != nil:
				won++
			case errs[i] == nil:
				t.Errorf("round %d: node %d answered neither tokens nor an error: %+v", round, i+1, outs[i])
			default:
				wantUsedChallenge(t, fmt.Sprintf("round %d, node %d", round, i+1), errs[i])
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d nodes accepted one answer, want exactly 1 (errors %v)", round, won, errs)
		}
		for i := range c.nodes {
			_, err := c.nodes[i].RespondToAuthChallenge(ctx, answer)
			wantUsedChallenge(t, fmt.Sprintf("round %d, later replay to node %d", round, i+1), err)
		}
	}
}

func wantUsedChallenge(t *testing.T, what string, err error) {
	t.Helper()
	var e *userpool.Error
	if !errors.As(err, &e) || !errors.Is(err, userpool.ErrNotAuthorized) || e.Message != "Invalid session for the user, session is expired." {
		t.Errorf("%s: %v, want NotAuthorizedException: Invalid session for the user, session is expired.", what, err)
	}
}

// tokenKID returns the kid in a JWT's header.
func tokenKID(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.KID
}

// jwksKIDs returns the kids node i publishes.
func (c *cluster) jwksKIDs(t *testing.T, i int) []string {
	t.Helper()
	b, err := c.nodes[i].Keys().JWKS(context.Background(), c.poolID)
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []struct {
			KID string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return kids
}

// TestCrossNodeKeyRotation rotates the access-token key on node 1 and
// measures when node 2 publishes it and accepts the tokens it signs.
// Rotate (at once): node 2 accepts new tokens after at most its
// ReloadInterval (it reloads on an unknown kid) and publishes the key
// within its RefreshInterval. RotateAt (ahead, as several nodes should):
// no token is refused on either node at any time, and both nodes sign
// with the new key once it is active.
func TestCrossNodeKeyRotation(t *testing.T) {
	ko := keys.Options{RefreshInterval: 2 * time.Second, ReloadInterval: 500 * time.Millisecond}
	c := newCluster(t, ko)
	c.user(t, "rot")
	ctx := context.Background()
	first := c.signIn(t, 0, "rot").AccessToken
	if err := c.getUser(1, first); err != nil {
		t.Fatalf("node 2 refused node 1's token: %v", err)
	}

	t.Run("Rotate", func(t *testing.T) {
		if err := c.nodes[0].Keys().Rotate(ctx, c.poolID, keys.UseAccess); err != nil {
			t.Fatal(err)
		}
		rotated := time.Now()
		tok := c.signIn(t, 0, "rot").AccessToken
		kid := tokenKID(t, tok)
		if kid == tokenKID(t, first) {
			t.Fatal("node 1 still signs with the old key after Rotate")
		}
		d, ok := pollUntil(ko.ReloadInterval+crossNodeSlack, func() bool { return c.getUser(1, tok) == nil })
		if !ok {
			t.Errorf("node 2 refused node 1's new token %v after Rotate (ReloadInterval %v): %v", d, ko.ReloadInterval, c.getUser(1, tok))
		}
		t.Logf("Rotate on node 1 → node 2 accepts the new token after %v (ReloadInterval %v)", d.Round(time.Millisecond), ko.ReloadInterval)
		left := time.Until(rotated.Add(ko.RefreshInterval + crossNodeSlack))
		if _, ok := pollUntil(left, func() bool { return slices.Contains(c.jwksKIDs(t, 1), kid) }); !ok {
			t.Errorf("node 2's JWKS lacks the rotated key %v after Rotate (RefreshInterval %v)", time.Since(rotated), ko.RefreshInterval)
		}
		t.Logf("Rotate on node 1 → node 2 publishes it %v after (RefreshInterval %v)", time.Since(rotated).Round(time.Millisecond), ko.RefreshInterval)
	})

	t.Run("RotateAt", func(t *testing.T) {
		before := c.jwksKIDs(t, 0)
		activate := time.Now().Add(2 * ko.RefreshInterval)
		if err := c.nodes[0].Keys().RotateAt(ctx, c.poolID, keys.UseAccess, activate); err != nil {
			t.Fatal(err)
		}
		var kid string
		for _, k := range c.jwksKIDs(t, 0) {
			if !slices.Contains(before, k) {
				kid = k
			}
		}
		if kid == "" {
			t.Fatal("node 1 does not publish the scheduled key")
		}
		published := time.Duration(-1)
		// Until both nodes have signed with the new key for a while, sign
		// in on each node and use the token on the other: never refused.
		end := activate.Add(ko.RefreshInterval + crossNodeSlack)
		var newOn [2]bool
		for i := 0; time.Now().Before(end); i++ {
			from, to := i%2, 1-i%2
			tok := c.signIn(t, from, "rot").AccessToken
			signedNew := tokenKID(t, tok) == kid
			if signedNew && time.Now().Before(activate) {
				t.Errorf("node %d signed with the scheduled key before its activation", from+1)
			}
			newOn[from] = newOn[from] || signedNew
			if err := c.getUser(to, tok); err != nil {
				t.Errorf("node %d refused node %d's token (new key: %v) %v before activation: %v", to+1, from+1, signedNew, time.Until(activate), err)
			}
			if published < 0 && slices.Contains(c.jwksKIDs(t, 1), kid) {
				published = time.Until(activate)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if published < ko.RefreshInterval-crossNodeSlack {
			t.Errorf("node 2 published the scheduled key only %v before its activation", published)
		}
		if !newOn[0] || !newOn[1] {
			t.Errorf("signed with the new key after activation: node 1 %v, node 2 %v", newOn[0], newOn[1])
		}
		t.Logf("RotateAt(+%v) on node 1 → node 2 published it %v before activation; no token refused on either node", 2*ko.RefreshInterval, published.Round(time.Millisecond))
	})
}
