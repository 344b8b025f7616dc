package userpool_test

// Tests that back claims of docs/SECURITY.md which no other test proves.
// They run the user-pool domain on SQLite with a settable clock (see
// clock_test.go), so rules measured in hours and days need no waiting.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/keys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	claimsPassword  = "Passw0rd!"
	claimsPassword2 = "N3w-Passw0rd!"
	claimsWrong     = "wrong-Passw0rd!"
)

// wrongCodeFor returns a six-digit code that is not code.
func wrongCodeFor(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

// TestFailuresForgottenAfterADay: a password failure counter is forgotten
// a day after the last failure, or a day after the lock that followed it,
// for a real user and for a name no user has alike.
func TestFailuresForgottenAfterADay(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("day@example.com", claimsPassword)
	for _, name := range []string{"day@example.com", "nobody-day@example.com"} {
		wrong := func() error {
			_, err := e.passwordSignIn(name, claimsWrong)
			return err
		}
		// Four failures, a day's silence, four more: never five in a day,
		// so never locked.
		for range 4 {
			wantErr(t, wrong(), userpool.ErrNotAuthorized, "Incorrect")
		}
		e.clock.Advance(24*time.Hour + time.Second)
		for range 4 {
			wantErr(t, wrong(), userpool.ErrNotAuthorized, "Incorrect")
		}
		// The fifth failure of the day locks (1 s).
		wantErr(t, wrong(), userpool.ErrNotAuthorized, "Incorrect")
		wantErr(t, wrong(), userpool.ErrNotAuthorized, "Password attempts exceeded")
		// A day after the lock ends the count starts afresh: four more
		// failures are answered, not locked (a remembered count of five
		// would lock at the first).
		e.clock.Advance(time.Second + 24*time.Hour + time.Second)
		for range 4 {
			wantErr(t, wrong(), userpool.ErrNotAuthorized, "Incorrect")
		}
	}
	if _, err := e.passwordSignIn("day@example.com", claimsPassword); err != nil {
		t.Fatalf("the right password after forgotten failures: %v", err)
	}
}

// TestPasswordResetEndsTheLock: a password set through ForgotPassword and
// ConfirmForgotPassword ends a lockout at once (as AdminSetUserPassword
// does, see integration.TestLockoutSharedByEveryPath).
func TestPasswordResetEndsTheLock(t *testing.T) {
	e := newEnv(t, nil)
	const email = "reset-lock@example.com"
	e.confirmedUser(email, claimsPassword)
	for range 5 {
		_, err := e.passwordSignIn(email, claimsWrong)
		wantErr(t, err, userpool.ErrNotAuthorized, "Incorrect")
	}
	_, err := e.passwordSignIn(email, claimsPassword)
	wantErr(t, err, userpool.ErrNotAuthorized, "Password attempts exceeded")
	if _, err := e.svc.ForgotPassword(e.ctx, userpool.ForgotPasswordInput{ClientId: e.client, Username: email}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmForgotPassword(e.ctx, userpool.ConfirmForgotPasswordInput{
		ClientId: e.client, Username: email, ConfirmationCode: e.lastCode(email), Password: claimsPassword2,
	}); err != nil {
		t.Fatal(err)
	}
	// No time has passed: only the reset can have ended the lock.
	if _, err := e.passwordSignIn(email, claimsPassword2); err != nil {
		t.Fatalf("sign-in with the reset password while the lock would still run: %v", err)
	}
}

// TestCodeSendsLimitedPerHour: ResendConfirmationCode and ForgotPassword
// send at most ten codes per hour per name and purpose, and a name with no
// user is counted and refused exactly like a real one.
func TestCodeSendsLimitedPerHour(t *testing.T) {
	e := newEnv(t, nil)
	const real, ghost = "sends@example.com", "sends-nobody@example.com"
	if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: e.client, Username: real, Password: claimsPassword}); err != nil {
		t.Fatal(err)
	}
	resend := func(name string) error {
		_, err := e.svc.ResendConfirmationCode(e.ctx, userpool.ResendConfirmationCodeInput{ClientId: e.client, Username: name})
		return err
	}
	forgot := func(name string) error {
		_, err := e.svc.ForgotPassword(e.ctx, userpool.ForgotPasswordInput{ClientId: e.client, Username: name})
		return err
	}
	for i := range 10 {
		for _, name := range []string{real, ghost} {
			if err := resend(name); err != nil {
				t.Fatalf("resend %d to %s: %v", i+1, name, err)
			}
		}
	}
	for _, name := range []string{real, ghost} {
		wantErr(t, resend(name), userpool.ErrLimitExceeded, "")
	}
	// Per purpose: a reset code may still be asked for.
	for _, name := range []string{real, ghost} {
		if err := forgot(name); err != nil {
			t.Fatalf("ForgotPassword for %s after ten resends: %v", name, err)
		}
	}
	// What went out: the sign-up code, ten resends and one reset code, to
	// the real user only; the refused requests sent nothing.
	sent := func() (n int) {
		msgs, err := e.store.ListMessages(e.ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			switch m.Destination {
			case real:
				n++
			case ghost:
				t.Fatalf("a message went to the unknown name %s", ghost)
			}
		}
		return n
	}
	if n := sent(); n != 12 {
		t.Fatalf("%d messages to %s, want 12", n, real)
	}
	// An hour later the window has passed.
	e.clock.Advance(time.Hour + time.Second)
	for _, name := range []string{real, ghost} {
		if err := resend(name); err != nil {
			t.Fatalf("resend to %s an hour later: %v", name, err)
		}
	}
}

