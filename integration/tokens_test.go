package integration_test

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// TestRevokeToken: revoking a refresh token ends that sign-in only. The
// client rotates refresh tokens, so that the revoked sign-in's rotated
// refresh token is checked too.
func TestRevokeToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "rev@example.com")
	client, _ := e.newClient(e.pool, rotation(true, 10))
	a := e.signIn(client, "rev@example.com", password)
	b := e.srpSignIn(e.pool, client, "rev@example.com", password)
	aNext := must(e.refresh(client, "", a.RefreshToken))(t)

	_, err := e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: a.AccessToken})
	wantErr(t, err, "UnsupportedTokenTypeException")
	other, _ := e.newClient(e.pool)
	_, err = e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(other), Token: a.RefreshToken})
	wantErr(t, err, "NotAuthorizedException")
	must(e.getUser(a.AccessToken))(t) // the refused calls revoked nothing

	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: a.RefreshToken}))(t)
	for _, at := range []*string{a.AccessToken, aNext.AccessToken} {
		_, err = e.getUser(at)
		wantMessage(t, err, "NotAuthorizedException", "Access Token has been revoked")
	}
	for _, rt := range []*string{a.RefreshToken, aNext.RefreshToken} {
		_, err = e.refresh(client, "", rt)
		wantErr(t, err, "NotAuthorizedException")
	}
	must(e.getUser(b.AccessToken))(t)
	must(e.refresh(client, "", b.RefreshToken))(t)
	// Revoking again, or an unknown token, succeeds quietly (RFC 7009).
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: a.RefreshToken}))(t)
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: aws.String("unknown")}))(t)

	off := aws.ToString(must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientName: aws.String("norevoke"), ExplicitAuthFlows: allFlows, EnableTokenRevocation: aws.Bool(false),
	}))(t).UserPoolClient.ClientId)
	c := e.signIn(off, "rev@example.com", password)
	_, err = e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(off), Token: c.RefreshToken})
	wantErr(t, err, "UnsupportedOperationException")
}

