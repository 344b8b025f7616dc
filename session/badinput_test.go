package session_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/session"
	"github.com/cognate-auth/cognate/userpool"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jwtParts decodes a token's header and payload.
func jwtParts(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	return header, payload
}

func encodeJSON(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// rs256 signs header.payload with key.
func rs256(t *testing.T, key *rsa.PrivateKey, header, payload map[string]any) string {
	t.Helper()
	input := encodeJSON(header) + "." + encodeJSON(payload)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// poolPublicKeyPEM is the pool's first JWKS key as PEM (what an HS256
// key-confusion attack uses as the HMAC secret).
func poolPublicKeyPEM(t *testing.T, p *idp) []byte {
	t.Helper()
	resp, err := session.InProcess(p.handler).Get(p.url + "/" + p.pool + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ N, E string } }
	json.NewDecoder(resp.Body).Decode(&set)
	n, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].N)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// victim is a signed-in session to tamper with.
type victim struct {
	a             *app
	base          string // its Cookie header
	access, idTok string
}

func newVictim(t *testing.T, user string) victim {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, user, false)
	b, access := a.signedIn(user)
	v := victim{a: a, base: b.cookieHeader(a), access: access}
	for _, part := range strings.Split(v.base, "; ") {
		if name, val, _ := strings.Cut(part, "="); name == a.tokenName(user, "idToken") {
			v.idTok = val
		}
	}
	return v
}

