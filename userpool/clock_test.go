package userpool_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

// clock is a settable time source shared by the service and its keys, so
// expiry rules can be tested without waiting.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	t      *testing.T
	ctx    context.Context
	svc    *userpool.Service
	store  storage.Storage
	clock  *clock
	poolID string
	client string
}

func newEnv(t *testing.T, rotation *userpool.RefreshTokenRotationType) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{now: time.Now()}
	km := keys.NewManager(store, keys.Options{Now: clk.Now})
	svc, err := userpool.New(ctx, userpool.Options{Storage: store, Keys: km, Now: clk.Now, IssuerBase: "http://cognate.test"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "p", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "c", RefreshTokenRotation: rotation,
		ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, svc: svc, store: store, clock: clk, poolID: p.UserPool.Id, client: c.UserPoolClient.ClientId}
}

// lastCode is the newest delivered code for an address.
func (e *env) lastCode(dest string) string {
	e.t.Helper()
	msgs, err := e.store.ListMessages(e.ctx, 50)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Destination == dest {
			return m.Code
		}
	}
	e.t.Fatalf("no code for %s", dest)
	return ""
}

func (e *env) confirmedUser(email, pw string) {
	e.t.Helper()
	if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: e.client, Username: email, Password: pw}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.ConfirmSignUp(e.ctx, userpool.ConfirmSignUpInput{ClientId: e.client, Username: email, ConfirmationCode: e.lastCode(email)}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) passwordSignIn(email, pw string) (userpool.AuthOutput, error) {
	return e.svc.InitiateAuth(e.ctx, userpool.InitiateAuthInput{ClientId: e.client, AuthFlow: "USER_PASSWORD_AUTH", AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": pw}})
}

func wantErr(t *testing.T, err error, sentinel *userpool.Error, msg string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want %s", err, sentinel.Type)
	}
	if msg != "" && !strings.Contains(err.Error(), msg) {
		t.Fatalf("err = %v, want message containing %q", err, msg)
	}
}

func TestLockoutDoublesAndExpires(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("ann@example.com", "Passw0rd!")
	for i := 0; i < 5; i++ {
		_, err := e.passwordSignIn("ann@example.com", "wrong-Passw0rd!")
		wantErr(t, err, userpool.ErrNotAuthorized, "Incorrect username or password.")
	}
	// The fifth failure locked the account for 1 s (Cognito's 2^(n-5) s):
	// even the right password is refused, without being checked.
	_, err := e.passwordSignIn("ann@example.com", "Passw0rd!")
	wantErr(t, err, userpool.ErrNotAuthorized, "Password attempts exceeded")
	e.clock.Advance(1100 * time.Millisecond)
	_, err = e.passwordSignIn("ann@example.com", "wrong-Passw0rd!")
	wantErr(t, err, userpool.ErrNotAuthorized, "Incorrect")
	e.clock.Advance(1100 * time.Millisecond) // the 6th failure locks for 2 s
	_, err = e.passwordSignIn("ann@example.com", "Passw0rd!")
	wantErr(t, err, userpool.ErrNotAuthorized, "Password attempts exceeded")
	e.clock.Advance(time.Second)
	out, err := e.passwordSignIn("ann@example.com", "Passw0rd!")
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("sign-in after lock: %v", err)
	}
	u, _ := e.store.GetUserByEmail(e.ctx, e.poolID, "ann@example.com")
	if a, err := e.store.GetAttempts(e.ctx, e.poolID, "password/"+u.Username); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("success did not reset the counter: %+v %v", a, err)
	}
}

