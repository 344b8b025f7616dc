package userpool_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// refreshRun is one refresh scenario under way: a user signed in to the
// env's client, and every refresh token the sign-in has been given.
type refreshRun struct {
	*env
	// tokens[0] is the sign-in's; each successor is appended.
	tokens []string
	// access is the newest access token, for GlobalSignOut.
	access string
}

// refreshStep is one thing that happens in a scenario, at the env's
// clock's present time.
type refreshStep func(r *refreshRun)

// refreshWant is what a redemption must answer.
type refreshWant struct {
	successor bool            // a new refresh token, unlike any before
	err       *userpool.Error // else success without a refresh token
	msg       string          // err's message; its sentinel's when empty
}

var (
	sameToken = refreshWant{}
	newToken  = refreshWant{successor: true}
	reused    = refreshWant{err: userpool.ErrRefreshTokenReuse}
	revoked   = refreshWant{err: userpool.ErrNotAuthorized, msg: "Refresh Token has been revoked"}
	expired   = refreshWant{err: userpool.ErrNotAuthorized, msg: "Refresh Token has expired"}
	invalid   = refreshWant{err: userpool.ErrNotAuthorized, msg: "Invalid Refresh Token"}
)

func rotation(grace int64) *userpool.RefreshTokenRotationType {
	return &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: grace}
}

var noRotation = &userpool.RefreshTokenRotationType{Feature: "DISABLED"}

func advance(d time.Duration) refreshStep {
	return func(r *refreshRun) { r.clock.Advance(d) }
}

// redeem checks one redemption of tokens[i]; got is its new refresh
// token, access its access token.
func (r *refreshRun) redeem(i int, want refreshWant, got, access string, err error) {
	r.t.Helper()
	if want.err != nil {
		msg := want.msg
		if msg == "" {
			msg = want.err.Message
		}
		wantErr(r.t, err, want.err, msg)
		return
	}
	if err != nil {
		r.t.Fatalf("redeeming tokens[%d]: %v", i, err)
	}
	if access == "" {
		r.t.Fatalf("redeeming tokens[%d]: no access token", i)
	}
	r.access = access
	switch {
	case !want.successor && got != "":
		r.t.Fatalf("redeeming tokens[%d]: a new refresh token with rotation off", i)
	case want.successor && (got == "" || slices.Contains(r.tokens, got)):
		r.t.Fatalf("redeeming tokens[%d]: refresh token %q, want a new one", i, got)
	case want.successor:
		r.tokens = append(r.tokens, got)
	}
}

// refresh is GetTokensFromRefreshToken with tokens[i].
func refresh(i int, want refreshWant) refreshStep {
	return func(r *refreshRun) {
		r.t.Helper()
		out, err := r.svc.GetTokensFromRefreshToken(r.ctx, userpool.GetTokensFromRefreshTokenInput{ClientId: r.client, RefreshToken: r.tokens[i]})
		res := out.AuthenticationResult
		if res == nil {
			res = &userpool.AuthenticationResult{}
		}
		r.redeem(i, want, res.RefreshToken, res.AccessToken, err)
	}
}

// refreshTokenAuth is InitiateAuth REFRESH_TOKEN_AUTH with tokens[i].
func refreshTokenAuth(i int, want refreshWant) refreshStep {
	return func(r *refreshRun) {
		r.t.Helper()
		out, err := r.svc.InitiateAuth(r.ctx, userpool.InitiateAuthInput{ClientId: r.client, AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: map[string]string{"REFRESH_TOKEN": r.tokens[i]}})
		res := out.AuthenticationResult
		if res == nil {
			res = &userpool.AuthenticationResult{}
		}
		r.redeem(i, want, res.RefreshToken, res.AccessToken, err)
	}
}

// grant is the token endpoint's refresh_token grant with tokens[i]; it
// refuses with invalid_grant and the message the JSON API would give.
func grant(i int, want refreshWant) refreshStep {
	return func(r *refreshRun) {
		r.t.Helper()
		if want.err != nil && want.msg == "" {
			want.msg = want.err.Message
		}
		if want.err != nil {
			want.err = userpool.ErrInvalidGrant
		}
		out, err := r.svc.RefreshGrant(r.ctx, r.client, "", r.tokens[i])
		if out == nil {
			out = &userpool.OAuthTokens{}
		}
		r.redeem(i, want, out.RefreshToken, out.AccessToken, err)
	}
}

