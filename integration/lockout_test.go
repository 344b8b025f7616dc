package integration_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// The lockout tests release a burst of guesses at once and count how
// many were evaluated (answered "Incorrect username or password." or
// with tokens) rather than refused unseen ("Password attempts exceeded").
// The lock lasts a minute, so that it cannot run out mid-burst however
// slow the machine, and per-address limits are off: the bound under test
// is the per-user one alone.

const (
	burst     = 50
	free      = 5 // Cognito's free attempts
	incorrect = "Incorrect username or password."
	exceeded  = "Password attempts exceeded"
)

// burster sends requests over burst pre-warmed keep-alive connections,
// each its own, released together.
type burster struct {
	e       *env
	clients []*http.Client
}

func newBurster(e *env) *burster {
	b := &burster{e: e}
	for range burst {
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: time.Minute}
		// Warm the connection, so the burst races on the server, not on
		// TCP handshakes.
		resp, err := c.Get(e.url + "/healthz")
		if err != nil {
			e.t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.clients = append(b.clients, c)
	}
	e.t.Cleanup(func() {
		for _, c := range b.clients {
			c.CloseIdleConnections()
		}
	})
	return b
}

// outcome is one answer of a burst: the error type and message, or
// "tokens".
type outcome struct{ typ, msg string }

