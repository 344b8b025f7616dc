package tokenverify_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/cognate-auth/cognate/tokenverify"
)

// joseSign signs payload with go-jose: alg with key, kid in the header.
func joseSign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, payload []byte) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatalf("go-jose signer %s: %v", alg, err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatalf("go-jose sign: %v", err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wantInvalid asserts Verify refused a token as ErrInvalid only, with no
// claims.
func wantInvalid(t *testing.T, c *tokenverify.Claims, err error) {
	t.Helper()
	if !errors.Is(err, tokenverify.ErrInvalid) {
		t.Fatalf("Verify error %v, want ErrInvalid", err)
	}
	if errors.Is(err, tokenverify.ErrExpired) || errors.Is(err, tokenverify.ErrUnavailable) {
		t.Fatalf("Verify error %v also matches ErrExpired or ErrUnavailable", err)
	}
	if c != nil {
		t.Fatalf("invalid token returned claims %+v", c)
	}
}

func segments(tok string) (h, p, s string) {
	parts := strings.SplitN(tok, ".", 3)
	return parts[0], parts[1], parts[2]
}

// TestForged feeds a verifier tokens an attacker can make without the
// issuer's private key, plus malformed ones.
func TestForged(t *testing.T) {
	l := newLocal(t)
	other := testKeys()[1]
	payload, _ := json.Marshal(l.claims())
	pubDER, _ := x509.MarshalPKIXPublicKey(&l.key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	good := l.sign(t, l.claims())
	gh, gp, gs := segments(good)
	expired := l.sign(t, l.with(map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}))
	eh, ep, _ := segments(expired)
	tampered, _ := json.Marshal(l.with(map[string]any{"sub": "someone-else"}))
	noneHeader := b64.EncodeToString([]byte(`{"alg":"none","kid":"k1","typ":"JWT"}`))

	cases := []struct {
		name string
		why  string // in the error: the refusal is for this reason
		tok  func() string
	}{
		{"alg none, no signature", "empty segment", func() string { return noneHeader + "." + gp + "." }},
		{"alg none, with signature", "alg", func() string { return noneHeader + "." + gp + "." + gs }},
		{"alg None", "alg", func() string {
			return b64.EncodeToString([]byte(`{"alg":"None","kid":"k1"}`)) + "." + gp + "." + gs
		}},
		{"HS256 keyed with the public key PEM", "alg", func() string { return joseSign(t, jose.HS256, pubPEM, l.kid, payload) }},
		{"HS256 keyed with the modulus", "alg", func() string { return joseSign(t, jose.HS256, l.key.N.Bytes(), l.kid, payload) }},
		{"RS384 with the real key", "alg", func() string { return joseSign(t, jose.RS384, l.key, l.kid, payload) }},
		{"PS256 with the real key", "alg", func() string { return joseSign(t, jose.PS256, l.key, l.kid, payload) }},
		{"RS256 with another key, real kid", "signature", func() string { return joseSign(t, jose.RS256, other, l.kid, payload) }},
		{"missing kid", "no kid", func() string { return joseSign(t, jose.RS256, l.key, "", payload) }},
		{"empty kid", "no kid", func() string { return sign(t, l.key, map[string]any{"kid": ""}, l.claims()) }},
		{"unknown kid", "unknown kid", func() string { return sign(t, l.key, map[string]any{"kid": "k2"}, l.claims()) }},
		{"crit header", "critical", func() string {
			return sign(t, l.key, map[string]any{"kid": l.kid, "crit": []string{"exp"}, "exp": 1}, l.claims())
		}},
		{"tampered payload", "signature", func() string { return gh + "." + b64.EncodeToString(tampered) + "." + gs }},
		{"header swapped", "signature", func() string {
			return b64.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + gp + "." + gs
		}},
		{"expired, bad signature", "signature", func() string { return eh + "." + ep + "." + gs }},
		{"truncated signature", "signature", func() string { return good[:len(good)-4] }},
		{"signature with padding", "base64url", func() string { return good + "==" }},
		{"standard base64 letters", "base64url", func() string { return gh + "." + gp + "." + strings.NewReplacer("-", "+", "_", "/").Replace(gs) + "+" }},
		{"newline inside", "base64url", func() string { return gh + ".\n" + gp + "." + gs }},
		{"space inside", "base64url", func() string { return gh + ". " + gp + "." + gs }},
		{"two segments", "segments", func() string { return gh + "." + gp }},
		{"four segments", "segments", func() string { return good + "." + gs }},
		{"empty", "segments", func() string { return "" }},
		{"dots only", "empty segment", func() string { return ".." }},
		{"empty header", "empty segment", func() string { return "." + gp + "." + gs }},
		{"header not JSON", "header", func() string { return b64.EncodeToString([]byte("RS256")) + "." + gp + "." + gs }},
		{"header JSON array", "header", func() string { return b64.EncodeToString([]byte(`["RS256"]`)) + "." + gp + "." + gs }},
		{"alg not a string", "header", func() string { return b64.EncodeToString([]byte(`{"alg":1,"kid":"k1"}`)) + "." + gp + "." + gs }},
		{"over 16 KiB", "exceeds", func() string {
			return l.sign(t, l.with(map[string]any{"pad": strings.Repeat("x", 16<<10)}))
		}},
		{"payload not JSON", "JSON object", func() string { return l.sign(t, []byte("hello")) }},
		{"payload JSON array", "JSON object", func() string { return l.sign(t, []byte(`[1,2]`)) }},
		{"payload null", "JSON object", func() string { return l.sign(t, []byte(`null`)) }},
		{"payload with trailing data", "JSON object", func() string { return l.sign(t, append(append([]byte(nil), payload...), "{}"...)) }},
	}
	v := l.verifier(t, nil)
	// The genuine token verifies, so each refusal below is the forgery's.
	if _, err := v.Verify(t.Context(), good); err != nil {
		t.Fatalf("genuine token: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := v.Verify(t.Context(), tc.tok())
			wantInvalid(t, c, err)
			if !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("refused for %q, want a reason mentioning %q", err, tc.why)
			}
		})
	}
	// Only the first verification fetched the JWKS: the unknown kid's
	// refetch is not due within 30 seconds of it.
	if n := l.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
}

