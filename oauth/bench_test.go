package oauth_test

// Benchmarks of the token endpoint, driven through the real handler as a
// relying party drives it. cpu-ns/op is the CPU the whole process spent
// per operation (handler, SQLite, GC), steadier than wall time on a
// shared machine. BenchmarkRawRSASign2x, in the same run, is the floor:
// an exchange signs two tokens (access, id), so it cannot cost less.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

type benchEnv struct {
	h        http.Handler
	clientID string
	session  *http.Cookie
}

func newBenchEnv(b *testing.B, rotation bool) *benchEnv {
	b.Helper()
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DataDir: b.TempDir(), PublicURL: "http://localhost:9229", Out: io.Discard, GuessRate: -1, TLSAddr: server.TLSOff})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	svc := srv.Service()
	in := userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: srv.Pool.ID, ClientName: "bench",
		AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: []string{"code"},
		AllowedOAuthScopes: []string{"openid", "email", "profile"}, CallbackURLs: []string{callback},
	}}
	if rotation {
		in.RefreshTokenRotation = &userpool.RefreshTokenRotationType{Feature: "ENABLED"}
	}
	c, err := svc.CreateUserPoolClient(ctx, in)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.AdminCreateUser(ctx, userpool.AdminCreateUserInput{UserPoolId: srv.Pool.ID, Username: "bench@example.com", TemporaryPassword: "Bench-passw0rd!", MessageAction: "SUPPRESS"}); err != nil {
		b.Fatal(err)
	}
	if _, err := svc.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{UserPoolId: srv.Pool.ID, Username: "bench@example.com", Password: "Bench-passw0rd!", Permanent: true}); err != nil {
		b.Fatal(err)
	}
	login, err := svc.PasswordLogin(ctx, c.UserPoolClient.ClientId, "bench@example.com", "Bench-passw0rd!")
	if err != nil {
		b.Fatal(err)
	}
	value, _, err := svc.StartLoginSession(ctx, srv.Pool.ID, login.Username)
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{h: srv.Handler(), clientID: c.UserPoolClient.ClientId, session: &http.Cookie{Name: "cognate_session_" + srv.Pool.ID, Value: value}}
}

// code authorizes with the pool session (no password) and returns a
// code and its PKCE verifier.
func (e *benchEnv) code(b *testing.B) (string, string) {
	verifier := base64.RawURLEncoding.EncodeToString(randomBytes(48))
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{
		"response_type": {"code"}, "client_id": {e.clientID}, "redirect_uri": {callback}, "scope": {"openid email"},
		"state": {"s"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}
	r := httptest.NewRequest("GET", "/oauth2/authorize?"+q.Encode(), nil)
	r.AddCookie(e.session)
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	loc, err := url.Parse(w.Header().Get("Location"))
	if w.Code != http.StatusFound || err != nil || loc.Query().Get("code") == "" {
		b.Fatalf("authorize: %d %s", w.Code, w.Header().Get("Location"))
	}
	return loc.Query().Get("code"), verifier
}

func (e *benchEnv) token(b *testing.B, form url.Values) map[string]any {
	form.Set("client_id", e.clientID)
	r := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	var out map[string]any
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &out) != nil {
		b.Fatalf("token: %d %s", w.Code, w.Body.String())
	}
	return out
}

func randomBytes(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkCodeExchange is one authorization-code exchange with PKCE
// (grant_type=authorization_code): look up and redeem the code, start a
// sign-in, sign an access and an id token. The authorize step that makes
// the code is outside the timer.
func BenchmarkCodeExchange(b *testing.B) {
	e := newBenchEnv(b, false)
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		code, verifier := e.code(b)
		start := cpuTime()
		b.StartTimer()
		e.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}})
		cpu += cpuTime() - start
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkRefreshGrant is grant_type=refresh_token, with rotation off
// and on (on: each iteration redeems the token the previous one got).
func BenchmarkRefreshGrant(b *testing.B) {
	for _, rotation := range []bool{false, true} {
		name := "rotation=off"
		if rotation {
			name = "rotation=on"
		}
		b.Run(name, func(b *testing.B) {
			e := newBenchEnv(b, rotation)
			code, verifier := e.code(b)
			out := e.token(b, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}})
			refresh := out["refresh_token"].(string)
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				out := e.token(b, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
				if next, ok := out["refresh_token"].(string); ok && next != "" {
					refresh = next
				}
			}
			reportCPU(b, start)
		})
	}
}

// BenchmarkRawRSASign2x is the floor: two RS256 signatures with a
// 2048-bit key, as every exchange and refresh makes.
func BenchmarkRawRSASign2x(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	digest := sha256.Sum256([]byte("payload"))
	start := cpuTime()
	for b.Loop() {
		for range 2 {
			if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportCPU(b, start)
}
