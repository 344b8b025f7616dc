package keys

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// openStore opens a fresh SQLite database in a temporary directory.
func openStore(tb testing.TB) storage.Storage {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		tb.Fatalf("open sqlite: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// createPool stores an empty pool (signing keys refer to their pool).
func createPool(tb testing.TB, st storage.Storage, id string) {
	tb.Helper()
	now := time.Now()
	if err := st.CreatePool(context.Background(), storage.Pool{ID: id, Name: id, CreatedAt: now, UpdatedAt: now}); err != nil {
		tb.Fatalf("create pool %s: %v", id, err)
	}
}

// fixture is a store with pools whose keys exist, and a Manager over it.
type fixture struct {
	st    storage.Storage
	clock *clock
	m     *Manager
}

func newFixture(tb testing.TB, opts Options, pools ...string) *fixture {
	tb.Helper()
	f := &fixture{st: openStore(tb), clock: newClock()}
	if opts.Now == nil {
		opts.Now = f.clock.Now
	}
	f.m = NewManager(f.st, opts)
	for _, p := range pools {
		createPool(tb, f.st, p)
		if err := f.m.EnsurePoolKeys(context.Background(), p); err != nil {
			tb.Fatalf("EnsurePoolKeys(%s): %v", p, err)
		}
	}
	return f
}

// accessClaims is shaped like a Cognito access token's payload.
type accessClaims struct {
	Sub       string   `json:"sub"`
	Groups    []string `json:"cognito:groups,omitempty"`
	Iss       string   `json:"iss"`
	ClientID  string   `json:"client_id"`
	OriginJTI string   `json:"origin_jti"`
	EventID   string   `json:"event_id"`
	TokenUse  string   `json:"token_use"`
	Scope     string   `json:"scope"`
	AuthTime  int64    `json:"auth_time"`
	Exp       int64    `json:"exp"`
	Iat       int64    `json:"iat"`
	JTI       string   `json:"jti"`
	Username  string   `json:"username"`
}

func sampleClaims(now time.Time, pool string) accessClaims {
	return accessClaims{
		Sub:       "3f1c7b1e-8a4e-4f0c-9f5e-2d5a7c1b9e01",
		Groups:    []string{"admins", "staff"},
		Iss:       "https://cognito-idp.us-east-1.amazonaws.com/" + pool,
		ClientID:  "5k3n2k1j4h5g6f7d8s9a0p1o2i",
		OriginJTI: "a1b2c3d4-e5f6-4789-8abc-def012345678",
		EventID:   "0f9e8d7c-6b5a-4321-8fed-cba987654321",
		TokenUse:  "access",
		Scope:     "aws.cognito.signin.user.admin",
		AuthTime:  now.Unix(),
		Exp:       now.Add(time.Hour).Unix(),
		Iat:       now.Unix(),
		JTI:       "11111111-2222-4333-8444-555555555555",
		Username:  "alice",
	}
}

func segments(t testing.TB, token string) (header, payload []byte) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	header, err := b64.DecodeString(parts[0])
	if err != nil {
		t.Fatalf("header: %v", err)
	}
	payload, err = b64.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	return header, payload
}

func kidOf(t testing.TB, token string) string {
	t.Helper()
	h, _ := segments(t, token)
	var hdr struct{ Kid string }
	if err := json.Unmarshal(h, &hdr); err != nil {
		t.Fatal(err)
	}
	return hdr.Kid
}

const poolA, poolB = "us-east-1_AAAAAAAAA", "us-east-1_BBBBBBBBB"

func TestSignVerifyRoundTrip(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	now := f.clock.Now()
	tests := []struct {
		name   string
		use    string
		claims any
	}{
		{"access struct", UseAccess, sampleClaims(now, poolA)},
		{"id map", UseID, map[string]any{"sub": "x", "aud": "client", "token_use": "id", "exp": now.Add(time.Hour).Unix(), "email": "a<b>&c@example.com"}},
		{"raw message", UseID, json.RawMessage(`{"z":1,"a":"two"}`)},
		{"no exp", UseAccess, struct {
			Sub string `json:"sub"`
		}{"bob"}},
	}
	kids := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := f.m.Sign(ctx, poolA, tt.use, tt.claims)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			want, err := json.Marshal(tt.claims)
			if err != nil {
				t.Fatal(err)
			}
			header, payload := segments(t, token)
			kid := kidOf(t, token)
			if got, want := string(header), `{"kid":"`+kid+`","alg":"RS256"}`; got != want {
				t.Errorf("header = %s, want %s", got, want)
			}
			if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(kid) {
				t.Errorf("kid %q is not a base64url SHA-256", kid)
			}
			if !bytes.Equal(payload, want) {
				t.Errorf("payload = %s, want %s", payload, want)
			}
			if prev, ok := kids[tt.use]; ok && prev != kid {
				t.Errorf("%s tokens signed with %s and %s", tt.use, prev, kid)
			}
			kids[tt.use] = kid
			for i := range 2 { // uncached, then cached
				got, err := f.m.Verify(ctx, poolA, tt.use, token)
				if err != nil {
					t.Fatalf("Verify #%d: %v", i, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Verify #%d = %s, want %s", i, got, want)
				}
			}
		})
	}
	if kids[UseAccess] == kids[UseID] {
		t.Errorf("access and id tokens share kid %s", kids[UseAccess])
	}
}