// refreshElsewhere redeems tokens[i] with a client of the same pool, or
// of another pool.
func refreshElsewhere(otherPool bool, i int, want refreshWant) refreshStep {
	return func(r *refreshRun) {
		r.t.Helper()
		pool := r.poolID
		if otherPool {
			p, err := r.svc.CreateUserPool(r.ctx, userpool.CreateUserPoolInput{PoolName: "other"})
			if err != nil {
				r.t.Fatal(err)
			}
			pool = p.UserPool.Id
		}
		c, err := r.svc.CreateUserPoolClient(r.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{UserPoolId: pool, ClientName: "other", RefreshTokenRotation: rotation(5)}})
		if err != nil {
			r.t.Fatal(err)
		}
		out, err := r.svc.GetTokensFromRefreshToken(r.ctx, userpool.GetTokensFromRefreshTokenInput{ClientId: c.UserPoolClient.ClientId, RefreshToken: r.tokens[i]})
		res := out.AuthenticationResult
		if res == nil {
			res = &userpool.AuthenticationResult{}
		}
		r.redeem(i, want, res.RefreshToken, res.AccessToken, err)
	}
}

// setRotation changes the client's rotation setting, as an operator
// would mid-way through its users' sign-ins.
func setRotation(rot *userpool.RefreshTokenRotationType) refreshStep {
	return func(r *refreshRun) {
		r.t.Helper()
		if _, err := r.svc.UpdateUserPoolClient(r.ctx, userpool.UpdateUserPoolClientInput{ClientId: r.client, ClientSettingsInput: userpool.ClientSettingsInput{
			UserPoolId: r.poolID, ClientName: "c", RefreshTokenRotation: rot,
			ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		}}); err != nil {
			r.t.Fatal(err)
		}
	}
}

func globalSignOut(r *refreshRun) {
	r.t.Helper()
	if _, err := r.svc.GlobalSignOut(r.ctx, userpool.AccessTokenInput{AccessToken: r.access}); err != nil {
		r.t.Fatal(err)
	}
}

func disableUser(r *refreshRun) {
	r.t.Helper()
	if _, err := r.svc.AdminDisableUser(r.ctx, userpool.AdminUserInput{UserPoolId: r.poolID, Username: "rt@example.com"}); err != nil {
		r.t.Fatal(err)
	}
}