// TestGlobalSignOut: every token issued before is refused afterwards.
func TestGlobalSignOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "gso@example.com")
	e.signUp(e.pub, "other@example.com")
	other, _ := e.newClient(e.pool, rotation(false, 0))
	a := e.signIn(e.pub, "gso@example.com", password)
	b := e.srpSignIn(e.pool, other, "gso@example.com", password)
	bystander := e.signIn(e.pub, "other@example.com", password)

	must(e.api.GlobalSignOut(e.ctx, &cip.GlobalSignOutInput{AccessToken: b.AccessToken}))(t)
	for _, tok := range []struct {
		client string
		res    *types.AuthenticationResultType
	}{{e.pub, a}, {other, b}} {
		_, err := e.getUser(tok.res.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(tok.client, "", tok.res.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")
	}
	_, err := e.api.GlobalSignOut(e.ctx, &cip.GlobalSignOutInput{AccessToken: a.AccessToken})
	wantErr(t, err, "NotAuthorizedException")
	must(e.getUser(bystander.AccessToken))(t)
	must(e.getUser(e.signIn(e.pub, "gso@example.com", password).AccessToken))(t)
}

// jwtParts splits a token into its decoded header and payload.
func jwtParts(t *testing.T, tok string) (header, payload map[string]any, sig string) {
	t.Helper()
	p := strings.Split(tok, ".")
	dec := func(s string) map[string]any {
		raw, err := b64url.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	return dec(p[0]), dec(p[1]), p[2]
}

func enc(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64url.EncodeToString(b)
}

// TestForgedTokens: access tokens that are not exactly what the server
// signed, or that belong to a sign-in or user that is gone, are refused by
// every token-authorised operation, which then changes nothing.
func TestForgedTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "victim@example.com", attrT("given_name", "Vic"))
	otherSub := e.signUp(e.pub, "other@example.com")
	tok := e.signIn(e.pub, "victim@example.com", password)
	access := aws.ToString(tok.AccessToken)
	h, p, sig := jwtParts(t, access)
	hp := strings.Join(strings.Split(access, ".")[:2], ".")

	attacker, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs256 := func(key *rsa.PrivateKey, input string) string {
		d := sha256.Sum256([]byte(input))
		s, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return b64url.EncodeToString(s)
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	none := enc(t, with(h, "alg", "none"))
	hs := enc(t, with(h, "alg", "HS256"))
	mac := hmac.New(sha256.New, []byte("secret"))
	mac.Write([]byte(hs + "." + enc(t, p)))
	expired := with(with(p, "exp", time.Now().Add(-time.Minute).Unix()), "iat", time.Now().Add(-61*time.Minute).Unix())
	expiredTok, err := e.srv.Service().Keys().Sign(e.ctx, e.pool, "access", expired)
	if err != nil {
		t.Fatal(err)
	}
	// Signed with the server's real key, but as an id-token key would.
	idKeyed, err := e.srv.Service().Keys().Sign(e.ctx, e.pool, "id", p)
	if err != nil {
		t.Fatal(err)
	}
	otherPool := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{PoolName: aws.String("elsewhere")}))(t).UserPool.Id)
	otherPoolKeyed, err := e.srv.Service().Keys().Sign(e.ctx, otherPool, "access", p)
	if err != nil {
		t.Fatal(err)
	}
	// A genuine token whose sign-in ended, and one whose user is gone.
	revoked := e.signIn(e.pub, "victim@example.com", password)
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pub), Token: revoked.RefreshToken}))(t)
	e.signUp(e.pub, "gone@example.com")
	goneTok := e.signIn(e.pub, "gone@example.com", password)
	must(e.api.AdminDeleteUser(e.ctx, &cip.AdminDeleteUserInput{UserPoolId: aws.String(e.pool), Username: aws.String("gone@example.com")}))(t)
	// The deleted address, signed up again: a new user the old token must
	// not reach.
	e.signUp(e.pub, "gone@example.com")

	forged := []struct{ name, token string }{
		{"re-signed with another key", hp + "." + rs256(attacker, hp)},
		{"attacker key, attacker kid", enc(t, with(h, "kid", "attacker")) + "." + enc(t, p) + "." + rs256(attacker, enc(t, with(h, "kid", "attacker"))+"."+enc(t, p))},
		{"alg none, no signature", none + "." + enc(t, p) + "."},
		{"alg none, original signature", none + "." + enc(t, p) + "." + sig},
		{"alg HS256", hs + "." + enc(t, p) + "." + b64url.EncodeToString(mac.Sum(nil))},
		{"payload: other username", h0(hp) + "." + enc(t, with(p, "username", otherSub)) + "." + sig},
		{"payload: other sub", h0(hp) + "." + enc(t, with(p, "sub", otherSub)) + "." + sig},
		{"payload: later exp", h0(hp) + "." + enc(t, with(p, "exp", time.Now().Add(24*time.Hour).Unix())) + "." + sig},
		{"payload: scope", h0(hp) + "." + enc(t, with(p, "scope", "aws.cognito.signin.user.admin openid")) + "." + sig},
		{"signature truncated", access[:len(access)-4]},
		{"signature of zeros", hp + "." + b64url.EncodeToString(make([]byte, 256))},
		{"padded base64", hp + "." + base64.URLEncoding.EncodeToString([]byte("x"))},
		{"expired, real key", expiredTok},
		{"id-token key", idKeyed},
		{"id token", aws.ToString(tok.IdToken)},
		{"other pool's key", otherPoolKeyed},
		{"revoked sign-in", aws.ToString(revoked.AccessToken)},
		{"deleted user", aws.ToString(goneTok.AccessToken)},
		{"two segments", hp},
		{"four segments", access + ".x"},
		{"garbage", "not-a-token"},
		{"huge", strings.Repeat("A", 20000) + "." + strings.Repeat("A", 20000) + "." + strings.Repeat("A", 20000)},
		{"refresh token", aws.ToString(tok.RefreshToken)},
	}
	ops := map[string]func(at string) error{
		"GetUser": func(at string) error {
			_, err := e.getUser(aws.String(at))
			return err
		},
		"UpdateUserAttributes": func(at string) error {
			_, err := e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{AccessToken: aws.String(at), UserAttributes: []types.AttributeType{attrT("given_name", "Pwned")}})
			return err
		},
		"DeleteUserAttributes": func(at string) error {
			_, err := e.api.DeleteUserAttributes(e.ctx, &cip.DeleteUserAttributesInput{AccessToken: aws.String(at), UserAttributeNames: []string{"given_name"}})
			return err
		},
		"ChangePassword": func(at string) error {
			_, err := e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{AccessToken: aws.String(at), PreviousPassword: aws.String(password), ProposedPassword: aws.String("Pwned-Pass-1")})
			return err
		},
		"GetUserAttributeVerificationCode": func(at string) error {
			_, err := e.api.GetUserAttributeVerificationCode(e.ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: aws.String(at), AttributeName: aws.String("email")})
			return err
		},
		"VerifyUserAttribute": func(at string) error {
			_, err := e.api.VerifyUserAttribute(e.ctx, &cip.VerifyUserAttributeInput{AccessToken: aws.String(at), AttributeName: aws.String("email"), Code: aws.String("123456")})
			return err
		},
		"GlobalSignOut": func(at string) error {
			_, err := e.api.GlobalSignOut(e.ctx, &cip.GlobalSignOutInput{AccessToken: aws.String(at)})
			return err
		},
		"DeleteUser": func(at string) error {
			_, err := e.api.DeleteUser(e.ctx, &cip.DeleteUserInput{AccessToken: aws.String(at)})
			return err
		},
	}
	outbox := len(e.outbox())
	for _, f := range forged {
		t.Run(f.name, func(t *testing.T) {
			for name, op := range ops {
				err := op(f.token)
				if err == nil {
					t.Fatalf("%s accepted the token", name)
				}
				wantErr(t, err, "NotAuthorizedException")
			}
		})
	}
	wantMessage(t, ops["GetUser"](expiredTok), "NotAuthorizedException", "Access Token has expired")
	wantErr(t, ops["GetUser"](""), "InvalidParameterException")

	// Nothing happened to anyone.
	u := must(e.getUser(tok.AccessToken))(t)
	if aws.ToString(u.Username) != sub {
		t.Fatalf("GetUser %s", aws.ToString(u.Username))
	}
	if v, _ := attr(u.UserAttributes, "given_name"); v != "Vic" {
		t.Fatalf("given_name %q", v)
	}
	e.signIn(e.pub, "victim@example.com", password)
	must(e.refresh(e.pub, "", tok.RefreshToken))(t)
	must(e.adminGet(e.pool, otherSub))(t)
	must(e.adminGet(e.pool, "gone@example.com"))(t)
	if n := len(e.outbox()); n != outbox {
		t.Fatalf("%d codes sent on forged tokens", n-outbox)
	}
}

// h0 returns the header segment of "header.payload".
func h0(hp string) string { return hp[:strings.IndexByte(hp, '.')] }

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