func TestSignErrors(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	createPool(t, f.st, poolB) // a pool without keys
	tests := []struct {
		name   string
		pool   string
		use    string
		claims any
		want   error
	}{
		{"bad use", poolA, "refresh", map[string]any{}, ErrInvalidUse},
		{"array claims", poolA, UseAccess, []int{1}, ErrInvalidClaims},
		{"string claims", poolA, UseAccess, "x", ErrInvalidClaims},
		{"null claims", poolA, UseAccess, nil, ErrInvalidClaims},
		{"unmarshalable", poolA, UseAccess, map[string]any{"c": make(chan int)}, ErrInvalidClaims},
		{"pool without keys", poolB, UseAccess, map[string]any{}, ErrNoKey},
		{"unknown pool", "us-east-1_nope", UseID, map[string]any{}, ErrNoKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.m.Sign(ctx, tt.pool, tt.use, tt.claims)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Sign error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := f.m.JWKS(ctx, poolB); !errors.Is(err, ErrNoKey) {
		t.Errorf("JWKS of a pool without keys: %v, want ErrNoKey", err)
	}
	if err := f.m.Rotate(ctx, poolA, "refresh"); !errors.Is(err, ErrInvalidUse) {
		t.Errorf("Rotate with a bad use: %v", err)
	}
	if _, err := f.m.Verify(ctx, poolA, "", "a.b.c"); !errors.Is(err, ErrInvalidUse) {
		t.Errorf("Verify with a bad use: %v", err)
	}
	if err := f.m.EnsurePoolKeys(ctx, "us-east-1_nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("EnsurePoolKeys of a missing pool: %v, want storage.ErrNotFound", err)
	}
	small := NewManager(f.st, Options{KeyBits: 1024})
	if err := small.Rotate(ctx, poolA, UseAccess); err == nil {
		t.Errorf("Rotate with 1024-bit keys succeeded")
	}
}

var jwksShape = regexp.MustCompile(`^\{"keys":\[\{"alg":"RS256","e":"AQAB","kid":"[A-Za-z0-9_-]{43}","kty":"RSA","n":"[A-Za-z0-9_-]{342}","use":"sig"\}(,\{"alg":"RS256","e":"AQAB","kid":"[A-Za-z0-9_-]{43}","kty":"RSA","n":"[A-Za-z0-9_-]{342}","use":"sig"\})*\]\}$`)

func TestJWKSVerifiesWithIndependentVerifiers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	now := f.clock.Now()
	access, err := f.m.Sign(ctx, poolA, UseAccess, sampleClaims(now, poolA))
	if err != nil {
		t.Fatal(err)
	}
	id, err := f.m.Sign(ctx, poolA, UseID, map[string]any{"token_use": "id", "aud": "c"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := f.m.JWKS(ctx, poolA)
	if err != nil {
		t.Fatal(err)
	}
	if !jwksShape.Match(doc) {
		t.Errorf("JWKS is not shaped like Cognito's: %s", doc)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatalf("go-jose cannot parse the JWKS: %v", err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	for _, k := range set.Keys {
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if got := b64.EncodeToString(tp); got != k.KeyID {
			t.Errorf("kid %s is not the RFC 7638 thumbprint %s", k.KeyID, got)
		}
	}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(doc)
	}))
	defer srv.Close()
	remote := oidc.NewRemoteKeySet(ctx, srv.URL+"/"+poolA+"/.well-known/jwks.json")

	for _, token := range []string{access, id} {
		_, want := segments(t, token)
		jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("go-jose parse: %v", err)
		}
		kid := jws.Signatures[0].Header.KeyID
		keys := set.Key(kid)
		if len(keys) != 1 {
			t.Fatalf("JWKS has %d keys with kid %s", len(keys), kid)
		}
		got, err := jws.Verify(keys[0].Key)
		if err != nil {
			t.Fatalf("go-jose verify: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("go-jose payload = %s, want %s", got, want)
		}
		got, err = remote.VerifySignature(ctx, token)
		if err != nil {
			t.Fatalf("go-oidc verify: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("go-oidc payload = %s, want %s", got, want)
		}
	}
}

func TestUsesAndPoolsAreSeparate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA, poolB)
	tokens := map[[2]string]string{}
	for _, pool := range []string{poolA, poolB} {
		for _, use := range []string{UseAccess, UseID} {
			tok, err := f.m.Sign(ctx, pool, use, map[string]any{"pool": pool, "use": use})
			if err != nil {
				t.Fatal(err)
			}
			tokens[[2]string{pool, use}] = tok
		}
	}
	seen := map[string]bool{}
	for _, tok := range tokens {
		kid := kidOf(t, tok)
		if seen[kid] {
			t.Errorf("kid %s signs two kinds of tokens", kid)
		}
		seen[kid] = true
	}
	for signed, tok := range tokens {
		for _, pool := range []string{poolA, poolB} {
			for _, use := range []string{UseAccess, UseID} {
				// Twice, so that a cached acceptance for one pool and
				// use cannot leak into another.
				for range 2 {
					_, err := f.m.Verify(ctx, pool, use, tok)
					if pool == signed[0] && use == signed[1] {
						if err != nil {
							t.Errorf("%v token rejected for %s/%s: %v", signed, pool, use, err)
						}
					} else if !errors.Is(err, ErrUnknownKey) {
						t.Errorf("%v token for %s/%s: %v, want ErrUnknownKey", signed, pool, use, err)
					}
				}
			}
		}
	}
}

func TestRotate(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	// node2 shares the storage, loaded before the rotation.
	node2 := NewManager(f.st, Options{Now: f.clock.Now})
	before, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	idBefore, err := f.m.Sign(ctx, poolA, UseID, map[string]any{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node2.Verify(ctx, poolA, UseAccess, before); err != nil {
		t.Fatalf("node2 Verify before rotation: %v", err)
	}

	if err := f.m.Rotate(ctx, poolA, UseAccess); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	after, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{"n": 2})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, after) == kidOf(t, before) {
		t.Fatalf("token signed after rotation uses the old kid")
	}
	idAfter, err := f.m.Sign(ctx, poolA, UseID, map[string]any{"n": 2})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, idAfter) != kidOf(t, idBefore) {
		t.Errorf("rotating the access key changed the id key")
	}

	for _, tok := range []string{before, after} {
		if _, err := f.m.Verify(ctx, poolA, UseAccess, tok); err != nil {
			t.Errorf("Verify after rotation: %v", err)
		}
	}
	doc, err := f.m.JWKS(ctx, poolA)
	if err != nil {
		t.Fatal(err)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 3 {
		t.Errorf("JWKS after rotation has %d keys, want 3", len(set.Keys))
	}
	for _, tok := range []string{before, after, idBefore} {
		if len(set.Key(kidOf(t, tok))) != 1 {
			t.Errorf("JWKS lacks kid %s", kidOf(t, tok))
		}
	}

	// node2 reloads on the unknown kid, but not more often than
	// ReloadInterval: it loaded the pool just now.
	if _, err := node2.Verify(ctx, poolA, UseAccess, after); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("node2 Verify within ReloadInterval: %v, want ErrUnknownKey", err)
	}
	f.clock.Advance(DefaultReloadInterval)
	if _, err := node2.Verify(ctx, poolA, UseAccess, after); err != nil {
		t.Fatalf("node2 Verify of a token signed after rotation: %v", err)
	}
	// node2 signs with the new key once its keys are older than
	// RefreshInterval (they were reloaded just now, so the new key is
	// already current).
	tok, err := node2.Sign(ctx, poolA, UseAccess, map[string]any{"n": 3})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, tok) != kidOf(t, after) {
		t.Errorf("node2 signs with %s, want the rotated key %s", kidOf(t, tok), kidOf(t, after))
	}

	// A third node that loaded before a second rotation picks it up for
	// signing after RefreshInterval.
	node3 := NewManager(f.st, Options{Now: f.clock.Now})
	if _, err := node3.Sign(ctx, poolA, UseAccess, map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Rotate(ctx, poolA, UseAccess); err != nil {
		t.Fatal(err)
	}
	latest, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultRefreshInterval)
	tok, err = node3.Sign(ctx, poolA, UseAccess, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, tok) != kidOf(t, latest) {
		t.Errorf("node3 signs with %s after RefreshInterval, want %s", kidOf(t, tok), kidOf(t, latest))
	}
}