func revokeToken(i int) refreshStep {
	return func(r *refreshRun) {
		r.t.Helper()
		if _, err := r.svc.RevokeToken(r.ctx, userpool.RevokeTokenInput{ClientId: r.client, Token: r.tokens[i]}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// TestRefreshScenarios runs the refresh policy's scenarios end to end
// through the Service and storage, on the env's settable clock. The
// clock starts on a whole second, so that the microseconds storage keeps
// lose nothing and the grace period's and expiry's bounds are exact.
func TestRefreshScenarios(t *testing.T) {
	const day = 24 * time.Hour
	const µs = time.Microsecond
	for _, tc := range []struct {
		name     string
		rotation *userpool.RefreshTokenRotationType
		steps    []refreshStep
	}{
		{"first refresh with rotation on", rotation(5), []refreshStep{
			refresh(0, newToken), refresh(1, newToken), refresh(2, newToken),
		}},
		{"with rotation off", nil, []refreshStep{
			refresh(0, sameToken), advance(day), refresh(0, sameToken), refreshTokenAuth(0, sameToken),
		}},
		{"reuse inside the grace period", rotation(5), []refreshStep{
			refresh(0, newToken), advance(3 * time.Second), refresh(0, newToken), refresh(1, newToken), refresh(2, newToken),
		}},
		{"reuse at the end of the grace period", rotation(5), []refreshStep{
			refresh(0, newToken), advance(5 * time.Second), refresh(0, newToken), refresh(1, newToken),
		}},
		{"reuse just after the grace period", rotation(5), []refreshStep{
			refresh(0, newToken), advance(5*time.Second + µs), refresh(0, reused), refresh(1, revoked), refresh(0, revoked),
		}},
		{"grace 0", rotation(0), []refreshStep{
			refresh(0, newToken), refresh(0, newToken), advance(µs), refresh(0, reused), refresh(1, revoked),
		}},
		{"grace 60", rotation(60), []refreshStep{
			refresh(0, newToken), advance(time.Minute), refresh(0, newToken), advance(µs), refresh(0, reused),
		}},
		{"rotation switched off mid-family", rotation(5), []refreshStep{
			refresh(0, newToken), setRotation(noRotation), refresh(1, sameToken), refresh(0, reused), refresh(1, revoked),
		}},
		{"rotation switched on mid-family", nil, []refreshStep{
			refresh(0, sameToken), refresh(0, sameToken), setRotation(rotation(5)), refresh(0, newToken),
			advance(5*time.Second + µs), refresh(1, newToken), refresh(0, reused),
		}},
		{"family revoked by global sign-out", rotation(5), []refreshStep{
			refresh(0, newToken), globalSignOut, refresh(1, revoked), refresh(0, revoked),
		}},
		{"family revoked by global sign-out, rotation off", nil, []refreshStep{
			refresh(0, sameToken), globalSignOut, refresh(0, revoked),
		}},
		{"family revoked by disabling the user", rotation(5), []refreshStep{
			refresh(0, newToken), disableUser, refresh(1, revoked), refresh(0, revoked),
		}},
		{"expires at this instant", rotation(5), []refreshStep{
			advance(30 * day), refresh(0, newToken),
		}},
		{"expired but never used", rotation(5), []refreshStep{
			advance(30*day + µs), refresh(0, expired),
		}},
		{"expired and rotated", rotation(5), []refreshStep{
			// tokens[1] lives 30 days from the rotation, and its sign-in
			// outlives the refusal of tokens[0]: expiry is not reuse.
			advance(day), refresh(0, newToken), advance(29*day + µs), refresh(0, expired), refresh(1, newToken),
		}},
		{"a token of another client", rotation(5), []refreshStep{
			refreshElsewhere(false, 0, invalid), refresh(0, newToken),
		}},
		{"a token of another pool", rotation(5), []refreshStep{
			refreshElsewhere(true, 0, invalid), refresh(0, newToken),
		}},
		{"RevokeToken then refresh", rotation(5), []refreshStep{
			refresh(0, newToken), revokeToken(1), refresh(1, revoked), refresh(0, revoked),
		}},
		{"REFRESH_TOKEN_AUTH refused for a rotating client", rotation(5), []refreshStep{
			refreshTokenAuth(0, refreshWant{err: userpool.ErrNotAuthorized, msg: "Refresh token rotation is enabled for this client"}), refresh(0, newToken),
		}},
		{"the token endpoint's refresh grant", rotation(5), []refreshStep{
			grant(0, newToken), advance(3 * time.Second), grant(0, newToken), advance(3 * time.Second), grant(0, reused), grant(1, revoked),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.rotation)
			e.confirmedUser("rt@example.com", "Passw0rd!")
			now := e.clock.Now()
			e.clock.Advance(now.Truncate(time.Second).Add(time.Second).Sub(now))
			out, err := e.passwordSignIn("rt@example.com", "Passw0rd!")
			if err != nil {
				t.Fatal(err)
			}
			r := &refreshRun{env: e, tokens: []string{out.AuthenticationResult.RefreshToken}, access: out.AuthenticationResult.AccessToken}
			for _, step := range tc.steps {
				step(r)
			}
		})
	}
}

// racingStore runs race once, when a refresh reads the token's user:
// after the refresh has decided on the token and family it read, before
// its write transaction.
type racingStore struct {
	storage.Storage
	race func()
}

func (s *racingStore) GetUser(ctx context.Context, poolID, username string) (storage.User, error) {
	if race := s.race; race != nil {
		s.race = nil
		race()
	}
	return s.Storage.GetUser(ctx, poolID, username)
}

// TestRefreshRaceDecidedInTransaction: what happens to the token between
// refresh's reads and its rotation is decided on inside the transaction,
// on the records it sees. The race is run by the env's Service, as by
// another request or node; the refresh under test is a second Service
// over the same storage.
func TestRefreshRaceDecidedInTransaction(t *testing.T) {
	for _, tc := range []struct {
		name string
		race []refreshStep
		want refreshWant
		then []refreshStep
	}{
		{"rotated by a concurrent refresh, within the grace period",
			[]refreshStep{refresh(0, newToken)}, newToken, []refreshStep{refresh(1, newToken)}},
		{"rotated by a concurrent refresh, the grace period over by the transaction",
			[]refreshStep{refresh(0, newToken), advance(5*time.Second + time.Microsecond)}, reused, []refreshStep{refresh(1, revoked)}},
		{"signed out meanwhile",
			[]refreshStep{globalSignOut}, revoked, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, rotation(5))
			e.confirmedUser("rt@example.com", "Passw0rd!")
			out, err := e.passwordSignIn("rt@example.com", "Passw0rd!")
			if err != nil {
				t.Fatal(err)
			}
			r := &refreshRun{env: e, tokens: []string{out.AuthenticationResult.RefreshToken}, access: out.AuthenticationResult.AccessToken}
			racing := &racingStore{Storage: e.store}
			svc, err := userpool.New(e.ctx, userpool.Options{Storage: racing, Keys: keys.NewManager(racing, keys.Options{Now: e.clock.Now}), Now: e.clock.Now, IssuerBase: "http://cognate.test"})
			if err != nil {
				t.Fatal(err)
			}
			racing.race = func() {
				for _, step := range tc.race {
					step(r)
				}
			}
			got, err := svc.GetTokensFromRefreshToken(e.ctx, userpool.GetTokensFromRefreshTokenInput{ClientId: e.client, RefreshToken: r.tokens[0]})
			if racing.race != nil {
				t.Fatal("the race did not run")
			}
			res := got.AuthenticationResult
			if res == nil {
				res = &userpool.AuthenticationResult{}
			}
			r.redeem(0, tc.want, res.RefreshToken, res.AccessToken, err)
			for _, step := range tc.then {
				step(r)
			}
		})
	}
}
