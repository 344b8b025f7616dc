package cognitoapi_test

// Server-side cost of the operations a signed-in Amplify app spends its
// life in, measured through the whole HTTP handler that `cognate serve`
// runs (request-id middleware, routing, JSON 1.1 decode, the user-pool
// domain, SQLite, signing, JSON encode) with httptest.NewRecorder, so no
// socket and no client library is timed.
//
//	go test ./cognitoapi -run '^$' -bench . -benchtime 2s -count 3
//
// Every benchmark reports, besides ns/op (wall time of the timed part,
// one request at a time), cpu-ns/op: the CPU time the whole process spent
// in the timed part (all threads: the handler, SQLite, GC), which the
// noise of a shared machine disturbs less than wall time. Client-side work
// that is not the server's (SRP math, building requests) is kept out of
// both.
//
// BenchmarkRawRSASign2x is the floor a refresh cannot go below: two
// RS256 signatures (access and id token) with the pool's own key. The
// refresh benchmarks also sample that floor themselves (CPU time, every
// 8th iteration, timer stopped) and report floor-cpu-ns, x-2rsa (refresh
// cpu-ns/op over the floor) and pct-of-floor (refresh throughput as a
// percentage of the floor's; the target is 80).

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/srp"
	"github.com/cognate-auth/cognate/storage/backends"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	benchPassword = "Bench-Passw0rd!"
	benchUsers    = 16
	targetPrefix  = "AWSCognitoIdentityProviderService."
)

// benchUser is a confirmed user of the benchmark pool.
type benchUser struct {
	email string // what the user types (the pool signs in by email)
	id    string // USER_ID_FOR_SRP: the internal username (the sub)
}

// fixture is a running Cognate (its real handler) with a pool, two app
// clients and confirmed users.
type fixture struct {
	h       http.Handler
	svc     *userpool.Service
	dataDir string
	poolID  string
	// rotating is the default client: refresh-token rotation on.
	rotating string
	// plain has rotation off.
	plain string
	users []benchUser
}

