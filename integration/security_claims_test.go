package integration_test

// Tests that back claims of docs/SECURITY.md which no other test proves,
// through the wire and the server's own data directory.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"
)

// databaseBytes is everything SQLite keeps on disk for e: the database
// file, its write-ahead log and shared-memory index.
func (e *env) databaseBytes() []byte {
	e.t.Helper()
	files, err := filepath.Glob(filepath.Join(e.data, "cognate.db*"))
	if err != nil || len(files) == 0 {
		e.t.Fatalf("database files: %v %v", files, err)
	}
	var all []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestSecretsNotStoredInClear signs a user up and in (the refresh token is
// 48 random bytes), then reads the database files byte for byte: the password is not there in any form a
// scan finds, nor the refresh token; what is there is the SRP salt the
// server hands out and the refresh token's SHA-256 (which shows the scan
// sees what was written).
func TestSecretsNotStoredInClear(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const pw = "Unmistakable-Passw0rd-7431"
	must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("vault@example.com"), Password: aws.String(pw)}))(t)
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("vault@example.com"), ConfirmationCode: aws.String(e.code("vault@example.com", "sign_up")),
	}))(t)
	tok := e.signIn(e.pub, "vault@example.com", pw)
	_, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "vault@example.com", nil))
	salt, err := hex.DecodeString(cp["SALT"])
	if err != nil {
		t.Fatal(err)
	}
	refresh := aws.ToString(tok.RefreshToken)
	if raw, err := base64.RawURLEncoding.DecodeString(refresh); err != nil || len(raw) != 48 {
		t.Fatalf("refresh token %q: %d bytes (%v), want 48 random bytes", refresh, len(raw), err)
	}
	sum := sha256.Sum256([]byte(refresh))

	db := e.databaseBytes()
	if !bytes.Contains(db, salt) || !bytes.Contains(db, sum[:]) {
		t.Fatalf("the scan does not see the SRP salt (%v) or the refresh token's SHA-256 (%v)", bytes.Contains(db, salt), bytes.Contains(db, sum[:]))
	}
	for name, secret := range map[string]string{
		"password": pw, "password, lower case": strings.ToLower(pw), "refresh token": refresh,
		"refresh token's first half": refresh[:len(refresh)/2], "access token's signature": aws.ToString(tok.AccessToken)[strings.LastIndexByte(aws.ToString(tok.AccessToken), '.')+1:],
	} {
		if bytes.Contains(db, []byte(secret)) {
			t.Errorf("the database files hold the %s in clear", name)
		}
	}
}

// TestOversizedPasswordIsNotEvaluated: a password longer than Cognito's
// 256 characters is refused before any hashing — at sign-up with
// InvalidParameterException, at sign-in and ChangePassword with
// NotAuthorizedException that does not count toward the lock.
func TestOversizedPasswordIsNotEvaluated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	long := strings.Repeat("Aa1!", 65) // 260 characters
	_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("long@example.com"), Password: aws.String(long)})
	wantErr(t, err, "InvalidParameterException")
	e.signUp(e.pub, "long@example.com")
	tok := e.signIn(e.pub, "long@example.com", password)
	huge := strings.Repeat("é", 600) // 1,200 bytes: more than 256 characters can take
	for range 8 {
		_, err := e.passwordAuth(e.pub, "long@example.com", huge)
		wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
		_, err = e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
			AccessToken: tok.AccessToken, PreviousPassword: aws.String(huge), ProposedPassword: aws.String(password2),
		})
		wantErr(t, err, "NotAuthorizedException")
	}
	// Sixteen refusals, none counted: the user is not locked.
	e.signIn(e.pub, "long@example.com", password)
}

// TestOAuthSecretsNotStoredInClear: after a hosted sign-in and a code
// exchange — the pool session cookie, the code and the refresh token each
// 48 random bytes — the database files hold the SHA-256 of the pool session
// cookie, the authorization code and the refresh token, and none of the
// three in clear.
func TestOAuthSecretsNotStoredInClear(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	e.newUser("oauth-vault@example.com")
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	req, code := b.login(conf, "oauth-vault@example.com", password)
	session := b.sessionCookie()
	if session == nil {
		t.Fatal("no pool session cookie")
	}
	tok := e.exchange(conf, req, code)
	db := e.databaseBytes()
	for name, secret := range map[string]string{
		"pool session cookie": session.Value, "authorization code": code, "refresh token": tok.RefreshToken,
	} {
		if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 48 {
			t.Errorf("the %s is %d bytes (%v), want 48 random bytes", name, len(raw), err)
		}
		sum := sha256.Sum256([]byte(secret))
		if !bytes.Contains(db, sum[:]) {
			t.Errorf("the %s's SHA-256 is not in the database files", name)
		}
		if bytes.Contains(db, []byte(secret)) {
			t.Errorf("the database files hold the %s in clear", name)
		}
	}
}