func TestCodesExpire(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: e.client, Username: "bo@example.com", Password: "Passw0rd!"}); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode("bo@example.com")
	e.clock.Advance(24*time.Hour + time.Minute)
	_, err := e.svc.ConfirmSignUp(e.ctx, userpool.ConfirmSignUpInput{ClientId: e.client, Username: "bo@example.com", ConfirmationCode: code})
	wantErr(t, err, userpool.ErrExpiredCode, "")
	if _, err := e.svc.ResendConfirmationCode(e.ctx, userpool.ResendConfirmationCodeInput{ClientId: e.client, Username: "bo@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmSignUp(e.ctx, userpool.ConfirmSignUpInput{ClientId: e.client, Username: "bo@example.com", ConfirmationCode: e.lastCode("bo@example.com")}); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
}

func TestRotationGraceThenReuseRevokesFamily(t *testing.T) {
	e := newEnv(t, &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: 5})
	e.confirmedUser("cy@example.com", "Passw0rd!")
	out, err := e.passwordSignIn("cy@example.com", "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	first := out.AuthenticationResult.RefreshToken
	refresh := func(tok string) (*userpool.AuthenticationResult, error) {
		r, err := e.svc.GetTokensFromRefreshToken(e.ctx, userpool.GetTokensFromRefreshTokenInput{ClientId: e.client, RefreshToken: tok})
		return r.AuthenticationResult, err
	}
	second, err := refresh(first)
	if err != nil || second.RefreshToken == "" || second.RefreshToken == first {
		t.Fatalf("rotation: %v %+v", err, second)
	}
	e.clock.Advance(3 * time.Second)
	if _, err := refresh(first); err != nil {
		t.Fatalf("retired token within grace: %v", err)
	}
	e.clock.Advance(5 * time.Second)
	_, err = refresh(first)
	wantErr(t, err, userpool.ErrRefreshTokenReuse, "")
	_, err = refresh(second.RefreshToken)
	wantErr(t, err, userpool.ErrNotAuthorized, "revoked")
	_, err = e.svc.GetUser(e.ctx, userpool.AccessTokenInput{AccessToken: second.AccessToken})
	wantErr(t, err, userpool.ErrNotAuthorized, "revoked")
}

func TestAccessTokenExpires(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("di@example.com", "Passw0rd!")
	out, err := e.passwordSignIn("di@example.com", "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	access := out.AuthenticationResult.AccessToken
	if _, err := e.svc.GetUser(e.ctx, userpool.AccessTokenInput{AccessToken: access}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour + time.Second)
	_, err = e.svc.GetUser(e.ctx, userpool.AccessTokenInput{AccessToken: access})
	wantErr(t, err, userpool.ErrNotAuthorized, "expired")
}

func TestTemporaryPasswordExpires(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.svc.AdminCreateUser(e.ctx, userpool.AdminCreateUserInput{UserPoolId: e.poolID, Username: "ed@example.com", TemporaryPassword: "Temp0rary!", MessageAction: "SUPPRESS"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.passwordSignIn("ed@example.com", "Temp0rary!")
	if err != nil || out.ChallengeName != "NEW_PASSWORD_REQUIRED" {
		t.Fatalf("temporary sign-in: %v %+v", err, out)
	}
	e.clock.Advance(7*24*time.Hour + time.Minute)
	_, err = e.passwordSignIn("ed@example.com", "Temp0rary!")
	wantErr(t, err, userpool.ErrNotAuthorized, "Temporary password has expired")
}

func TestSRPSecretBlockExpiresAndIsSingleUse(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("fa@example.com", "Passw0rd!")
	challenge := func() (*srp.Client, userpool.AuthOutput) {
		c, err := srp.NewClient(e.poolID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.InitiateAuth(e.ctx, userpool.InitiateAuthInput{ClientId: e.client, AuthFlow: "USER_SRP_AUTH", AuthParameters: map[string]string{"USERNAME": "fa@example.com", "SRP_A": c.AHex()}})
		if err != nil {
			t.Fatal(err)
		}
		return c, out
	}
	answer := func(c *srp.Client, out userpool.AuthOutput) (userpool.AuthOutput, error) {
		p := out.ChallengeParameters
		sig, ts, err := c.Respond(p["USER_ID_FOR_SRP"], "Passw0rd!", p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return e.svc.RespondToAuthChallenge(e.ctx, userpool.RespondToAuthChallengeInput{ClientId: e.client, ChallengeName: "PASSWORD_VERIFIER", ChallengeResponses: map[string]string{
			"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig,
		}})
	}
	c, out := challenge()
	if res, err := answer(c, out); err != nil || res.AuthenticationResult == nil {
		t.Fatalf("SRP sign-in: %v", err)
	}
	_, err := answer(c, out)
	wantErr(t, err, userpool.ErrNotAuthorized, "session is expired")

	c, out = challenge()
	e.clock.Advance(3*time.Minute + time.Second)
	_, err = answer(c, out)
	wantErr(t, err, userpool.ErrNotAuthorized, "session is expired")

	// An answer that ends in a new-password challenge is claimed too.
	if _, err := e.svc.AdminCreateUser(e.ctx, userpool.AdminCreateUserInput{
		UserPoolId: e.poolID, Username: "temp@example.com", TemporaryPassword: "Passw0rd!", MessageAction: "SUPPRESS",
	}); err != nil {
		t.Fatal(err)
	}
	out, err = e.svc.InitiateAuth(e.ctx, userpool.InitiateAuthInput{ClientId: e.client, AuthFlow: "USER_SRP_AUTH", AuthParameters: map[string]string{"USERNAME": "temp@example.com", "SRP_A": c.AHex()}})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := answer(c, out); err != nil || res.ChallengeName != "NEW_PASSWORD_REQUIRED" {
		t.Fatalf("SRP answer of a user with a temporary password: %+v %v", res, err)
	}
	_, err = answer(c, out)
	wantErr(t, err, userpool.ErrNotAuthorized, "session is expired")
}

// TestUserCacheSeesLocalWritesAtOnce: token operations read users through
// a short cache; a write through the Service is visible at once, a write
// by another node (straight to storage) within the cache's TTL.
func TestUserCacheSeesLocalWritesAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("gil@example.com", "Passw0rd!")
	out, err := e.passwordSignIn("gil@example.com", "Passw0rd!")
	if err != nil {
		t.Fatal(err)
	}
	access := out.AuthenticationResult.AccessToken
	name := func() string {
		t.Helper()
		got, err := e.svc.GetUser(e.ctx, userpool.AccessTokenInput{AccessToken: access})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got.UserAttributes {
			if a.Name == "name" {
				return a.Value
			}
		}
		return ""
	}
	if name() != "" {
		t.Fatal("name set before update")
	}
	if _, err := e.svc.UpdateUserAttributes(e.ctx, userpool.UpdateUserAttributesInput{AccessToken: access, UserAttributes: []userpool.AttributeType{{Name: "name", Value: "Gil"}}}); err != nil {
		t.Fatal(err)
	}
	if got := name(); got != "Gil" {
		t.Fatalf("after a local update GetUser says %q", got)
	}
	u, _ := e.store.GetUserByEmail(e.ctx, e.poolID, "gil@example.com")
	if err := e.store.UpdateUser(e.ctx, e.poolID, u.Username, func(u storage.User) (storage.User, error) {
		u.Attributes["name"] = "Other node"
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(3 * time.Second)
	if got := name(); got != "Other node" {
		t.Fatalf("another node's write not seen after the TTL: %q", got)
	}
	if _, err := e.svc.AdminDisableUser(e.ctx, userpool.AdminUserInput{UserPoolId: e.poolID, Username: "gil@example.com"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.GetUser(e.ctx, userpool.AccessTokenInput{AccessToken: access})
	wantErr(t, err, userpool.ErrNotAuthorized, "")
}