// fire posts bodies[i] as op over connection i, all released at once.
func (b *burster) fire(op string, bodies [][]byte) []outcome {
	b.e.t.Helper()
	out := make([]outcome, len(bodies))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, body := range bodies {
		req, err := http.NewRequestWithContext(b.e.ctx, http.MethodPost, b.e.url+"/", bytes.NewReader(body))
		if err != nil {
			b.e.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		wg.Go(func() {
			<-start
			resp, err := b.clients[i].Do(req)
			if err != nil {
				out[i] = outcome{"transport", err.Error()}
				return
			}
			defer resp.Body.Close()
			var r struct {
				Type                 string `json:"__type"`
				Message              string `json:"message"`
				AuthenticationResult *struct{ AccessToken string }
			}
			raw, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(raw, &r); err != nil {
				out[i] = outcome{"garbage", string(raw)}
				return
			}
			if resp.StatusCode == 200 && r.AuthenticationResult != nil && r.AuthenticationResult.AccessToken != "" {
				out[i] = outcome{typ: "tokens"}
				return
			}
			out[i] = outcome{r.Type, r.Message}
		})
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts a burst's answers: wrong passwords evaluated, sign-ins,
// refusals; anything else fails the test.
func tally(t *testing.T, outs []outcome) (wrong, tokens, refused int) {
	t.Helper()
	for _, o := range outs {
		switch {
		case o.typ == "tokens":
			tokens++
		case o.typ == "NotAuthorizedException" && o.msg == incorrect:
			wrong++
		case o.typ == "NotAuthorizedException" && o.msg == exceeded:
			refused++
		default:
			t.Fatalf("unexpected answer %+v", o)
		}
	}
	return wrong, tokens, refused
}

func passwordBody(client, user, pw string) []byte {
	b, _ := json.Marshal(map[string]any{
		"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
		"AuthParameters": map[string]string{"USERNAME": user, "PASSWORD": pw},
	})
	return b
}

// srpBodies starts one SRP sign-in per password (sequentially: starting
// tests nothing) and returns the PASSWORD_VERIFIER answers to release.
func (e *env) srpBodies(user string, pws []string) [][]byte {
	e.t.Helper()
	var out [][]byte
	for _, pw := range pws {
		c, cp := mustSRP(e.t)(e.srpStart(e.pool, e.pub, user, nil))
		b, _ := json.Marshal(map[string]any{
			"ClientId": e.pub, "ChallengeName": "PASSWORD_VERIFIER", "ChallengeResponses": e.srpAnswer(c, cp, pw),
		})
		out = append(out, b)
	}
	return out
}

func lockoutEnv(t *testing.T) *env {
	return newEnvWith(t, server.Config{GuessRate: -1, Lockout: userpool.LockoutPolicy{BaseDelay: time.Minute}})
}

// wrongPasswords returns n distinct wrong passwords.
func wrongPasswords(n int) []string {
	pws := make([]string, n)
	for i := range pws {
		pws[i] = fmt.Sprintf("Wrong-Pass-%d!", i)
	}
	return pws
}

// flows sends a burst of passwords for user by USER_PASSWORD_AUTH or by
// SRP answers.
var flows = map[string]func(e *env, b *burster, user string, pws []string) []outcome{
	"USER_PASSWORD_AUTH": func(e *env, b *burster, user string, pws []string) []outcome {
		var bodies [][]byte
		for _, pw := range pws {
			bodies = append(bodies, passwordBody(e.pub, user, pw))
		}
		return b.fire("InitiateAuth", bodies)
	},
	"USER_SRP_AUTH": func(e *env, b *burster, user string, pws []string) []outcome {
		return b.fire("RespondToAuthChallenge", e.srpBodies(user, pws))
	},
}

// TestParallelGuessesHitTheExactBound releases 50 wrong passwords at once
// against a fresh user, and against a name with no user: exactly five are
// evaluated, every time, in both flows.
func TestParallelGuessesHitTheExactBound(t *testing.T) {
	e := lockoutEnv(t)
	b := newBurster(e)
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	for flow, send := range flows {
		for round := range rounds {
			for _, known := range []bool{true, false} {
				user := fmt.Sprintf("%s-%d-%v@example.com", flow[:8], round, known)
				if known {
					e.signUp(e.pub, user)
				}
				wrong, tokens, refused := tally(t, send(e, b, user, wrongPasswords(burst)))
				if wrong != free || tokens != 0 || refused != burst-free {
					t.Errorf("%s round %d, real user %v: %d evaluated, %d refused, %d signed in; want exactly %d evaluated",
						flow, round, known, wrong, refused, tokens, free)
				}
			}
		}
	}
}

// TestParallelCodeGuessesHitTheExactBound releases 50 wrong codes at once
// for ConfirmSignUp and for ConfirmForgotPassword: codes are counted
// like passwords, so exactly five are compared, and then even the right
// code is refused until the lock ends.
func TestParallelCodeGuessesHitTheExactBound(t *testing.T) {
	e := lockoutEnv(t)
	b := newBurster(e)
	rounds := 3
	if testing.Short() {
		rounds = 1
	}
	type target struct {
		op, kind string
		prepare  func(user string)
		body     func(user, code string) map[string]any
	}
	targets := []target{
		{"ConfirmSignUp", "sign_up", func(user string) {
			must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String(user), Password: aws.String(password)}))(t)
		}, func(user, code string) map[string]any {
			return map[string]any{"ClientId": e.pub, "Username": user, "ConfirmationCode": code}
		}},
		{"ConfirmForgotPassword", "forgot_password", func(user string) {
			e.signUp(e.pub, user)
			must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String(user)}))(t)
		}, func(user, code string) map[string]any {
			return map[string]any{"ClientId": e.pub, "Username": user, "ConfirmationCode": code, "Password": "New-Passw0rd!"}
		}},
	}
	for _, tg := range targets {
		for round := range rounds {
			user := fmt.Sprintf("code-%s-%d@example.com", tg.kind, round)
			tg.prepare(user)
			right := e.code(user, tg.kind)
			var bodies [][]byte
			for i := 0; len(bodies) < burst; i++ {
				if code := fmt.Sprintf("%06d", i); code != right {
					raw, _ := json.Marshal(tg.body(user, code))
					bodies = append(bodies, raw)
				}
			}
			answers := map[string]int{}
			for _, o := range b.fire(tg.op, bodies) {
				answers[o.typ]++
			}
			if answers["CodeMismatchException"] != free || answers["LimitExceededException"] != burst-free || len(answers) != 2 {
				t.Errorf("%s round %d: %v; want exactly %d codes compared and the rest refused", tg.op, round, answers, free)
			}
			raw, _ := json.Marshal(tg.body(user, right))
			if o := b.fire(tg.op, [][]byte{raw})[0]; o.typ != "LimitExceededException" {
				t.Errorf("%s round %d: the right code during the lock: %+v, want LimitExceededException", tg.op, round, o)
			}
		}
	}
}