// TestRotateAtSwitchesEveryNodeTogether: a key scheduled ahead is
// published by every node within RefreshInterval, signs on none before its
// time, and on all of them from then on, without any node reloading by
// hand.
func TestRotateAtSwitchesEveryNodeTogether(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	node2 := NewManager(f.st, Options{Now: f.clock.Now})
	old, err := node2.Sign(ctx, poolA, UseAccess, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	activate := f.clock.Now().Add(DefaultActivationDelay)
	if err := f.m.RotateAt(ctx, poolA, UseAccess, activate); err != nil {
		t.Fatal(err)
	}
	newKID := func() string {
		keys, err := f.st.ListSigningKeys(ctx, poolA)
		if err != nil {
			t.Fatal(err)
		}
		return keys[0].ID // newest first
	}()
	published := func(m *Manager) bool {
		doc, err := m.JWKS(ctx, poolA)
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		if err := json.Unmarshal(doc, &set); err != nil {
			t.Fatal(err)
		}
		return len(set.Key(newKID)) == 1
	}
	signsWith := func(m *Manager) string {
		tok, err := m.Sign(ctx, poolA, UseAccess, map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		return kidOf(t, tok)
	}
	if !published(f.m) {
		t.Error("the rotating node does not publish the scheduled key")
	}
	if got := signsWith(f.m); got != kidOf(t, old) {
		t.Errorf("the rotating node signs with %s before the activation time", got)
	}
	f.clock.Advance(DefaultRefreshInterval)
	if !published(node2) {
		t.Error("node2 does not publish the scheduled key after RefreshInterval")
	}
	for i, m := range []*Manager{f.m, node2} {
		if got := signsWith(m); got != kidOf(t, old) {
			t.Errorf("node%d signs with %s before the activation time", i+1, got)
		}
	}
	f.clock.Advance(activate.Sub(f.clock.Now()))
	for i, m := range []*Manager{f.m, node2} {
		if got := signsWith(m); got != newKID {
			t.Errorf("node%d signs with %s at the activation time, want %s", i+1, got, newKID)
		}
		if _, err := m.Verify(ctx, poolA, UseAccess, old); err != nil {
			t.Errorf("node%d no longer verifies a token of the old key: %v", i+1, err)
		}
	}
}

// forge builds a token from a header and payload with the given signature
// segment.
func forge(header, payload string, sig string) string {
	return b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload)) + "." + sig
}