// TestForgedTokens: forged or foreign tokens sign the request out and
// are cleared, never cause a 500, and never a refresh.
func TestForgedTokens(t *testing.T) {
	v := newVictim(t, "target")
	a, p, base, access, idTok := v.a, v.a.idp, v.base, v.access, v.idTok
	hdr, claims := jwtParts(t, access)
	own, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	with := func(kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range claims {
			out[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	hs := func(key []byte) string {
		input := encodeJSON(map[string]any{"alg": "HS256", "kid": hdr["kid"], "typ": "JWT"}) + "." + encodeJSON(claims)
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	otherPool := tokenOfDefaultPool(t, p)
	otherClient := tokenOfOtherClient(t, p)
	parts := strings.Split(access, ".")
	long := time.Now().Add(time.Hour).Unix()
	past := time.Now().Add(-time.Hour).Unix()

	forged := map[string]string{
		"alg none":               encodeJSON(map[string]any{"alg": "none", "kid": hdr["kid"]}) + "." + parts[1] + ".",
		"alg none, no sig":       encodeJSON(map[string]any{"alg": "none"}) + "." + parts[1],
		"HS256 with the pub key": hs(poolPublicKeyPEM(t, p)),
		"unknown kid":            rs256(t, own, map[string]any{"alg": "RS256", "kid": "nope"}, with("exp", long)),
		"known kid, other key":   rs256(t, own, map[string]any{"alg": "RS256", "kid": hdr["kid"]}, with("exp", long)),
		"expired, bad signature": rs256(t, own, map[string]any{"alg": "RS256", "kid": hdr["kid"]}, with("exp", past)),
		"other issuer":           otherPool,
		"other client":           otherClient,
		"id token as access":     idTok,
		"tampered payload":       parts[0] + "." + encodeJSON(with("username", "admin", "cognito:groups", []string{"admin"})) + "." + parts[2],
		"truncated":              access[:len(access)/2],
		"garbage":                "not.a.jwt",
		"percent junk":           "%%%",
		"bad utf-8 escape":       "%FF%FE",
		"quoted empty":           `"`,
	}
	accName := a.tokenName("target", "accessToken")
	before := a.stats.refreshCalls.Load()
	for name, tok := range forged {
		header := strings.Replace(base, accName+"="+access, accName+"="+tok, 1)
		resp := a.rawGet("/private", header, "Accept", "application/json")
		st := decode(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || st.User != "" {
			t.Errorf("%s: %d, user %q", name, resp.StatusCode, st.User)
		}
		cleared := false
		for _, sc := range setCookiesOf(resp) {
			cleared = cleared || (sc.name == accName && sc.deletes())
		}
		if !cleared && tok != `"` && tok != "%FF%FE" {
			t.Errorf("%s: the bad access cookie was not cleared", name)
		}
	}
	if n := a.stats.refreshCalls.Load() - before; n != 0 {
		t.Errorf("forged tokens caused %d refresh calls", n)
	}
}

// TestMalformedCookies: around a valid session, cookies that are not its
// own are ignored, and oversized ones drop the session; never a 500.
func TestMalformedCookies(t *testing.T) {
	v := newVictim(t, "target2")
	a, base, access := v.a, v.base, v.access
	accName := a.tokenName("target2", "accessToken")
	before := a.stats.refreshCalls.Load()
	for name, tc := range map[string]struct {
		header string
		user   string
	}{
		"undecodable name":  {base + "; CognitoIdentityServiceProvider." + a.client + ".%ZZ.accessToken=x", "target2"},
		"bad LastAuthUser":  {"CognitoIdentityServiceProvider." + a.client + ".LastAuthUser=%FF; " + base, "target2"},
		"other client":      {base + "; CognitoIdentityServiceProvider.other.target.accessToken=x", "target2"},
		"no equals sign":    {"junk; " + base + "; ;;=; =x", "target2"},
		"oversized access":  {strings.Replace(base, accName+"="+access, accName+"="+access+strings.Repeat("A", 4096), 1), ""},
		"64 KiB of cookies": {base + strings.Repeat("; CognitoIdentityServiceProvider."+a.client+".x.signInDetails="+strings.Repeat("z", 3000), 25), ""},
		"truncated header":  {base[:len(base)-40], "target2"},
		"odd clockDrift":    {base + "; CognitoIdentityServiceProvider." + a.client + ".target2.clockDrift=\"a b\"", "target2"},
	} {
		resp := a.rawGet("/", tc.header)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", name, resp.StatusCode)
		}
		if st := decode(t, resp); st.User != tc.user {
			t.Errorf("%s: user %q, want %q", name, st.User, tc.user)
		}
	}
	if n := a.stats.refreshCalls.Load() - before; n != 0 {
		t.Errorf("malformed cookies caused %d refresh calls", n)
	}
}

// TestCookieFixesAreNeverRemembered: the header cache keeps only
// resolutions that needed no cookie fix, so a Cookie header carrying a
// duplicate (or a forged) token cookie is fixed on every request that
// carries it, never served from memory without the fix.
func TestCookieFixesAreNeverRemembered(t *testing.T) {
	p := newIDP(t)
	a := newApp(t, p, appOpts{})
	p.user(t, "fixes", false)
	b, access := a.signedIn("fixes")
	acc := a.tokenName("fixes", "accessToken")
	base := b.cookieHeader(a)
	for name, header := range map[string]string{
		"duplicate": strings.Replace(base, acc+"="+access, acc+"="+access+"; "+acc+"=junk", 1),
		"forged":    strings.Replace(base, acc+"="+access, acc+"="+forge(t, access), 1),
	} {
		for i := range 3 {
			resp := a.rawGet("/", header)
			st := decode(t, resp)
			fixed := false
			for _, sc := range setCookiesOf(resp) {
				fixed = fixed || sc.name == acc
			}
			if !fixed {
				t.Errorf("%s, request %d: the access cookie was not fixed (user %q)", name, i+1, st.User)
			}
			if name == "forged" && st.User != "" {
				t.Errorf("forged, request %d: signed in as %q", i+1, st.User)
			}
		}
	}
	// The clean header, for contrast, resolves with no cookie written.
	for range 2 {
		if resp := a.rawGet("/", base); len(setCookiesOf(resp)) != 0 {
			t.Fatalf("a clean session wrote cookies: %v", resp.Header["Set-Cookie"])
		}
	}
}

// tokenOfDefaultPool signs a user into Cognate's default pool: a genuine
// token of another issuer.
func tokenOfDefaultPool(t *testing.T, p *idp) string {
	t.Helper()
	ctx := context.Background()
	email := "other-pool-" + time.Now().Format("150405.000000") + "@example.com"
	if _, err := p.srv.Service().AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: p.srv.Pool.ID, Username: email, MessageAction: "SUPPRESS", TemporaryPassword: password,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.srv.Service().AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{
		UserPoolId: p.srv.Pool.ID, Username: email, Password: password, Permanent: true,
	}); err != nil {
		t.Fatal(err)
	}
	return srpToken(t, p, p.srv.Pool.ID, p.srv.Client.ClientID, email)
}

// tokenOfOtherClient is a genuine token of the same pool for another app
// client.
func tokenOfOtherClient(t *testing.T, p *idp) string {
	t.Helper()
	client := p.client(t, "http://localhost:1", clientOpts{})
	p.user(t, "other-client-user", false)
	return srpToken(t, p, p.pool, client, "other-client-user")
}

func srpToken(t *testing.T, p *idp, pool, client, user string) string {
	t.Helper()
	ic, err := issuerclient.New(issuerclient.Config{UserPoolID: pool, ClientID: client, Endpoint: p.url, HTTPClient: session.InProcess(p.handler)})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ic.SignInSRP(context.Background(), user, password)
	if err != nil || res.Tokens == nil {
		t.Fatalf("SignInSRP %s: %v %+v", user, err, res)
	}
	return res.Tokens.AccessToken
}