// TestRightPasswordInABurstAtTheLock puts a user one failure from the
// lock and releases 49 wrong passwords with the right one: exactly one
// guess is evaluated before the lock, so the right password signs in
// only when it is that one (and then the count starts again from zero).
func TestRightPasswordInABurstAtTheLock(t *testing.T) {
	e := lockoutEnv(t)
	b := newBurster(e)
	rounds := 6
	if testing.Short() {
		rounds = 2
	}
	wins := 0
	for flow, send := range flows {
		for round := range rounds {
			user := fmt.Sprintf("edge-%s-%d@example.com", flow[:8], round)
			e.signUp(e.pub, user)
			for range free - 1 {
				_, err := e.passwordAuth(e.pub, user, "Wrong-Pass-0")
				wantMessage(t, err, "NotAuthorizedException", incorrect)
			}
			pws := wrongPasswords(burst - 1)
			pws = append(pws[:round%burst], append([]string{password}, pws[round%burst:]...)...)
			wrong, tokens, _ := tally(t, send(e, b, user, pws))
			switch tokens {
			case 0:
				if wrong != 1 {
					t.Errorf("%s round %d: %d wrong passwords evaluated at the lock, want exactly 1", flow, round, wrong)
				}
			case 1:
				wins++
				// Evaluated first; the wrong ones after it count afresh.
				if wrong > free {
					t.Errorf("%s round %d: signed in, then %d wrong passwords evaluated, want at most %d", flow, round, wrong, free)
				}
			default:
				t.Errorf("%s round %d: signed in %d times", flow, round, tokens)
			}
		}
	}
	// 1 in 50 per round: more than a few wins means the bound leaks.
	if wins > 3 {
		t.Errorf("the right password won %d of %d bursts at the lock", wins, 2*rounds)
	}
}

// TestLockoutSharedByEveryPath checks that USER_PASSWORD_AUTH, SRP and
// ChangePassword count against one lock, and that the lock an unknown
// name reaches reads exactly like a real user's.
func TestLockoutSharedByEveryPath(t *testing.T) {
	e := lockoutEnv(t)
	e.signUp(e.pub, "paths@example.com")
	tok := e.signIn(e.pub, "paths@example.com", password)
	for _, user := range []string{"paths@example.com", "nobody-here@example.com"} {
		for i := range free {
			var err error
			switch i % 3 {
			case 0:
				_, err = e.passwordAuth(e.pub, user, "Wrong-Pass-1")
			case 1:
				c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
				_, err = e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, "Wrong-Pass-1"))
			case 2:
				if user == "paths@example.com" {
					_, err = e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
						AccessToken: tok.AccessToken, PreviousPassword: aws.String("Wrong-Pass-1"), ProposedPassword: aws.String(password2),
					})
				} else {
					_, err = e.passwordAuth(e.pub, user, "Wrong-Pass-1")
				}
			}
			wantMessage(t, err, "NotAuthorizedException", incorrect)
		}
		_, err := e.passwordAuth(e.pub, user, password)
		wantMessage(t, err, "NotAuthorizedException", exceeded)
		_, _, err = e.srpStart(e.pool, e.pub, user, nil)
		wantMessage(t, err, "NotAuthorizedException", exceeded)
	}
	_, err := e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
		AccessToken: tok.AccessToken, PreviousPassword: aws.String(password), ProposedPassword: aws.String(password2),
	})
	wantMessage(t, err, "NotAuthorizedException", exceeded)
	// An administrator's new password ends the lock.
	must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(e.pool), Username: aws.String("paths@example.com"), Password: aws.String(password2), Permanent: true,
	}))(t)
	e.signIn(e.pub, "paths@example.com", password2)
}