func TestVerifyRejects(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA, poolB)
	good, err := f.m.Sign(ctx, poolA, UseAccess, sampleClaims(f.clock.Now(), poolA))
	if err != nil {
		t.Fatal(err)
	}
	bToken, err := f.m.Sign(ctx, poolB, UseAccess, map[string]any{"x": 1})
	if err != nil {
		t.Fatal(err)
	}
	kid := kidOf(t, good)
	parts := strings.Split(good, ".")
	h, p, s := parts[0], parts[1], parts[2]

	// The classic confusion attack: HS256 keyed with the public key as
	// published.
	ks := f.m.cached(poolA)
	pubDER, err := x509.MarshalPKIXPublicKey(ks.byKID[kid].pub)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hsInput := b64.EncodeToString([]byte(`{"kid":"`+kid+`","alg":"HS256"}`)) + "." + p
	mac := hmac.New(sha256.New, pubPEM)
	mac.Write([]byte(hsInput))
	hs256 := hsInput + "." + b64.EncodeToString(mac.Sum(nil))

	tamperedPayload := h + "." + b64.EncodeToString([]byte(strings.Replace(string(mustDecode(t, p)), "alice", "admin", 1))) + "." + s
	sig := mustDecode(t, s)
	sig[len(sig)/2] ^= 1
	tamperedSig := h + "." + p + "." + b64.EncodeToString(sig)
	// Non-zero padding bits: a second encoding of the same signature.
	last := s[len(s)-1]
	alt := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last) + 1
	malleableSig := h + "." + p + "." + s[:len(s)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[alt%64])

	otherKid := kidOf(t, bToken)
	bParts := strings.Split(bToken, ".")

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"empty", "", ErrMalformed},
		{"oversized", good + strings.Repeat("A", MaxTokenSize), ErrMalformed},
		{"one segment", h, ErrMalformed},
		{"two segments", h + "." + p, ErrMalformed},
		{"four segments", good + "." + s, ErrMalformed},
		{"five segments (JWE)", h + "." + p + "." + s + "." + s + "." + s, ErrMalformed},
		{"empty signature", h + "." + p + ".", ErrMalformed},
		{"empty header", "." + p + "." + s, ErrMalformed},
		{"padding", good + "=", ErrMalformed},
		{"standard base64 alphabet", h + ".+" + p[1:] + "." + s, ErrMalformed},
		{"newline", h + "." + p[:10] + "\n" + p[10:] + "." + s, ErrMalformed},
		{"space", " " + good, ErrMalformed},
		{"bad base64 length", h + "." + p + "." + s[:len(s)-1], ErrMalformed},
		{"non-zero padding bits", malleableSig, ErrMalformed},
		{"header not JSON", b64.EncodeToString([]byte("kid")) + "." + p + "." + s, ErrMalformed},
		{"alg none", forge(`{"kid":"`+kid+`","alg":"none"}`, `{"sub":"x"}`, ""), ErrMalformed},
		{"alg none with signature", forge(`{"kid":"`+kid+`","alg":"none"}`, `{"sub":"x"}`, s), ErrMalformed},
		{"alg HS256 keyed with public key", hs256, ErrMalformed},
		{"alg RS512", forge(`{"kid":"`+kid+`","alg":"RS512"}`, `{"sub":"x"}`, s), ErrMalformed},
		{"alg lower case", forge(`{"kid":"`+kid+`","alg":"rs256"}`, `{"sub":"x"}`, s), ErrMalformed},
		{"no kid", forge(`{"alg":"RS256"}`, `{"sub":"x"}`, s), ErrMalformed},
		{"crit", forge(`{"kid":"`+kid+`","alg":"RS256","crit":["b64"],"b64":false}`, `{"sub":"x"}`, s), ErrMalformed},
		{"unknown kid", forge(`{"kid":"nope","alg":"RS256"}`, `{"sub":"x"}`, s), ErrUnknownKey},
		{"other pool's kid", bToken, ErrUnknownKey},
		{"other pool's kid, our signature", forge(`{"kid":"`+otherKid+`","alg":"RS256"}`, string(mustDecode(t, p)), s), ErrUnknownKey},
		{"signature of another token", h + "." + p + "." + bParts[2], ErrBadSignature},
		{"tampered payload", tamperedPayload, ErrBadSignature},
		{"tampered signature", tamperedSig, ErrBadSignature},
		{"truncated signature", h + "." + p + "." + b64.EncodeToString(sig[:len(sig)-1]), ErrBadSignature},
		{"header re-encoded", forge(`{"alg":"RS256","kid":"`+kid+`"}`, string(mustDecode(t, p)), s), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload, err := f.m.Verify(ctx, poolA, UseAccess, tt.token)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %q, %v; want %v", payload, err, tt.want)
			}
			if payload != nil {
				t.Errorf("rejected token returned a payload")
			}
		})
	}
	if _, err := f.m.Verify(ctx, poolA, UseAccess, good); err != nil {
		t.Fatalf("the untampered token: %v", err)
	}
}