// TestExpiredCodeRevealedOnlyToItsHolder: a used code is kept, marked,
// until it expires, so submitting it again is ExpiredCodeException (and
// counts as no guess) while a wrong code is CodeMismatchException; an
// expired code is revealed as expired only to a caller who submits it.
func TestExpiredCodeRevealedOnlyToItsHolder(t *testing.T) {
	e := newEnv(t, nil)
	confirm := func(name, code string) error {
		_, err := e.svc.ConfirmSignUp(e.ctx, userpool.ConfirmSignUpInput{ClientId: e.client, Username: name, ConfirmationCode: code})
		return err
	}
	signUp := func(name string) string {
		if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: e.client, Username: name, Password: claimsPassword}); err != nil {
			t.Fatal(err)
		}
		return e.lastCode(name)
	}

	used := signUp("used-code@example.com")
	if err := confirm("used-code@example.com", used); err != nil {
		t.Fatal(err)
	}
	// More times than the lock allows guesses: none of them is counted.
	for range 6 {
		wantErr(t, confirm("used-code@example.com", used), userpool.ErrExpiredCode, "")
	}
	wantErr(t, confirm("used-code@example.com", wrongCodeFor(used)), userpool.ErrCodeMismatch, "")

	late := signUp("late-code@example.com")
	e.clock.Advance(24*time.Hour + time.Minute)
	// A caller without the code learns nothing of its expiry.
	wantErr(t, confirm("late-code@example.com", wrongCodeFor(late)), userpool.ErrCodeMismatch, "")
	wantErr(t, confirm("late-code@example.com", late), userpool.ErrExpiredCode, "")
}

// TestResetCodeLivesAnHour: a password-reset code expires an hour after it
// was sent (sign-up codes live a day: TestCodesExpire).
func TestResetCodeLivesAnHour(t *testing.T) {
	e := newEnv(t, nil)
	const email = "hour@example.com"
	e.confirmedUser(email, claimsPassword)
	reset := func(code string) error {
		_, err := e.svc.ConfirmForgotPassword(e.ctx, userpool.ConfirmForgotPasswordInput{
			ClientId: e.client, Username: email, ConfirmationCode: code, Password: claimsPassword2,
		})
		return err
	}
	forgot := func() string {
		if _, err := e.svc.ForgotPassword(e.ctx, userpool.ForgotPasswordInput{ClientId: e.client, Username: email}); err != nil {
			t.Fatal(err)
		}
		return e.lastCode(email)
	}
	stale := forgot()
	e.clock.Advance(time.Hour + time.Second)
	wantErr(t, reset(stale), userpool.ErrExpiredCode, "")
	fresh := forgot()
	e.clock.Advance(59 * time.Minute)
	if err := reset(fresh); err != nil {
		t.Fatalf("a reset code 59 minutes old: %v", err)
	}
}

