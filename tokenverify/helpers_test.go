package tokenverify_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/tokenverify"
	"github.com/cognate-auth/cognate/userpool"
)

const password = "Correct-Horse-9"

var b64 = base64.RawURLEncoding

// cognate is a Cognate server in process, reached over HTTP.
type cognate struct {
	srv    *server.Server
	url    string
	pool   string
	client string // the default app client
	issuer string
	jwks   *counter // counts GETs of the JWKS through httpClient
	http   *http.Client
}

// counter counts requests whose path ends in suffix.
type counter struct {
	suffix string
	base   http.RoundTripper
	n      atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, c.suffix) {
		c.n.Add(1)
	}
	return c.base.RoundTrip(r)
}

func newCognate(t testing.TB) *cognate {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), PublicURL: url, Out: io.Discard, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	cnt := &counter{suffix: "/jwks.json", base: ts.Client().Transport}
	return &cognate{
		srv: srv, url: url, pool: srv.Pool.ID, client: srv.Client.ClientID, issuer: url + "/" + srv.Pool.ID,
		jwks: cnt, http: &http.Client{Transport: cnt, Timeout: 10 * time.Second},
	}
}

var seq atomic.Int64

// user creates a confirmed user in group admin and returns its email.
func (c *cognate) user(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	svc := c.srv.Service()
	email := fmt.Sprintf("u%d@example.com", seq.Add(1))
	out, err := svc.AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: c.pool, Username: email, TemporaryPassword: password, MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email_verified", Value: "true"}},
	})
	if err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	name := out.User.Username
	if _, err := svc.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{UserPoolId: c.pool, Username: name, Password: password, Permanent: true}); err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	if _, err := svc.CreateGroup(ctx, userpool.CreateGroupInput{UserPoolId: c.pool, GroupName: "admin"}); err != nil && !strings.Contains(err.Error(), "GroupExists") {
		t.Fatalf("CreateGroup: %v", err)
	}
	if _, err := svc.AdminAddUserToGroup(ctx, userpool.AdminGroupMembershipInput{UserPoolId: c.pool, Username: name, GroupName: "admin"}); err != nil {
		t.Fatalf("AdminAddUserToGroup: %v", err)
	}
	return email
}

// signIn returns fresh access and id tokens for email (USER_PASSWORD_AUTH).
func (c *cognate) signIn(t testing.TB, email string) (access, id string) {
	t.Helper()
	out, err := c.srv.Service().InitiateAuth(context.Background(), userpool.InitiateAuthInput{
		AuthFlow: "USER_PASSWORD_AUTH", ClientId: c.client,
		AuthParameters: map[string]string{"USERNAME": email, "PASSWORD": password},
	})
	if err != nil || out.AuthenticationResult == nil {
		t.Fatalf("InitiateAuth: %+v, %v", out, err)
	}
	return out.AuthenticationResult.AccessToken, out.AuthenticationResult.IdToken
}

// verifier returns a verifier for c's pool; mod adjusts its config.
func (c *cognate) verifier(t testing.TB, mod func(*tokenverify.Config)) *tokenverify.Verifier {
	t.Helper()
	cfg := tokenverify.Config{Issuer: c.issuer, HTTPClient: c.http}
	if mod != nil {
		mod(&cfg)
	}
	v, err := tokenverify.New(cfg)
	if err != nil {
		t.Fatalf("tokenverify.New: %v", err)
	}
	return v
}

// clock is an adjustable Now.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// local is an issuer the test controls: its RSA key signs any claims,
// and its JWKS document can be replaced.
type local struct {
	key     *rsa.PrivateKey
	kid     string
	issuer  string
	fetches atomic.Int64
	mu      sync.Mutex
	doc     []byte // the JWKS served
	status  int
	url     string
}

var (
	keyOnce  sync.Once
	keyCache [2]*rsa.PrivateKey
)

// testKeys returns two RSA keys shared by the tests (generation is slow).
func testKeys() [2]*rsa.PrivateKey {
	keyOnce.Do(func() {
		for i := range keyCache {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyCache[i] = k
		}
	})
	return keyCache
}

func newLocal(t testing.TB) *local {
	t.Helper()
	l := &local{key: testKeys()[0], kid: "k1", status: http.StatusOK}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.fetches.Add(1)
		l.mu.Lock()
		doc, status := l.doc, l.status
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(doc)
	}))
	t.Cleanup(ts.Close)
	l.url = ts.URL + "/jwks.json"
	l.issuer = ts.URL + "/us-east-1_Local"
	l.serve(http.StatusOK, jwksDoc(jwkOf(l.kid, &l.key.PublicKey)))
	return l
}

// serve replaces what the JWKS URL answers.
func (l *local) serve(status int, doc []byte) {
	l.mu.Lock()
	l.status, l.doc = status, doc
	l.mu.Unlock()
}

func jwkOf(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64.EncodeToString(pub.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func jwksDoc(keys ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func (l *local) verifier(t testing.TB, mod func(*tokenverify.Config)) *tokenverify.Verifier {
	t.Helper()
	cfg := tokenverify.Config{Issuer: l.issuer, JWKSURL: l.url}
	if mod != nil {
		mod(&cfg)
	}
	v, err := tokenverify.New(cfg)
	if err != nil {
		t.Fatalf("tokenverify.New: %v", err)
	}
	return v
}

// claims returns Cognito-shaped access-token claims from l, valid for an
// hour.
func (l *local) claims() map[string]any {
	now := time.Now().Unix()
	return map[string]any{
		"sub": "8f1d7c4e-0b7a-4d3e-9f59-1f6f2f0c9a11", "cognito:groups": []string{"admin"},
		"iss": l.issuer, "client_id": "client1", "origin_jti": "o", "event_id": "e", "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "auth_time": now, "exp": now + 3600, "iat": now,
		"jti": "j", "username": "8f1d7c4e-0b7a-4d3e-9f59-1f6f2f0c9a11",
	}
}

// sign signs claims with header fields hdr (alg RS256 and l's kid unless
// hdr says otherwise; a nil value removes a field) using key.
func sign(t testing.TB, key *rsa.PrivateKey, hdr map[string]any, claims any) string {
	t.Helper()
	h := map[string]any{"alg": "RS256", "typ": "JWT"}
	for k, v := range hdr {
		if v == nil {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	hj, _ := json.Marshal(h)
	pj, ok := claims.([]byte)
	if !ok {
		pj, _ = json.Marshal(claims)
	}
	input := b64.EncodeToString(hj) + "." + b64.EncodeToString(pj)
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

func (l *local) sign(t testing.TB, claims any) string {
	return sign(t, l.key, map[string]any{"kid": l.kid}, claims)
}

// with returns l.claims() with changes applied (a nil value removes).
func (l *local) with(changes map[string]any) map[string]any {
	c := l.claims()
	for k, v := range changes {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return c
}