func mustDecode(t testing.TB, s string) []byte {
	t.Helper()
	b, err := b64.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyCache(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	now := f.clock.Now()
	claims := sampleClaims(now, poolA)
	claims.Exp = now.Add(10 * time.Minute).Unix()
	token, err := f.m.Sign(ctx, poolA, UseAccess, claims)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(claims)

	verify := func(wantRSA int64) {
		t.Helper()
		before := f.m.rsaVerifies.Load()
		got, err := f.m.Verify(ctx, poolA, UseAccess, token)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("Verify = %s, want %s", got, want)
		}
		for i := range got { // the caller owns the result
			got[i] = 'x'
		}
		if n := f.m.rsaVerifies.Load() - before; n != wantRSA {
			t.Fatalf("Verify ran %d RSA verifications, want %d", n, wantRSA)
		}
	}
	verify(1)
	verify(0)
	verify(0)
	if n := f.m.cache.Len(); n != 1 {
		t.Errorf("cache holds %d entries, want 1", n)
	}
	f.clock.Advance(10*time.Minute - time.Second)
	verify(0)
	f.clock.Advance(time.Second) // now == exp: expired
	verify(1)
	if n := f.m.cache.Len(); n != 0 {
		t.Errorf("cache holds %d entries after expiry, want 0", n)
	}
	verify(1) // an expired token is not cached again

	// Without exp nothing is cached.
	noExp, err := f.m.Sign(ctx, poolA, UseID, map[string]any{"sub": "x"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		before := f.m.rsaVerifies.Load()
		if _, err := f.m.Verify(ctx, poolA, UseID, noExp); err != nil {
			t.Fatal(err)
		}
		if f.m.rsaVerifies.Load() == before {
			t.Fatal("a token without exp was cached")
		}
	}
}

func TestVerifyCacheBounded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{CacheSize: 64}, poolA)
	exp := f.clock.Now().Add(time.Hour).Unix()
	for i := range 300 {
		tok, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{"i": i, "exp": exp + int64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.m.Verify(ctx, poolA, UseAccess, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.m.cache.Len(); n == 0 || n > 64 {
		t.Errorf("cache of size 64 holds %d entries", n)
	}

	off := NewManager(f.st, Options{CacheSize: -1, Now: f.clock.Now})
	tok, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{"exp": exp})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := off.Verify(ctx, poolA, UseAccess, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := off.rsaVerifies.Load(); n != 3 {
		t.Errorf("disabled cache: %d RSA verifications for 3 calls", n)
	}
}

func TestEnsurePoolKeysConcurrent(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	createPool(t, st, poolA)
	createPool(t, st, poolB)

	// One Manager, eight callers: exactly one key per use.
	m := NewManager(st, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- m.EnsurePoolKeys(ctx, poolA) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("EnsurePoolKeys: %v", err)
		}
	}
	recs, err := st.ListSigningKeys(ctx, poolA)
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]int{}
	for _, r := range recs {
		uses[r.Use]++
		if r.Algorithm != Algorithm || r.PoolID != poolA {
			t.Errorf("key record %+v", r)
		}
	}
	if len(recs) != 2 || uses[UseAccess] != 1 || uses[UseID] != 1 {
		t.Errorf("keys after concurrent EnsurePoolKeys: %v", uses)
	}
	if err := m.EnsurePoolKeys(ctx, poolA); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.ListSigningKeys(ctx, poolA); len(again) != 2 {
		t.Errorf("a second EnsurePoolKeys made %d keys", len(again))
	}

	// Four Managers (nodes), two callers each: still exactly one key per
	// use, all nodes sign with it and accept each other's tokens.
	clk := newClock()
	nodes := make([]*Manager, 4)
	for i := range nodes {
		nodes[i] = NewManager(st, Options{Now: clk.Now})
	}
	for _, n := range nodes {
		for range 2 {
			wg.Go(func() {
				if err := n.EnsurePoolKeys(ctx, poolB); err != nil {
					t.Errorf("EnsurePoolKeys: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if recs, err := st.ListSigningKeys(ctx, poolB); err != nil || len(recs) != 2 || recs[0].Use == recs[1].Use {
		t.Errorf("keys after four nodes' EnsurePoolKeys: %d records, err %v", len(recs), err)
	}
	clk.Advance(DefaultReloadInterval) // let nodes reload on unknown kids
	for _, use := range []string{UseAccess, UseID} {
		var kid string
		for i, n := range nodes {
			// Fresh Managers see what is in storage now.
			fresh := NewManager(st, Options{})
			tok, err := fresh.Sign(ctx, poolB, use, map[string]any{"node": i})
			if err != nil {
				t.Fatal(err)
			}
			if kid == "" {
				kid = kidOf(t, tok)
			} else if kidOf(t, tok) != kid {
				t.Errorf("nodes sign %s tokens with different keys", use)
			}
			if _, err := n.Verify(ctx, poolB, use, tok); err != nil {
				t.Errorf("node %d rejects the %s token of the current key: %v", i, use, err)
			}
		}
	}
}

// TestConcurrentUse signs, verifies and rotates from many goroutines (run
// with -race).
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{CacheSize: 16, ReloadInterval: time.Nanosecond}, poolA)
	node2 := NewManager(f.st, Options{ReloadInterval: time.Nanosecond})
	exp := time.Now().Add(time.Hour).Unix()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := range 15 {
				use := []string{UseAccess, UseID}[(g+i)%2]
				tok, err := f.m.Sign(ctx, poolA, use, map[string]any{"g": g, "i": i % 3, "exp": exp})
				if err != nil {
					t.Errorf("Sign: %v", err)
					return
				}
				for _, m := range []*Manager{f.m, node2} {
					if _, err := m.Verify(ctx, poolA, use, tok); err != nil {
						t.Errorf("Verify: %v", err)
						return
					}
				}
				if _, err := node2.JWKS(ctx, poolA); err != nil {
					t.Errorf("JWKS: %v", err)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 2 {
			if err := f.m.Rotate(ctx, poolA, []string{UseAccess, UseID}[i]); err != nil {
				t.Errorf("Rotate: %v", err)
			}
		}
	})
	wg.Wait()
}

func TestLoadSharedAcrossCallers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	tok, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	// A cold Manager hit by many callers at once parses each key once.
	cold := NewManager(f.st, Options{CacheSize: -1})
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := cold.Verify(ctx, poolA, UseAccess, tok); err != nil {
				t.Errorf("Verify: %v", err)
			}
		})
	}
	wg.Wait()
	k := cold.cached(poolA).byKID[kidOf(t, tok)]
	// Later loads reuse the parsed key.
	ks, err := cold.load(ctx, poolA, true)
	if err != nil {
		t.Fatal(err)
	}
	if ks.byKID[k.kid] != k {
		t.Errorf("a reload parsed an already known key again")
	}
	// A caller whose context is cancelled gives up without failing the
	// load for others.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewManager(f.st, Options{}).Verify(cctx, poolA, UseAccess, tok); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context: %v", err)
	}
}