// TestCodeBoundToItsAddress: a code's hash covers the value it was sent to
// verify, so a code row edited to name another address (or a code sent to
// one address presented for another) does not match, and confirms
// nothing.
func TestCodeBoundToItsAddress(t *testing.T) {
	e := newEnv(t, nil)
	const email = "bound@example.com"
	if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: e.client, Username: email, Password: claimsPassword}); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(email)
	u, err := e.store.GetUserByEmail(e.ctx, e.poolID, email)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.UpdateCode(e.ctx, e.poolID, u.Username, "signup", func(c storage.Code) (storage.Code, error) {
		c.Value = "attacker@example.com"
		return c, nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ConfirmSignUp(e.ctx, userpool.ConfirmSignUpInput{ClientId: e.client, Username: email, ConfirmationCode: code})
	wantErr(t, err, userpool.ErrCodeMismatch, "")
	if u, _ := e.store.GetUser(e.ctx, e.poolID, u.Username); u.Status != storage.StatusUnconfirmed {
		t.Fatalf("status %s: a code bound to another address confirmed the user", u.Status)
	}
}

// TestHostedSessionEndsWithItsUser: a hosted-UI session is honoured only
// while its user is the same, enabled, confirmed user: not while the user
// must change a temporary password, not once the user is deleted, and not
// for a newer user who took the same name (disabled users:
// integration.TestOAuthSessionSecurity).
func TestHostedSessionEndsWithItsUser(t *testing.T) {
	e := newEnv(t, nil)
	p, err := e.svc.CreateUserPool(e.ctx, userpool.CreateUserPoolInput{PoolName: "names"})
	if err != nil {
		t.Fatal(err)
	}
	pool := p.UserPool.Id
	create := func() {
		t.Helper()
		if _, err := e.svc.AdminCreateUser(e.ctx, userpool.AdminCreateUserInput{
			UserPoolId: pool, Username: "bob", TemporaryPassword: claimsPassword, MessageAction: "SUPPRESS",
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AdminSetUserPassword(e.ctx, userpool.AdminSetUserPasswordInput{
			UserPoolId: pool, Username: "bob", Password: claimsPassword, Permanent: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	create()
	value, _, err := e.svc.StartLoginSession(e.ctx, pool, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.LoginSession(e.ctx, pool, value); err != nil {
		t.Fatalf("a fresh session: %v", err)
	}
	// A temporary password makes the user no longer confirmed.
	if _, err := e.svc.AdminSetUserPassword(e.ctx, userpool.AdminSetUserPasswordInput{
		UserPoolId: pool, Username: "bob", Password: claimsPassword2,
	}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.LoginSession(e.ctx, pool, value)
	wantErr(t, err, userpool.ErrNotAuthorized, "")
	if _, err := e.svc.AdminDeleteUser(e.ctx, userpool.AdminUserInput{UserPoolId: pool, Username: "bob"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.LoginSession(e.ctx, pool, value)
	wantErr(t, err, userpool.ErrNotAuthorized, "")
	e.clock.Advance(time.Second)
	create() // another person, same name
	_, err = e.svc.LoginSession(e.ctx, pool, value)
	wantErr(t, err, userpool.ErrNotAuthorized, "")
}

// failingQueue is a store whose message queue refuses every message, in
// and out of transactions.
type failingQueue struct{ storage.Storage }

var errQueueDown = errors.New("queue down")

func (f failingQueue) AddMessage(context.Context, storage.Message) error { return errQueueDown }

func (f failingQueue) Atomic(ctx context.Context, fn func(ctx context.Context, tx storage.Storage) error) error {
	return f.Storage.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		return fn(ctx, failingQueue{tx})
	})
}

// TestCodeQueuedInItsTransaction: a code and the message that carries it
// are written in one transaction: when the message cannot be queued,
// neither the user nor the code is stored, so no caller is told of a code
// that will never be sent.
func TestCodeQueuedInItsTransaction(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := userpool.New(ctx, userpool.Options{
		Storage: failingQueue{store}, Keys: keys.NewManager(store, keys.Options{}), IssuerBase: "http://cognate.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{PoolName: "p", UsernameAttributes: []string{"email"}, AutoVerifiedAttributes: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "c",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignUp(ctx, userpool.SignUpInput{ClientId: c.UserPoolClient.ClientId, Username: "queued@example.com", Password: claimsPassword}); err == nil {
		t.Fatal("SignUp succeeded with no way to send its code")
	}
	if _, err := store.GetUserByEmail(ctx, p.UserPool.Id, "queued@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the user was stored without its message: %v", err)
	}
	// A confirmed user with a verified address: a reset code that cannot be
	// queued is not stored either.
	if _, err := svc.AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: p.UserPool.Id, Username: "quiet@example.com", TemporaryPassword: claimsPassword, MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email", Value: "quiet@example.com"}, {Name: "email_verified", Value: "true"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{
		UserPoolId: p.UserPool.Id, Username: "quiet@example.com", Password: claimsPassword, Permanent: true,
	}); err != nil {
		t.Fatal(err)
	}
	u, err := store.GetUserByEmail(ctx, p.UserPool.Id, "quiet@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ForgotPassword(ctx, userpool.ForgotPasswordInput{ClientId: c.UserPoolClient.ClientId, Username: "quiet@example.com"}); err == nil {
		t.Fatal("ForgotPassword succeeded with no way to send its code")
	}
	if _, err := store.GetCode(ctx, p.UserPool.Id, u.Username, "forgot_password"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a reset code was stored without its message: %v", err)
	}
}

// TestOAuthArtefactsExpire: an authorization code is redeemable for five
// minutes, and a hosted-UI session lasts an hour.
func TestOAuthArtefactsExpire(t *testing.T) {
	e := newEnv(t, nil)
	const cb = "http://localhost:8080/cb"
	c, err := e.svc.CreateUserPoolClient(e.ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: e.poolID, ClientName: "web", AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes: []string{"openid"}, CallbackURLs: []string{cb}, SupportedIdentityProviders: []string{"COGNITO"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	client := c.UserPoolClient.ClientId
	e.confirmedUser("oauth-ttl@example.com", claimsPassword)
	u, err := e.store.GetUserByEmail(e.ctx, e.poolID, "oauth-ttl@example.com")
	if err != nil {
		t.Fatal(err)
	}
	const verifier = "claims-verifier-claims-verifier-claims-verifier-0123"
	sum := sha256.Sum256([]byte(verifier))
	issue := func() string {
		code, err := e.svc.IssueAuthCode(e.ctx, userpool.Authorization{
			ClientID: client, Username: u.Username, RedirectURI: cb, Scope: "openid",
			CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), AuthTime: e.clock.Now(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	stale := issue()
	e.clock.Advance(5*time.Minute + time.Second)
	if _, err := e.svc.ExchangeCode(e.ctx, client, "", stale, cb, verifier); !errors.Is(err, userpool.ErrInvalidGrant) {
		t.Fatalf("a code older than five minutes: %v", err)
	}
	fresh := issue()
	e.clock.Advance(4*time.Minute + 50*time.Second)
	if _, err := e.svc.ExchangeCode(e.ctx, client, "", fresh, cb, verifier); err != nil {
		t.Fatalf("a code 4m50s old: %v", err)
	}

	value, _, err := e.svc.StartLoginSession(e.ctx, e.poolID, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(59 * time.Minute)
	if _, err := e.svc.LoginSession(e.ctx, e.poolID, value); err != nil {
		t.Fatalf("a 59-minute-old session: %v", err)
	}
	e.clock.Advance(time.Minute + time.Second)
	_, err = e.svc.LoginSession(e.ctx, e.poolID, value)
	wantErr(t, err, userpool.ErrNotAuthorized, "")
}

// TestLockoutCapsAtFifteenMinutes: the doubling lock stops at 15 minutes
// however many failures came before.
func TestLockoutCapsAtFifteenMinutes(t *testing.T) {
	e := newEnv(t, nil)
	const email = "cap@example.com"
	e.confirmedUser(email, claimsPassword)
	// Twenty failures, each after the lock before it ran out: uncapped,
	// the last would lock for 2^15 s, some nine hours.
	for i := range 20 {
		_, err := e.passwordSignIn(email, claimsWrong)
		wantErr(t, err, userpool.ErrNotAuthorized, "Incorrect")
		if i < 19 {
			e.clock.Advance(15*time.Minute + time.Second)
		}
	}
	e.clock.Advance(15*time.Minute - time.Second)
	_, err := e.passwordSignIn(email, claimsPassword)
	wantErr(t, err, userpool.ErrNotAuthorized, "Password attempts exceeded")
	e.clock.Advance(2 * time.Second)
	if _, err := e.passwordSignIn(email, claimsPassword); err != nil {
		t.Fatalf("still locked 15 minutes after the last failure: %v", err)
	}
}

// TestGlobalSignOutKeepsHostedSession pins a known limit (as in Cognito):
// GlobalSignOut revokes tokens but not the pool's hosted-UI session.
func TestGlobalSignOutKeepsHostedSession(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("everywhere@example.com", claimsPassword)
	out, err := e.passwordSignIn("everywhere@example.com", claimsPassword)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.store.GetUserByEmail(e.ctx, e.poolID, "everywhere@example.com")
	if err != nil {
		t.Fatal(err)
	}
	value, _, err := e.svc.StartLoginSession(e.ctx, e.poolID, u.Username)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GlobalSignOut(e.ctx, userpool.AccessTokenInput{AccessToken: out.AuthenticationResult.AccessToken}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetUser(e.ctx, userpool.AccessTokenInput{AccessToken: out.AuthenticationResult.AccessToken}); err == nil {
		t.Fatal("the access token outlived GlobalSignOut")
	}
	if _, err := e.svc.LoginSession(e.ctx, e.poolID, value); err != nil {
		t.Fatalf("the hosted session ended with GlobalSignOut (%v): update docs/SECURITY.md's known limits", err)
	}
}

// TestCodeHashIsKeyed: a stored code is HMAC-SHA256 under the server's
// code key over pool, user, purpose, the value it verifies and the code;
// without that key (which lives in the database's secrets, not in the
// codes table) the six digits cannot be tried against it.
func TestCodeHashIsKeyed(t *testing.T) {
	e := newEnv(t, nil)
	const email = "keyed@example.com"
	if _, err := e.svc.SignUp(e.ctx, userpool.SignUpInput{ClientId: e.client, Username: email, Password: claimsPassword}); err != nil {
		t.Fatal(err)
	}
	code := e.lastCode(email)
	u, err := e.store.GetUserByEmail(e.ctx, e.poolID, email)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.store.GetCode(e.ctx, e.poolID, u.Username, "signup")
	if err != nil {
		t.Fatal(err)
	}
	key, err := e.store.GetOrCreateSecret(e.ctx, "userpool/code-hash", func() ([]byte, error) {
		return nil, errors.New("the code key does not exist")
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(c.PoolID + "\x00" + c.Username + "\x00" + c.Purpose + "\x00" + c.Value + "\x00" + code)
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	if !hmac.Equal(c.Hash, m.Sum(nil)) {
		t.Fatal("the stored code is not HMAC-SHA256 under the code key over pool, user, purpose, value and code")
	}
	for _, unkeyed := range [][]byte{msg, []byte(code)} {
		if sum := sha256.Sum256(unkeyed); hmac.Equal(c.Hash, sum[:]) {
			t.Fatal("the stored code is an unkeyed hash")
		}
	}
	if c.Value != email {
		t.Fatalf("the code binds %q, want the address it was sent to", c.Value)
	}
}