// TestLockout: five wrong passwords lock the user for a second, doubling
// on each further failure; while locked even the right password is
// refused with "Password attempts exceeded".
func TestLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "lock@example.com")
	wrong := func() error {
		_, err := e.passwordAuth(e.pub, "lock@example.com", "Wrong-Pass-1")
		return err
	}
	right := func() error {
		_, err := e.passwordAuth(e.pub, "lock@example.com", password)
		return err
	}
	const exceeded = "Password attempts exceeded"
	for i := 0; i < 4; i++ {
		wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	}
	// Four failures: no lock yet.
	if err := right(); err != nil {
		t.Fatalf("locked after four failures: %v", err)
	}
	// A success resets the count: five more are needed.
	for i := 0; i < 5; i++ {
		wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	}
	lockedAt := time.Now()
	wantMessage(t, right(), "NotAuthorizedException", exceeded)
	wantMessage(t, wrong(), "NotAuthorizedException", exceeded) // does not extend the lock
	_, _, err := e.srpStart(e.pool, e.pub, "lock@example.com", nil)
	wantMessage(t, err, "NotAuthorizedException", exceeded)
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))

	// The sixth failure locks for two seconds.
	wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	lockedAt = time.Now()
	wantMessage(t, right(), "NotAuthorizedException", exceeded)
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))
	wantMessage(t, right(), "NotAuthorizedException", exceeded)
	time.Sleep(time.Until(lockedAt.Add(2100 * time.Millisecond)))
	if err := right(); err != nil {
		t.Fatalf("still locked after the lock passed: %v", err)
	}
	// And that success reset everything.
	wantMessage(t, wrong(), "NotAuthorizedException", "Incorrect username or password.")
	if err := right(); err != nil {
		t.Fatal(err)
	}
}

// TestGuessRateLimit: behind a trusted proxy, operations that test a
// password or a code are limited per client address; the refusal is a
// TooManyRequestsException (which clients back off on) that runs nothing.
// The proxy connects from 127.0.0.2, so that 127.0.0.1 stays this
// machine (a declared proxy address is never local).
func TestGuessRateLimit(t *testing.T) {
	t.Parallel()
	local := newEnvWith(t, server.Config{GuessRate: 0.5, GuessBurst: 3, TrustedProxies: "127.0.0.2"})
	local.signUp(local.pub, "rl@example.com")
	e := proxiedFrom(local, "127.0.0.2")
	const xff = "X-Forwarded-For"
	auth := []byte(`{"ClientId":"` + e.pub + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"rl@example.com","PASSWORD":"Wrong-Pass-1"}}`)
	for i := 0; i < 3; i++ {
		wantRaw(t, e.raw(targetPrefix+"InitiateAuth", auth, xff, "203.0.113.7"), 400, "NotAuthorizedException")
	}
	r := e.raw(targetPrefix+"InitiateAuth", auth, xff, "203.0.113.7")
	wantRaw(t, r, 400, "TooManyRequestsException")
	if ra := r.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Fatalf("Retry-After %q", ra)
	}
	// Throttled calls of other guessable operations run nothing.
	signUp := []byte(`{"ClientId":"` + e.pub + `","Username":"throttled@example.com","Password":"` + password + `"}`)
	wantRaw(t, e.raw(targetPrefix+"SignUp", signUp, xff, "203.0.113.7"), 400, "TooManyRequestsException")
	if _, err := e.adminGet(e.pool, "throttled@example.com"); err == nil {
		t.Fatal("a throttled SignUp created the user")
	}
	// The address a client prepends is not trusted: the proxy's is used.
	wantRaw(t, e.raw(targetPrefix+"InitiateAuth", auth, xff, "198.51.100.1, 203.0.113.7"), 400, "TooManyRequestsException")
	// Other addresses, loopback itself and operations that test nothing
	// are not affected; nor is the user (the limit is not a lockout).
	wantRaw(t, e.raw(targetPrefix+"InitiateAuth", auth, xff, "203.0.113.8"), 400, "NotAuthorizedException")
	e.signIn(e.pub, "rl@example.com", password)
	wantRaw(t, e.raw(targetPrefix+"GetUser", []byte(`{"AccessToken":"x.y.z"}`), xff, "203.0.113.7"), 400, "NotAuthorizedException")
	// A fresh address gets its own burst.
	ok := []byte(`{"ClientId":"` + e.pub + `","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"rl@example.com","PASSWORD":"` + password + `"}}`)
	if r := e.raw(targetPrefix+"InitiateAuth", ok, xff, "203.0.113.9"); r.status != 200 {
		t.Fatalf("sign-in from a fresh address: %d %s", r.status, r.body)
	}
}