// TestClaimChecks verifies genuinely signed tokens whose claims the
// verifier must refuse, or accept.
func TestClaimChecks(t *testing.T) {
	l := newLocal(t)
	now := time.Now()
	idClaims := func(changes map[string]any) map[string]any {
		c := l.with(map[string]any{"token_use": "id", "client_id": nil, "aud": "client1", "cognito:username": "ada", "username": nil, "email": "ada@example.com"})
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	access := func(changes map[string]any) map[string]any { return l.with(changes) }
	cases := []struct {
		name   string
		cfg    func(*tokenverify.Config)
		claims map[string]any
		ok     bool
	}{
		{"access", nil, access(nil), true},
		{"id", nil, idClaims(nil), true},
		{"wrong iss", nil, access(map[string]any{"iss": l.issuer + "x"}), false},
		{"iss with trailing slash", nil, access(map[string]any{"iss": l.issuer + "/"}), false},
		{"no iss", nil, access(map[string]any{"iss": nil}), false},
		{"iss not a string", nil, access(map[string]any{"iss": 7}), false},
		{"access wanted, id given", func(c *tokenverify.Config) { c.TokenUse = "access" }, idClaims(nil), false},
		{"id wanted, access given", func(c *tokenverify.Config) { c.TokenUse = "id" }, access(nil), false},
		{"id wanted, no token_use", func(c *tokenverify.Config) { c.TokenUse = "id" }, idClaims(map[string]any{"token_use": nil}), false},
		{"either wanted, no token_use (OIDC)", nil, idClaims(map[string]any{"token_use": nil}), true},
		{"token_use refresh", nil, access(map[string]any{"token_use": "refresh"}), false},
		{"client_id allowed", func(c *tokenverify.Config) { c.ClientIDs = []string{"x", "client1"} }, access(nil), true},
		{"client_id not allowed", func(c *tokenverify.Config) { c.ClientIDs = []string{"client2"} }, access(nil), false},
		{"access token with aud only", func(c *tokenverify.Config) { c.ClientIDs = []string{"client1"} }, access(map[string]any{"client_id": nil, "aud": "client1"}), false},
		{"aud allowed", func(c *tokenverify.Config) { c.ClientIDs = []string{"client1"} }, idClaims(nil), true},
		{"aud array allowed", func(c *tokenverify.Config) { c.ClientIDs = []string{"client1"} }, idClaims(map[string]any{"aud": []string{"api", "client1"}}), true},
		{"aud not allowed", func(c *tokenverify.Config) { c.ClientIDs = []string{"client2"} }, idClaims(nil), false},
		{"aud not a string", nil, idClaims(map[string]any{"aud": 5}), false},
		{"OIDC token, aud allowed", func(c *tokenverify.Config) { c.ClientIDs = []string{"client1"} }, idClaims(map[string]any{"token_use": nil}), true},
		{"no exp", nil, access(map[string]any{"exp": nil}), false},
		{"exp a string", nil, access(map[string]any{"exp": "2100-01-01"}), false},
		{"exp negative", nil, access(map[string]any{"exp": -1}), false},
		{"exp absurd", nil, access(map[string]any{"exp": 1e300}), false},
		{"exp fractional", nil, access(map[string]any{"exp": float64(now.Unix()) + 3600.5}), true},
		{"nbf future", nil, access(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}), false},
		{"nbf within skew", nil, access(map[string]any{"nbf": now.Add(30 * time.Second).Unix()}), true},
		{"nbf beyond no skew", func(c *tokenverify.Config) { c.ClockSkew = -1 }, access(map[string]any{"nbf": now.Add(5 * time.Second).Unix()}), false},
		{"iat future", nil, access(map[string]any{"iat": now.Add(5 * time.Minute).Unix()}), false},
		{"iat a string", nil, access(map[string]any{"iat": "now"}), false},
		{"groups not a list", nil, access(map[string]any{"cognito:groups": "admin"}), false},
		{"groups with a number", nil, access(map[string]any{"cognito:groups": []any{"admin", 1}}), false},
		{"sub not a string", nil, access(map[string]any{"sub": 1}), false},
		{"username not a string", nil, access(map[string]any{"username": []string{"a"}}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := l.verifier(t, tc.cfg)
			c, err := v.Verify(t.Context(), l.sign(t, tc.claims))
			if !tc.ok {
				wantInvalid(t, c, err)
				return
			}
			if err != nil || c == nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestClaimsFields(t *testing.T) {
	l := newLocal(t)
	now := time.Now().Truncate(time.Second)
	c, err := l.verifier(t, nil).Verify(t.Context(), l.sign(t, map[string]any{
		"iss": l.issuer, "token_use": "id", "aud": "client1", "sub": "s", "cognito:username": "ada",
		"email": "ada@example.com", "cognito:groups": []string{"a", "b"}, "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "auth_time": now.Add(-time.Minute).Unix(), "custom:tier": "gold",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := tokenverify.Claims{
		Subject: "s", Username: "ada", Email: "ada@example.com", TokenUse: "id", ClientID: "client1",
		Groups: []string{"a", "b"}, Expires: now.Add(time.Hour), IssuedAt: now, AuthTime: now.Add(-time.Minute),
	}
	got := *c
	got.Raw = nil
	if !equalClaims(got, want) {
		t.Fatalf("claims %+v, want %+v", got, want)
	}
	if c.Raw["custom:tier"] != "gold" || c.Raw["exp"] != float64(now.Add(time.Hour).Unix()) {
		t.Fatalf("Raw %v", c.Raw)
	}
}

func equalClaims(a, b tokenverify.Claims) bool {
	return a.Subject == b.Subject && a.Username == b.Username && a.Email == b.Email && a.TokenUse == b.TokenUse &&
		a.ClientID == b.ClientID && strings.Join(a.Groups, ",") == strings.Join(b.Groups, ",") &&
		a.Expires.Equal(b.Expires) && a.IssuedAt.Equal(b.IssuedAt) && a.AuthTime.Equal(b.AuthTime)
}