func newFixture(b *testing.B) *fixture {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	srv, err := server.New(ctx, server.Config{DataDir: dir, PublicURL: "http://127.0.0.1:9229", Out: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	svc := srv.Service()
	f := &fixture{h: srv.Handler(), svc: svc, dataDir: dir, poolID: srv.Pool.ID, rotating: srv.Client.ClientID}

	out, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId:           f.poolID,
		ClientName:           "bench-plain",
		ExplicitAuthFlows:    []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		RefreshTokenRotation: &userpool.RefreshTokenRotationType{Feature: "DISABLED"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	f.plain = out.UserPoolClient.ClientId

	for i := range benchUsers {
		email := fmt.Sprintf("bench%03d@example.com", i)
		su, err := svc.SignUp(ctx, userpool.SignUpInput{
			ClientId: f.plain, Username: email, Password: benchPassword,
			UserAttributes: []userpool.AttributeType{{Name: "email", Value: email}},
		})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.AdminConfirmSignUp(ctx, userpool.AdminUserInput{UserPoolId: f.poolID, Username: email}); err != nil {
			b.Fatal(err)
		}
		f.users = append(f.users, benchUser{email: email, id: su.UserSub})
	}
	return f
}

// request builds one protocol request: cheap, and the same for every
// benchmark, so it stays inside the timed part.
func request(op string, body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	// A loopback peer, as in every local benchmark: a development server
	// exempts loopback from its per-address guess limit.
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r.Header.Set("X-Amz-Target", targetPrefix+op)
	return r
}

// call runs one request through the handler and fails the benchmark on
// anything but 200.
func (f *fixture) call(b *testing.B, op string, body []byte) []byte {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, request(op, body))
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", op, rec.Code, rec.Body.Bytes())
	}
	return rec.Body.Bytes()
}

func mustJSON(b *testing.B, v any) []byte {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// passwordSignIn signs a user in with USER_PASSWORD_AUTH (setup only).
func (f *fixture) passwordSignIn(b *testing.B, client string, u benchUser) userpool.AuthenticationResult {
	body := f.call(b, "InitiateAuth", passwordBody(b, client, u))
	var out userpool.AuthOutput
	if err := json.Unmarshal(body, &out); err != nil || out.AuthenticationResult == nil {
		b.Fatalf("sign-in: %v %s", err, body)
	}
	return *out.AuthenticationResult
}

func passwordBody(b *testing.B, client string, u benchUser) []byte {
	return mustJSON(b, userpool.InitiateAuthInput{
		AuthFlow: "USER_PASSWORD_AUTH", ClientId: client,
		AuthParameters: map[string]string{"USERNAME": u.email, "PASSWORD": benchPassword},
	})
}

// cpuTime is the CPU time (user + system) the process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports cpu-ns/op for CPU time spent over b.N operations.
func reportCPU(b *testing.B, cpu time.Duration) {
	if b.N > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

// BenchmarkSRPSignIn is one USER_SRP_AUTH sign-in as Amplify does it:
// InitiateAuth (the server draws b, computes B and the session key) then
// RespondToAuthChallenge PASSWORD_VERIFIER (the server checks the claim
// and issues tokens). The client's SRP math runs with the timer stopped.
// Target: under 5 ms of server CPU.
func BenchmarkSRPSignIn(b *testing.B) {
	f := newFixture(b)
	// One SRP client (one secret a) per user, reused: the server draws a
	// fresh b every time, so its work is the same as with a fresh a, and
	// the untimed part of the loop stays short.
	clients := make([]*srp.Client, len(f.users))
	for i := range clients {
		c, err := srp.NewClient(f.poolID)
		if err != nil {
			b.Fatal(err)
		}
		clients[i] = c
	}
	var cpu time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		u, c := f.users[i%len(f.users)], clients[i%len(f.users)]
		i++
		start := mustJSON(b, userpool.InitiateAuthInput{
			AuthFlow: "USER_SRP_AUTH", ClientId: f.plain,
			AuthParameters: map[string]string{"USERNAME": u.email, "SRP_A": c.AHex()},
		})
		b.StartTimer()

		c0 := cpuTime()
		body := f.call(b, "InitiateAuth", start)
		cpu += cpuTime() - c0

		b.StopTimer()
		var ch userpool.AuthOutput
		if err := json.Unmarshal(body, &ch); err != nil || ch.ChallengeName != "PASSWORD_VERIFIER" {
			b.Fatalf("challenge: %v %s", err, body)
		}
		p := ch.ChallengeParameters
		sig, ts, err := c.Respond(p["USER_ID_FOR_SRP"], benchPassword, p["SALT"], p["SRP_B"], p["SECRET_BLOCK"], time.Now())
		if err != nil {
			b.Fatal(err)
		}
		answer := mustJSON(b, userpool.RespondToAuthChallengeInput{
			ClientId: f.plain, ChallengeName: "PASSWORD_VERIFIER",
			ChallengeResponses: map[string]string{
				"USERNAME": p["USER_ID_FOR_SRP"], "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
				"TIMESTAMP": ts, "PASSWORD_CLAIM_SIGNATURE": sig,
			},
		})
		b.StartTimer()

		c0 = cpuTime()
		body = f.call(b, "RespondToAuthChallenge", answer)
		cpu += cpuTime() - c0

		if !bytes.Contains(body, []byte(`"AccessToken"`)) {
			b.Fatalf("no tokens: %s", body)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkPasswordSignIn is one USER_PASSWORD_AUTH sign-in: the password
// is checked against the SRP verifier (one exponentiation), a refresh
// family is written, two tokens are signed.
func BenchmarkPasswordSignIn(b *testing.B) {
	f := newFixture(b)
	bodies := make([][]byte, len(f.users))
	for i, u := range f.users {
		bodies[i] = passwordBody(b, f.plain, u)
	}
	i := 0
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		body := f.call(b, "InitiateAuth", bodies[i%len(bodies)])
		i++
		if !bytes.Contains(body, []byte(`"RefreshToken"`)) {
			b.Fatalf("no tokens: %s", body)
		}
	}
	reportCPU(b, cpuTime()-c0)
}

// BenchmarkRefresh is GetTokensFromRefreshToken, Amplify's refresh since
// 6.15.4. With rotation off a refresh only reads (token, family, user,
// groups) and signs two tokens; with rotation on it also retires the
// token and stores its successor in one write transaction, and every
// iteration redeems the token the previous one returned.
func BenchmarkRefresh(b *testing.B) {
	f := newFixture(b)
	key := poolKey(b, f)
	for _, rotation := range []bool{false, true} {
		b.Run(fmt.Sprintf("rotation=%v", map[bool]string{false: "off", true: "on"}[rotation]), func(b *testing.B) {
			client := f.plain
			if rotation {
				client = f.rotating
			}
			tok := f.passwordSignIn(b, client, f.users[0]).RefreshToken
			digest := sha256.Sum256([]byte("cognate"))
			var cpu, floor time.Duration
			floorN, i := 0, 0
			b.ReportAllocs()
			for b.Loop() {
				// Every 8th iteration, two raw signatures with the timer
				// stopped: the floor, sampled throughout the same period
				// as the refreshes, so that the machine's drifting load
				// weighs on both alike.
				if i%8 == 0 {
					b.StopTimer()
					c0 := cpuTime()
					for range 2 {
						if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
							b.Fatal(err)
						}
					}
					floor += cpuTime() - c0
					floorN++
					b.StartTimer()
				}
				c0 := cpuTime()
				body := f.call(b, "GetTokensFromRefreshToken", mustJSON(b, userpool.GetTokensFromRefreshTokenInput{ClientId: client, RefreshToken: tok}))
				next, ok := refreshTokenOf(body)
				cpu += cpuTime() - c0
				switch {
				case rotation && !ok:
					b.Fatalf("rotation on, no new refresh token: %s", body)
				case !rotation && ok:
					b.Fatalf("rotation off, got a new refresh token: %s", body)
				case !bytes.Contains(body, []byte(`"IdToken"`)):
					b.Fatalf("no tokens: %s", body)
				}
				if rotation {
					tok = next
				}
				i++
			}
			reportCPU(b, cpu)
			per := float64(cpu.Nanoseconds()) / float64(b.N)
			floorPer := float64(floor.Nanoseconds()) / float64(floorN)
			b.ReportMetric(per/floorPer, "x-2rsa")
			b.ReportMetric(100*floorPer/per, "pct-of-floor")
			b.ReportMetric(floorPer, "floor-cpu-ns")
		})
	}
}

// refreshTokenOf finds "RefreshToken":"…" in a response without a full
// JSON decode (the value is base64url, so it holds no escapes).
func refreshTokenOf(body []byte) (string, bool) {
	const key = `"RefreshToken":"`
	i := bytes.Index(body, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := body[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// BenchmarkGetUser is GetUser with a live access token: the signature
// check (cached after a token's first use, as it is for an app that calls
// with the same token for an hour), a family and a user read, encode.
func BenchmarkGetUser(b *testing.B) {
	f := newFixture(b)
	bodies := make([][]byte, len(f.users))
	for i, u := range f.users {
		res := f.passwordSignIn(b, f.plain, u)
		bodies[i] = mustJSON(b, userpool.AccessTokenInput{AccessToken: res.AccessToken})
	}
	i := 0
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		body := f.call(b, "GetUser", bodies[i%len(bodies)])
		i++
		if !bytes.Contains(body, []byte(`"UserAttributes"`)) {
			b.Fatalf("GetUser: %s", body)
		}
	}
	reportCPU(b, cpuTime()-c0)
}

// BenchmarkRawRSASign2x is the refresh floor: two rsa.SignPKCS1v15 calls
// with the pool's own access-token key (2048-bit), nothing else.
func BenchmarkRawRSASign2x(b *testing.B) {
	f := newFixture(b)
	key := poolKey(b, f)
	digest := sha256.Sum256([]byte("cognate"))
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		for range 2 {
			if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, cpuTime()-c0)
}

// poolKey reads the pool's current access-token signing key from the
// server's database, through the storage package.
func poolKey(b *testing.B, f *fixture) *rsa.PrivateKey {
	b.Helper()
	ctx := context.Background()
	st, err := backends.Open(ctx, backends.Options{DataDir: f.dataDir, MustExist: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ks, err := st.ListSigningKeys(ctx, f.poolID)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range ks { // newest first
		if k.Use != "access" {
			continue
		}
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKeyDER)
		if err != nil {
			b.Fatal(err)
		}
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok || rk.N.BitLen() != 2048 {
			b.Fatalf("pool key is a %T; want a 2048-bit RSA key", priv)
		}
		return rk
	}
	b.Fatal("pool has no access-token key")
	return nil
}