func TestThumbprintAndExpiry(t *testing.T) {
	// RFC 7638 section 3.1's example key and thumbprint.
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
	var pub rsa.PublicKey
	pub.N = new(big.Int).SetBytes(mustDecode(t, n))
	pub.E = 65537
	if got, want := thumbprint(&pub), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}

	tests := []struct {
		payload string
		exp     int64
		ok      bool
	}{
		{`{"exp":1700000000}`, 1700000000, true},
		{`{"exp":1700000000.9}`, 1700000000, true},
		{`{"exp":1e300}`, 1 << 62, true},
		{`{"exp":"1700000000"}`, 0, false},
		{`{"exp":-5}`, 0, false},
		{`{"exp":null}`, 0, false},
		{`{}`, 0, false},
		{`not json`, 0, false},
	}
	for _, tt := range tests {
		exp, ok := expiry([]byte(tt.payload))
		if exp != tt.exp || ok != tt.ok {
			t.Errorf("expiry(%s) = %d, %v; want %d, %v", tt.payload, exp, ok, tt.exp, tt.ok)
		}
	}
}

func TestCorruptKeyRecordsAreSkipped(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	good, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	for i, r := range []storage.SigningKey{
		{ID: "bad-der", PoolID: poolA, Use: UseAccess, Algorithm: Algorithm, PrivateKeyDER: []byte("junk"), CreatedAt: later},
		{ID: "bad-alg", PoolID: poolA, Use: UseAccess, Algorithm: "ES256", PrivateKeyDER: []byte("junk"), CreatedAt: later},
		{ID: "bad-use", PoolID: poolA, Use: "refresh", Algorithm: Algorithm, PrivateKeyDER: []byte("junk"), CreatedAt: later},
	} {
		if err := f.st.CreateSigningKey(ctx, r); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	m := NewManager(f.st, Options{})
	tok, err := m.Sign(ctx, poolA, UseAccess, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if kidOf(t, tok) != kidOf(t, good) {
		t.Errorf("signed with %s, want the newest usable key %s", kidOf(t, tok), kidOf(t, good))
	}
	doc, err := m.JWKS(ctx, poolA)
	if err != nil {
		t.Fatal(err)
	}
	if !jwksShape.Match(doc) || bytes.Contains(doc, []byte("bad-")) {
		t.Errorf("JWKS = %s", doc)
	}
}

// Example-style check of the error text, so logs stay useful.
func TestErrorDetail(t *testing.T) {
	f := newFixture(t, Options{}, poolA)
	_, err := f.m.Verify(context.Background(), poolA, UseAccess, "a.b")
	if got := fmt.Sprint(err); !errors.Is(err, ErrMalformed) || !strings.Contains(got, "2 segments") {
		t.Errorf("error = %q", got)
	}
}

// TestStorageOutage: once a pool's keys are in memory, signing, JWKS and
// verification with known keys survive storage failures.
func TestStorageOutage(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, Options{}, poolA)
	tok, err := f.m.Sign(ctx, poolA, UseAccess, map[string]any{"exp": f.clock.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(DefaultRefreshInterval + DefaultReloadInterval)
	if _, err := f.m.Sign(ctx, poolA, UseID, map[string]any{}); err != nil {
		t.Errorf("Sign with stale keys and no storage: %v", err)
	}
	if _, err := f.m.JWKS(ctx, poolA); err != nil {
		t.Errorf("JWKS with stale keys and no storage: %v", err)
	}
	if _, err := f.m.Verify(ctx, poolA, UseAccess, tok); err != nil {
		t.Errorf("Verify of a known kid without storage: %v", err)
	}
	// An unknown kid needs storage: the failure is not ErrUnknownKey.
	forged := forge(`{"kid":"unknown","alg":"RS256"}`, `{}`, "AAAA")
	if _, err := f.m.Verify(ctx, poolA, UseAccess, forged); err == nil || errors.Is(err, ErrUnknownKey) {
		t.Errorf("Verify of an unknown kid without storage: %v, want a storage error", err)
	}
	if _, err := f.m.Sign(ctx, poolB, UseID, map[string]any{}); err == nil || errors.Is(err, ErrNoKey) {
		t.Errorf("Sign for an unloaded pool without storage: %v, want a storage error", err)
	}
}