// TestOAuthIDTokenReleasesOnlyGrantedClaims: an id token carries email
// claims only with the email scope and profile claims (name) only with
// the profile scope, however many attributes the user has.
func TestOAuthIDTokenReleasesOnlyGrantedClaims(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	e.newUser("scoped@example.com") // with a name
	b := e.newBrowser()
	for _, tc := range []struct {
		scopes      []string
		email, name bool
	}{
		{[]string{"openid"}, false, false},
		{[]string{"openid", "email"}, true, false},
		{[]string{"openid", "profile"}, false, true},
		{[]string{"openid", "email", "profile"}, true, true},
	} {
		conf := e.rpConfig(client, "", tc.scopes...)
		r := newCodeRequest(conf, oauth2.SetAuthURLParam("prompt", "login"))
		page := b.get(r.url).wantPage(t, "/login")
		tok := e.exchange(conf, r, b.signIn(page, "scoped@example.com", password).wantCode(t, r.state))
		c := claims(t, idToken(tok))
		_, email := c["email"]
		_, verified := c["email_verified"]
		_, name := c["name"]
		if email != tc.email || verified != tc.email || name != tc.name {
			t.Errorf("scopes %v: email %v, email_verified %v, name %v in the id token; want email %v, name %v",
				tc.scopes, email, verified, name, tc.email, tc.name)
		}
	}
}

// TestClientCredentialsOnlyForConfidentialMachineClients: an app client
// may have the client_credentials grant only with a secret and without
// the code or implicit flows, so a machine grant never shares a client
// with user sign-in.
func TestClientCredentialsOnlyForConfidentialMachineClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	create := func(secret bool, flows ...types.OAuthFlowType) error {
		_, err := e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
			UserPoolId: aws.String(e.pool), ClientName: aws.String("machine"), GenerateSecret: secret,
			AllowedOAuthFlowsUserPoolClient: true, AllowedOAuthFlows: flows, AllowedOAuthScopes: []string{"api/read"},
			CallbackURLs: []string{"https://rp.example/cb"},
		})
		return err
	}
	wantErr(t, create(true, types.OAuthFlowTypeClientCredentials, types.OAuthFlowTypeCode), "InvalidParameterException")
	wantErr(t, create(true, types.OAuthFlowTypeClientCredentials, types.OAuthFlowTypeImplicit), "InvalidParameterException")
	wantErr(t, create(false, types.OAuthFlowTypeClientCredentials), "InvalidParameterException")
	if err := create(true, types.OAuthFlowTypeClientCredentials); err != nil {
		t.Fatalf("a confidential machine client: %v", err)
	}
}

// TestPoolSigningKeys: each pool publishes two RSA-2048 RS256 keys, one
// signing its access tokens and one its id tokens, and no pool shares a
// key with another.
func TestPoolSigningKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("other")}))(t).UserPool.Id)
	kids := func(pool string) map[string]bool {
		t.Helper()
		r := e.do(must(http.NewRequestWithContext(e.ctx, http.MethodGet, e.url+"/"+pool+"/.well-known/jwks.json", nil))(t))
		var doc struct {
			Keys []struct{ Kty, Alg, Use, Kid, N, E string }
		}
		if err := json.Unmarshal(r.body, &doc); err != nil || r.status != http.StatusOK {
			t.Fatalf("JWKS of %s: %d %s", pool, r.status, r.body)
		}
		out := map[string]bool{}
		for _, k := range doc.Keys {
			n, err := base64.RawURLEncoding.DecodeString(k.N)
			if k.Kty != "RSA" || k.Alg != "RS256" || err != nil || len(n) != 256 || n[0]&0x80 == 0 || k.E != "AQAB" {
				t.Errorf("pool %s key %s: kty %s alg %s, %d-byte modulus, e %s", pool, k.Kid, k.Kty, k.Alg, len(n), k.E)
			}
			out[k.Kid] = true
		}
		if len(out) != 2 {
			t.Errorf("pool %s publishes %d keys, want 2", pool, len(out))
		}
		return out
	}
	mine, theirs := kids(e.pool), kids(other)
	for kid := range mine {
		if theirs[kid] {
			t.Errorf("pools %s and %s share key %s", e.pool, other, kid)
		}
	}
	e.signUp(e.pub, "keys@example.com")
	tok := e.signIn(e.pub, "keys@example.com", password)
	ah, _, _ := jwtParts(t, aws.ToString(tok.AccessToken))
	ih, _, _ := jwtParts(t, aws.ToString(tok.IdToken))
	if ah["kid"] == ih["kid"] || !mine[ah["kid"].(string)] || !mine[ih["kid"].(string)] {
		t.Errorf("access token kid %v, id token kid %v, pool keys %v", ah["kid"], ih["kid"], mine)
	}
}

// TestSignedTokensWithWrongClaims: access tokens signed with the pool's
// real access key are still refused by every token-authorised operation
// when their claims are wrong: another issuer, another token_use, no exp.
func TestSignedTokensWithWrongClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "claims@example.com")
	tok := e.signIn(e.pub, "claims@example.com", password)
	_, p, _ := jwtParts(t, aws.ToString(tok.AccessToken))
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range p {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	for name, claims := range map[string]map[string]any{
		"other issuer":      with("iss", "https://cognito-idp.us-east-1.amazonaws.com/"+e.pool),
		"issuer with slash": with("iss", e.url+"/"+e.pool+"/"),
		"token_use id":      with("token_use", "id"),
		"no token_use":      with("token_use", nil),
		"no exp":            with("exp", nil),
	} {
		signed, err := e.srv.Service().Keys().Sign(e.ctx, e.pool, "access", claims)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.getUser(aws.String(signed))
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
			AccessToken: aws.String(signed), PreviousPassword: aws.String(password), ProposedPassword: aws.String(password2),
		})
		if err == nil {
			t.Fatalf("%s: ChangePassword accepted the token", name)
		}
	}
	// The genuine token, for contrast, works.
	must(e.getUser(tok.AccessToken))(t)
	e.signIn(e.pub, "claims@example.com", password)
}
