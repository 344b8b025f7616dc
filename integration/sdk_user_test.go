package integration_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/aws/smithy-go"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// verified holds the claims of a verified token pair.
type verified struct {
	access, id map[string]any
	accessKID  string
	idKID      string
}

// verify checks both tokens the way a backend would: the id token with
// go-oidc's discovery-based verifier (issuer, audience, expiry, RS256
// signature from the JWKS), the access token against the same JWKS with
// the client-id check off (access tokens carry client_id, not aud).
func (e *env) verify(t *testing.T, pool, client string, tok *types.AuthenticationResultType) verified {
	t.Helper()
	ctx := oidc.ClientContext(e.ctx, e.http)
	iss := e.url + "/" + pool
	prov, err := oidc.NewProvider(ctx, iss)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: client}).Verify(ctx, aws.ToString(tok.IdToken))
	if err != nil {
		t.Fatalf("id token: %v", err)
	}
	if idt.Issuer != iss || !slices.Equal(idt.Audience, []string{client}) {
		t.Fatalf("id token iss %s aud %v", idt.Issuer, idt.Audience)
	}
	keys := oidc.NewRemoteKeySet(ctx, iss+"/.well-known/jwks.json")
	if _, err := oidc.NewVerifier(iss, keys, &oidc.Config{SkipClientIDCheck: true}).Verify(ctx, aws.ToString(tok.AccessToken)); err != nil {
		t.Fatalf("access token: %v", err)
	}
	// A verifier that expects an audience refuses the access token.
	if _, err := oidc.NewVerifier(iss, keys, &oidc.Config{ClientID: client}).Verify(ctx, aws.ToString(tok.AccessToken)); err == nil {
		t.Fatal("access token passed an audience check: it must carry no aud")
	}
	v := verified{access: claims(t, aws.ToString(tok.AccessToken)), id: claims(t, aws.ToString(tok.IdToken))}
	for i, jwt := range []string{aws.ToString(tok.AccessToken), aws.ToString(tok.IdToken)} {
		sig, err := jose.ParseSignedCompact(jwt, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatalf("go-jose: %v", err)
		}
		h := sig.Signatures[0].Header
		if h.KeyID == "" || h.Algorithm != "RS256" {
			t.Fatalf("header kid %q alg %q", h.KeyID, h.Algorithm)
		}
		if i == 0 {
			v.accessKID = h.KeyID
		} else {
			v.idKID = h.KeyID
		}
	}
	if v.accessKID == v.idKID {
		t.Errorf("access and id tokens share kid %s", v.accessKID)
	}
	if tok.TokenType == nil || *tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 {
		t.Errorf("TokenType %v ExpiresIn %d", tok.TokenType, tok.ExpiresIn)
	}
	return v
}

func num(t *testing.T, m map[string]any, k string) int64 {
	t.Helper()
	n, ok := m[k].(json.Number)
	if !ok {
		t.Fatalf("claim %s = %#v, want a number", k, m[k])
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("claim %s = %s: %v", k, n, err)
	}
	return i
}

// checkClaims asserts every claim of reference §4 on a pair of tokens.
func checkClaims(t *testing.T, v verified, iss, client, username, email string) {
	t.Helper()
	a, id := v.access, v.id
	wantKeys := func(name string, m map[string]any, keys ...string) {
		t.Helper()
		got := slices.Sorted(maps.Keys(m))
		slices.Sort(keys)
		if !slices.Equal(got, keys) {
			t.Errorf("%s token claims %v, want %v", name, got, keys)
		}
	}
	wantKeys("access", a, "sub", "iss", "client_id", "origin_jti", "event_id", "token_use", "scope", "auth_time", "exp", "iat", "jti", "username")
	for k, want := range map[string]string{
		"sub": username, "iss": iss, "client_id": client, "token_use": "access",
		"scope": "aws.cognito.signin.user.admin", "username": username,
	} {
		if a[k] != want {
			t.Errorf("access %s = %v, want %s", k, a[k], want)
		}
	}
	for k, want := range map[string]any{
		"sub": username, "iss": iss, "aud": client, "token_use": "id", "cognito:username": username,
		"email": email, "email_verified": true,
	} {
		if id[k] != want {
			t.Errorf("id %s = %v, want %v", k, id[k], want)
		}
	}
	for _, k := range []string{"sub", "iss", "aud", "email_verified", "token_use", "auth_time", "cognito:username", "exp", "iat", "jti", "origin_jti", "event_id", "email"} {
		if _, ok := id[k]; !ok {
			t.Errorf("id token lacks %s", k)
		}
	}
	for _, m := range []map[string]any{a, id} {
		for _, k := range []string{"jti", "origin_jti", "event_id"} {
			if s, _ := m[k].(string); !uuidRE.MatchString(s) {
				t.Errorf("%s %v is not a UUID", k, m[k])
			}
		}
		if exp, iat := num(t, m, "exp"), num(t, m, "iat"); exp-iat != 3600 {
			t.Errorf("lifetime %d s, want 3600", exp-iat)
		}
		if at, iat := num(t, m, "auth_time"), num(t, m, "iat"); at > iat || time.Since(time.Unix(at, 0)) > time.Minute {
			t.Errorf("auth_time %d iat %d", at, iat)
		}
	}
	if a["origin_jti"] != id["origin_jti"] || a["event_id"] != id["event_id"] || num(t, a, "auth_time") != num(t, id, "auth_time") {
		t.Errorf("access and id tokens disagree on the sign-in: %v/%v %v/%v", a["origin_jti"], id["origin_jti"], a["event_id"], id["event_id"])
	}
	if a["jti"] == id["jti"] {
		t.Errorf("access and id tokens share jti %v", a["jti"])
	}
}

// TestSRPSignIn is Amplify's default path end to end: SignUp, the code
// from the outbox, ConfirmSignUp, USER_SRP_AUTH with PASSWORD_VERIFIER,
// verification of both tokens with off-the-shelf libraries, and refresh.
func TestSRPSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	up := must(e.api.SignUp(e.ctx, &cip.SignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("Srp@Example.com"), Password: aws.String(password),
		UserAttributes: []types.AttributeType{attrT("given_name", "Sam")},
	}))(t)
	sub := aws.ToString(up.UserSub)
	if up.UserConfirmed || !uuidRE.MatchString(sub) {
		t.Fatalf("SignUp: confirmed=%v sub=%q", up.UserConfirmed, sub)
	}
	d := up.CodeDeliveryDetails
	if d == nil || d.DeliveryMedium != types.DeliveryMediumTypeEmail || aws.ToString(d.AttributeName) != "email" || aws.ToString(d.Destination) != "s***@e***" {
		t.Fatalf("CodeDeliveryDetails %+v", d)
	}
	for _, again := range []string{"Srp@Example.com", "srp@example.com", "SRP@EXAMPLE.COM"} {
		_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String(again), Password: aws.String(password)})
		wantErr(t, err, "UsernameExistsException")
	}

	_, err := e.passwordAuth(e.pub, "Srp@Example.com", password)
	wantErr(t, err, "UserNotConfirmedException")
	code := e.code("Srp@Example.com", "sign_up")
	if !regexp.MustCompile(`^\d{6}$`).MatchString(code) {
		t.Fatalf("code %q", code)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	_, err = e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(e.pub), Username: aws.String("Srp@Example.com"), ConfirmationCode: aws.String(wrong)})
	wantErr(t, err, "CodeMismatchException")
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(e.pub), Username: aws.String("Srp@Example.com"), ConfirmationCode: aws.String(code)}))(t)
	// The code is spent: whoever submits it again is told so (which only
	// a holder of the code can be).
	_, err = e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(e.pub), Username: aws.String("Srp@Example.com"), ConfirmationCode: aws.String(code)})
	wantErr(t, err, "ExpiredCodeException")

	c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "srp@example.com", nil))
	for _, k := range []string{"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"} {
		if cp[k] == "" {
			t.Fatalf("challenge lacks %s: %v", k, cp)
		}
	}
	if cp["USER_ID_FOR_SRP"] != sub {
		t.Fatalf("USER_ID_FOR_SRP %q, want the sub %q", cp["USER_ID_FOR_SRP"], sub)
	}
	out := must(e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, e.srpAnswer(c, cp, password)))(t)
	if out.AuthenticationResult == nil || out.ChallengeName != "" {
		t.Fatalf("challenge %q instead of tokens", out.ChallengeName)
	}
	tok := out.AuthenticationResult
	if aws.ToString(tok.RefreshToken) == "" {
		t.Fatal("no refresh token")
	}
	iss := e.url + "/" + e.pool
	v := e.verify(t, e.pool, e.pub, tok)
	checkClaims(t, v, iss, e.pub, sub, "Srp@Example.com")
	if v.id["given_name"] != "Sam" {
		t.Errorf("given_name %v", v.id["given_name"])
	}

	u := must(e.getUser(tok.AccessToken))(t)
	if aws.ToString(u.Username) != sub {
		t.Fatalf("GetUser %s", aws.ToString(u.Username))
	}
	if ev, _ := attr(u.UserAttributes, "email_verified"); ev != "true" {
		t.Fatalf("email_verified %q after ConfirmSignUp", ev)
	}

	t.Run("refresh keeps the sign-in", func(t *testing.T) {
		time.Sleep(1100 * time.Millisecond) // so iat moves and auth_time visibly does not
		next := must(e.refresh(e.pub, "", tok.RefreshToken))(t)
		nv := e.verify(t, e.pool, e.pub, next)
		checkClaims(t, nv, iss, e.pub, sub, "Srp@Example.com")
		for _, pair := range [][2]map[string]any{{v.access, nv.access}, {v.id, nv.id}} {
			old, cur := pair[0], pair[1]
			for _, k := range []string{"origin_jti", "event_id", "auth_time"} {
				if old[k] != cur[k] {
					t.Errorf("%s changed across refresh: %v → %v", k, old[k], cur[k])
				}
			}
			if old["jti"] == cur["jti"] {
				t.Errorf("jti %v reused across refresh", cur["jti"])
			}
			if num(t, cur, "iat") <= num(t, old, "iat") {
				t.Errorf("iat did not move")
			}
		}
		if nv.accessKID != v.accessKID || nv.idKID != v.idKID {
			t.Errorf("signing keys changed")
		}
	})
}

// TestUserPasswordAuth covers USER_PASSWORD_AUTH and the client's flow
// list.
func TestUserPasswordAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "upa@example.com")
	for _, name := range []string{"upa@example.com", "UPA@example.com", sub} {
		tok := e.signIn(e.pub, name, password)
		checkClaims(t, e.verify(t, e.pool, e.pub, tok), e.url+"/"+e.pool, e.pub, sub, "upa@example.com")
	}
	_, err := e.passwordAuth(e.pub, "upa@example.com", password+"x")
	wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")

	srpOnly, _ := e.newClient(e.pool, func(in *cip.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{types.ExplicitAuthFlowsTypeAllowUserSrpAuth}
	})
	_, err = e.passwordAuth(srpOnly, "upa@example.com", password)
	wantErr(t, err, "InvalidParameterException")
	e.srpSignIn(e.pool, srpOnly, "upa@example.com", password)
	// Cognito's default flows (none listed) exclude USER_PASSWORD_AUTH.
	def := aws.ToString(must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{UserPoolId: aws.String(e.pool), ClientName: aws.String("def")}))(t).UserPoolClient.ClientId)
	_, err = e.passwordAuth(def, "upa@example.com", password)
	wantErr(t, err, "InvalidParameterException")
	_, err = e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{ClientId: aws.String(e.pub), AuthFlow: "CUSTOM_FLOW_X", AuthParameters: map[string]string{"USERNAME": "upa@example.com"}})
	wantErr(t, err, "InvalidParameterException")

	// A validity without a unit is in Cognito's default unit, hours.
	long := aws.ToString(must(e.api.CreateUserPoolClient(e.ctx, &cip.CreateUserPoolClientInput{
		UserPoolId: aws.String(e.pool), ClientName: aws.String("long"), ExplicitAuthFlows: allFlows, AccessTokenValidity: aws.Int32(3),
	}))(t).UserPoolClient.ClientId)
	if tok := e.signIn(long, "upa@example.com", password); tok.ExpiresIn != 3*3600 {
		t.Fatalf("ExpiresIn %d, want 3 hours", tok.ExpiresIn)
	}
}

// TestRefreshRotation covers GetTokensFromRefreshToken with rotation on
// (with and without a grace period: reuse revokes the whole sign-in) and
// off, and REFRESH_TOKEN_AUTH on both kinds of client.
func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "rot@example.com")

	t.Run("grace 0", func(t *testing.T) {
		t.Parallel()
		client, _ := e.newClient(e.pool, rotation(true, 0))
		tok := e.signIn(client, "rot@example.com", password)
		rt0 := tok.RefreshToken
		n1 := must(e.refresh(client, "", rt0))(t)
		rt1 := n1.RefreshToken
		if aws.ToString(rt1) == "" || aws.ToString(rt1) == aws.ToString(rt0) {
			t.Fatalf("rotation gave refresh token %q", aws.ToString(rt1))
		}
		n2 := must(e.refresh(client, "", rt1))(t)
		rt2 := n2.RefreshToken
		if aws.ToString(rt2) == aws.ToString(rt1) || aws.ToString(rt2) == "" {
			t.Fatal("second rotation did not rotate")
		}
		_, err := e.refresh(client, "", rt0)
		wantErr(t, err, "RefreshTokenReuseException")
		// Reuse ends the sign-in: the newest refresh token and the access
		// tokens issued under it are refused too.
		_, err = e.refresh(client, "", rt2)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.getUser(n2.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.getUser(tok.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
		// Other sign-ins are unaffected.
		must(e.refresh(client, "", e.signIn(client, "rot@example.com", password).RefreshToken))(t)
	})

	t.Run("grace 2", func(t *testing.T) {
		t.Parallel()
		client, _ := e.newClient(e.pool, rotation(true, 2))
		tok := e.signIn(client, "rot@example.com", password)
		rt0 := tok.RefreshToken
		rt1 := must(e.refresh(client, "", rt0))(t).RefreshToken
		// A retry with the old token inside the grace period still works
		// (two tabs refreshing at once).
		retry := must(e.refresh(client, "", rt0))(t)
		if aws.ToString(retry.RefreshToken) == "" || aws.ToString(retry.AccessToken) == "" {
			t.Fatal("no tokens on a retry inside the grace period")
		}
		must(e.getUser(retry.AccessToken))(t)
		time.Sleep(2200 * time.Millisecond)
		_, err := e.refresh(client, "", rt0)
		wantErr(t, err, "RefreshTokenReuseException")
		for _, rt := range []*string{rt1, retry.RefreshToken} {
			_, err = e.refresh(client, "", rt)
			wantErr(t, err, "NotAuthorizedException")
		}
		_, err = e.getUser(retry.AccessToken)
		wantErr(t, err, "NotAuthorizedException")
	})

	t.Run("rotation off", func(t *testing.T) {
		t.Parallel()
		client, _ := e.newClient(e.pool, rotation(false, 0))
		tok := e.signIn(client, "rot@example.com", password)
		for i := 0; i < 3; i++ {
			n := must(e.refresh(client, "", tok.RefreshToken))(t)
			if n.RefreshToken != nil {
				t.Fatalf("a new refresh token %q without rotation", aws.ToString(n.RefreshToken))
			}
			must(e.getUser(n.AccessToken))(t)
		}
		ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)},
		}))(t)
		if ia.AuthenticationResult == nil || ia.AuthenticationResult.RefreshToken != nil {
			t.Fatalf("REFRESH_TOKEN_AUTH: %+v", ia)
		}
		v := e.verify(t, e.pool, client, ia.AuthenticationResult)
		if v.access["origin_jti"] != claims(t, aws.ToString(tok.AccessToken))["origin_jti"] {
			t.Error("REFRESH_TOKEN_AUTH started a new sign-in")
		}
		// Another client's refresh token is not this client's.
		other := e.signIn(e.pub, "rot@example.com", password)
		_, err := e.refresh(client, "", other.RefreshToken)
		wantErr(t, err, "NotAuthorizedException")
		_, err = e.refresh(client, "", aws.String("not-a-refresh-token"))
		wantErr(t, err, "NotAuthorizedException")
	})

	t.Run("REFRESH_TOKEN_AUTH refused with rotation", func(t *testing.T) {
		t.Parallel()
		tok := e.signIn(e.pub, "rot@example.com", password)
		_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)},
		})
		wantErr(t, err, "NotAuthorizedException")
		// The refused attempt did not spend the token.
		must(e.refresh(e.pub, "", tok.RefreshToken))(t)
	})
}

// TestRevokeToken: revoking a refresh token ends that sign-in only.
func TestRevokeToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "rev@example.com")
	a := e.signIn(e.pub, "rev@example.com", password)
	b := e.srpSignIn(e.pool, e.pub, "rev@example.com", password)
	aNext := must(e.refresh(e.pub, "", a.RefreshToken))(t)

	_, err := e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pub), Token: a.AccessToken})
	wantErr(t, err, "UnsupportedTokenTypeException")
	other, _ := e.newClient(e.pool)
	_, err = e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(other), Token: a.RefreshToken})
	wantErr(t, err, "NotAuthorizedException")
	must(e.getUser(a.AccessToken))(t) // the refused calls revoked nothing

	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pub), Token: a.RefreshToken}))(t)
	for _, at := range []*string{a.AccessToken, aNext.AccessToken} {
		_, err = e.getUser(at)
		wantMessage(t, err, "NotAuthorizedException", "Access Token has been revoked")
	}
	for _, rt := range []*string{a.RefreshToken, aNext.RefreshToken} {
		_, err = e.refresh(e.pub, "", rt)
		wantErr(t, err, "NotAuthorizedException")
	}
	must(e.getUser(b.AccessToken))(t)
	must(e.refresh(e.pub, "", b.RefreshToken))(t)
	// Revoking again, or an unknown token, succeeds quietly (RFC 7009).
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pub), Token: a.RefreshToken}))(t)
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(e.pub), Token: aws.String("unknown")}))(t)

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

// TestChangePassword covers ChangePassword.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "chg@example.com")
	tok := e.signIn(e.pub, "chg@example.com", password)
	change := func(prev, next string) error {
		_, err := e.api.ChangePassword(e.ctx, &cip.ChangePasswordInput{
			AccessToken: tok.AccessToken, PreviousPassword: aws.String(prev), ProposedPassword: aws.String(next),
		})
		return err
	}
	wantErr(t, change("Wrong-Pass-1", password2), "NotAuthorizedException")
	wantErr(t, change(password, "weak"), "InvalidPasswordException")
	e.signIn(e.pub, "chg@example.com", password) // unchanged so far
	if err := change(password, password2); err != nil {
		t.Fatal(err)
	}
	_, err := e.passwordAuth(e.pub, "chg@example.com", password)
	wantErr(t, err, "NotAuthorizedException")
	e.signIn(e.pub, "chg@example.com", password2)
	e.srpSignIn(e.pool, e.pub, "chg@example.com", password2)
}

// TestForgotPassword covers ForgotPassword and ConfirmForgotPassword:
// codes are single-use, a wrong code counts, five wrong ones kill the
// code, and a reset ends existing sign-ins.
func TestForgotPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "fp@example.com")
	tok := e.signIn(e.pub, "fp@example.com", password)
	forgot := func() {
		t.Helper()
		d := must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String("fp@example.com")}))(t).CodeDeliveryDetails
		if d == nil || aws.ToString(d.Destination) != "f***@e***" || d.DeliveryMedium != types.DeliveryMediumTypeEmail {
			t.Fatalf("CodeDeliveryDetails %+v", d)
		}
	}
	confirm := func(code, pw string) error {
		_, err := e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{
			ClientId: aws.String(e.pub), Username: aws.String("fp@example.com"), ConfirmationCode: aws.String(code), Password: aws.String(pw),
		})
		return err
	}
	wrongFor := func(code string) string {
		if code == "999999" {
			return "999998"
		}
		return "999999"
	}

	forgot()
	code := e.code("fp@example.com", "forgot_password")
	wantErr(t, confirm(wrongFor(code), password2), "CodeMismatchException")
	wantErr(t, confirm(code, "weak"), "InvalidPasswordException")
	if err := confirm(code, password2); err != nil {
		t.Fatalf("right code after one wrong one: %v", err)
	}
	wantErr(t, confirm(code, "Third-Pass-3"), "ExpiredCodeException") // spent
	e.signIn(e.pub, "fp@example.com", password2)
	_, err := e.passwordAuth(e.pub, "fp@example.com", password)
	wantErr(t, err, "NotAuthorizedException")
	// The reset ended the sign-in made with the old password.
	_, err = e.getUser(tok.AccessToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.refresh(e.pub, "", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")

	forgot()
	code = e.code("fp@example.com", "forgot_password")
	for range 5 {
		wantErr(t, confirm(wrongFor(code), password), "CodeMismatchException")
	}
	lockedAt := time.Now()
	// Locked: even the right code is refused, and the password unchanged.
	wantErr(t, confirm(code, password), "LimitExceededException")
	e.signIn(e.pub, "fp@example.com", password2)
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))

	// A new code replaces the old one.
	forgot()
	first := e.code("fp@example.com", "forgot_password")
	forgot()
	second := e.code("fp@example.com", "forgot_password")
	if err := confirm(second, password); err != nil {
		t.Fatal(err)
	}
	if first != second {
		wantErr(t, confirm(first, password), "CodeMismatchException")
	}
	e.signIn(e.pub, "fp@example.com", password)
}

// TestUpdateEmail: a new email waits for its code, then replaces the old
// one for sign-in.
func TestUpdateEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "old@example.com")
	tok := e.signIn(e.pub, "old@example.com", password)
	out := must(e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken:    tok.AccessToken,
		UserAttributes: []types.AttributeType{attrT("email", "new@example.org"), attrT("given_name", "Neo")},
	}))(t)
	if len(out.CodeDeliveryDetailsList) != 1 || aws.ToString(out.CodeDeliveryDetailsList[0].AttributeName) != "email" ||
		aws.ToString(out.CodeDeliveryDetailsList[0].Destination) != "n***@e***" {
		t.Fatalf("CodeDeliveryDetailsList %+v", out.CodeDeliveryDetailsList)
	}
	code := e.code("new@example.org", "verify_attribute")

	// Until verified, the old email stays in force.
	u := must(e.getUser(tok.AccessToken))(t)
	if v, _ := attr(u.UserAttributes, "email"); v != "old@example.com" {
		t.Fatalf("email %q before verification", v)
	}
	if v, _ := attr(u.UserAttributes, "given_name"); v != "Neo" {
		t.Fatalf("given_name %q: unverified attributes apply at once", v)
	}
	e.signIn(e.pub, "old@example.com", password)
	_, err := e.passwordAuth(e.pub, "new@example.org", password)
	wantErr(t, err, "NotAuthorizedException")

	verify := func(c string) error {
		_, err := e.api.VerifyUserAttribute(e.ctx, &cip.VerifyUserAttributeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email"), Code: aws.String(c)})
		return err
	}
	wrong := "123456"
	if code == wrong {
		wrong = "654321"
	}
	wantErr(t, verify(wrong), "CodeMismatchException")
	if err := verify(code); err != nil {
		t.Fatal(err)
	}
	u = must(e.getUser(tok.AccessToken))(t)
	if v, _ := attr(u.UserAttributes, "email"); v != "new@example.org" {
		t.Fatalf("email %q after verification", v)
	}
	if v, _ := attr(u.UserAttributes, "email_verified"); v != "true" {
		t.Fatalf("email_verified %q", v)
	}
	// Restating the same email (as forms do) keeps it verified.
	must(e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email", "new@example.org"), attrT("family_name", "One")},
	}))(t)
	if v, _ := attr(must(e.getUser(tok.AccessToken))(t).UserAttributes, "email_verified"); v != "true" {
		t.Fatalf("email_verified %q after restating the same email", v)
	}
	_, err = e.passwordAuth(e.pub, "old@example.com", password)
	wantErr(t, err, "NotAuthorizedException")
	next := e.signIn(e.pub, "new@example.org", password)
	if c := claims(t, aws.ToString(next.IdToken)); c["email"] != "new@example.org" || c["cognito:username"] != sub {
		t.Fatalf("id token email %v username %v", c["email"], c["cognito:username"])
	}
	g := must(e.adminGet(e.pool, "new@example.org"))(t)
	if aws.ToString(g.Username) != sub {
		t.Fatalf("AdminGetUser by the new email: %s", aws.ToString(g.Username))
	}
	_, err = e.adminGet(e.pool, "old@example.com")
	wantErr(t, err, "UserNotFoundException")
	wantErr(t, verify(code), "ExpiredCodeException") // spent

	// An address another user holds cannot be taken.
	e.signUp(e.pub, "taken@example.com")
	_, err = e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email", "taken@example.com")},
	})
	wantErr(t, err, "AliasExistsException")
	_, err = e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email_verified", "true")},
	})
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("custom:nope", "x")},
	})
	wantErr(t, err, "InvalidParameterException")
}

// TestDeleteUserAttributes covers DeleteUserAttributes.
func TestDeleteUserAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.signUp(e.pub, "del@example.com", attrT("given_name", "Del"), attrT("family_name", "Eted"))
	tok := e.signIn(e.pub, "del@example.com", password)
	del := func(names ...string) error {
		_, err := e.api.DeleteUserAttributes(e.ctx, &cip.DeleteUserAttributesInput{AccessToken: tok.AccessToken, UserAttributeNames: names})
		return err
	}
	wantErr(t, del("email"), "InvalidParameterException")
	wantErr(t, del("sub"), "InvalidParameterException")
	wantErr(t, del("given_name", "no_such_attribute"), "InvalidParameterException")
	if v, _ := attr(must(e.getUser(tok.AccessToken))(t).UserAttributes, "given_name"); v != "Del" {
		t.Fatal("a refused delete removed given_name")
	}
	if err := del("given_name"); err != nil {
		t.Fatal(err)
	}
	u := must(e.getUser(tok.AccessToken))(t)
	if _, ok := attr(u.UserAttributes, "given_name"); ok {
		t.Fatal("given_name still there")
	}
	if v, _ := attr(u.UserAttributes, "family_name"); v != "Eted" {
		t.Fatal("family_name gone too")
	}
	if _, ok := claims(t, aws.ToString(e.signIn(e.pub, "del@example.com", password).IdToken))["given_name"]; ok {
		t.Fatal("id token still carries given_name")
	}
}

// TestDeleteUser: a user deleting itself loses everything.
func TestDeleteUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sub := e.signUp(e.pub, "bye@example.com")
	tok := e.signIn(e.pub, "bye@example.com", password)
	before := e.countUsers(e.pool)
	must(e.api.DeleteUser(e.ctx, &cip.DeleteUserInput{AccessToken: tok.AccessToken}))(t)
	if n := e.countUsers(e.pool); n != before-1 {
		t.Fatalf("%d users, want %d", n, before-1)
	}
	_, err := e.adminGet(e.pool, sub)
	wantErr(t, err, "UserNotFoundException")
	_, err = e.getUser(tok.AccessToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.refresh(e.pub, "", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.passwordAuth(e.pub, "bye@example.com", password)
	wantMessage(t, err, "NotAuthorizedException", "Incorrect username or password.")
	_, err = e.api.DeleteUser(e.ctx, &cip.DeleteUserInput{AccessToken: tok.AccessToken})
	wantErr(t, err, "NotAuthorizedException")
	// The address is free again.
	e.signUp(e.pub, "bye@example.com")
}

// TestConfidentialClient: a client with a secret needs SECRET_HASH (or
// ClientSecret) on every unsigned call, and checks it.
func TestConfidentialClient(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	client, secret := e.newClient(e.pool, withSecret, rotation(false, 0))
	const email = "conf@example.com"
	good := secretHash(secret, email, client)
	bad := secretHash(secret+"x", email, client)

	signUp := func(hash *string) error {
		_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{
			ClientId: aws.String(client), Username: aws.String(email), Password: aws.String(password), SecretHash: hash,
		})
		return err
	}
	wantErr(t, signUp(nil), "NotAuthorizedException")
	wantErr(t, signUp(aws.String(bad)), "NotAuthorizedException")
	wantErr(t, signUp(aws.String(secretHash(secret, "someone@example.com", client))), "NotAuthorizedException")
	if n := e.countUsers(e.pool); n != 0 {
		t.Fatalf("%d users after refused sign-ups", n)
	}
	if err := signUp(aws.String(good)); err != nil {
		t.Fatal(err)
	}
	code := e.code(email, "sign_up")
	_, err := e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String(email), ConfirmationCode: aws.String(code)})
	wantErr(t, err, "NotAuthorizedException")
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(client), Username: aws.String(email), ConfirmationCode: aws.String(code), SecretHash: aws.String(good)}))(t)

	auth := func(params map[string]string) (*cip.InitiateAuthOutput, error) {
		return e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth, AuthParameters: params})
	}
	_, err = auth(map[string]string{"USERNAME": email, "PASSWORD": password})
	wantMessage(t, err, "NotAuthorizedException", "Client "+client+" is configured with secret but SECRET_HASH was not received")
	_, err = auth(map[string]string{"USERNAME": email, "PASSWORD": password, "SECRET_HASH": bad})
	wantErr(t, err, "NotAuthorizedException")
	tok := must(auth(map[string]string{"USERNAME": email, "PASSWORD": password, "SECRET_HASH": good}))(t).AuthenticationResult
	if tok == nil {
		t.Fatal("no tokens")
	}

	// SRP: both steps carry SECRET_HASH over the name they use.
	_, _, err = e.srpStart(e.pool, client, email, nil)
	wantErr(t, err, "NotAuthorizedException")
	c, cp := mustSRP(t)(e.srpStart(e.pool, client, email, map[string]string{"SECRET_HASH": good}))
	ans := e.srpAnswer(c, cp, password)
	_, err = e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans)
	wantErr(t, err, "NotAuthorizedException")
	ans["SECRET_HASH"] = secretHash(secret, ans["USERNAME"], client)
	if r := must(e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans))(t); r.AuthenticationResult == nil {
		t.Fatal("no tokens from SRP")
	}

	// Refresh: ClientSecret for GetTokensFromRefreshToken, SECRET_HASH
	// over the username (the sub) for REFRESH_TOKEN_AUTH.
	_, err = e.refresh(client, "", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
	_, err = e.refresh(client, secret+"x", tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
	must(e.refresh(client, secret, tok.RefreshToken))(t)
	sub := claims(t, aws.ToString(tok.AccessToken))["username"].(string)
	rta := func(hash string) error {
		p := map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)}
		if hash != "" {
			p["SECRET_HASH"] = hash
		}
		_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeRefreshTokenAuth, AuthParameters: p})
		return err
	}
	wantErr(t, rta(""), "NotAuthorizedException")
	wantErr(t, rta(secretHash(secret+"x", sub, client)), "NotAuthorizedException")
	if err := rta(secretHash(secret, sub, client)); err != nil {
		t.Fatal(err)
	}

	// ForgotPassword too.
	_, err = e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String(email)})
	wantErr(t, err, "NotAuthorizedException")
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String(email), SecretHash: aws.String(good)}))(t)

	// RevokeToken authenticates with ClientSecret.
	_, err = e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: tok.RefreshToken})
	wantErr(t, err, "NotAuthorizedException")
	must(e.refresh(client, secret, tok.RefreshToken))(t)
	must(e.api.RevokeToken(e.ctx, &cip.RevokeTokenInput{ClientId: aws.String(client), Token: tok.RefreshToken, ClientSecret: aws.String(secret)}))(t)
	_, err = e.refresh(client, secret, tok.RefreshToken)
	wantErr(t, err, "NotAuthorizedException")
}

// TestConfirmationCodes covers ResendConfirmationCode (the new code
// replaces the old one), the attempt limit on sign-up codes (five wrong
// codes lock the user's sign-up codes for a second, doubling; a new code
// brings no new guesses), and GetUserAttributeVerificationCode.
func TestConfirmationCodes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const email = "codes@example.com"
	must(e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String(email), Password: aws.String(password)}))(t)
	confirm := func(code string) error {
		_, err := e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{ClientId: aws.String(e.pub), Username: aws.String(email), ConfirmationCode: aws.String(code)})
		return err
	}
	first := e.code(email, "sign_up")
	wrong := "000000"
	if first == wrong {
		wrong = "000001"
	}
	for range 5 {
		wantErr(t, confirm(wrong), "CodeMismatchException")
	}
	lockedAt := time.Now()
	wantErr(t, confirm(first), "LimitExceededException")
	// A fresh code brings no fresh guesses.
	must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	wantErr(t, confirm(e.code(email, "sign_up")), "LimitExceededException")
	if g := must(e.adminGet(e.pool, email))(t); g.UserStatus != types.UserStatusTypeUnconfirmed {
		t.Fatalf("status %s", g.UserStatus)
	}
	// The sixth failure, once the lock passed, locks for two seconds.
	time.Sleep(time.Until(lockedAt.Add(1100 * time.Millisecond)))
	wantErr(t, confirm(wrong), "CodeMismatchException")
	lockedAt = time.Now()
	wantErr(t, confirm(e.code(email, "sign_up")), "LimitExceededException")
	time.Sleep(time.Until(lockedAt.Add(2100 * time.Millisecond)))

	d := must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t).CodeDeliveryDetails
	if d == nil || aws.ToString(d.Destination) != "c***@e***" {
		t.Fatalf("CodeDeliveryDetails %+v", d)
	}
	second := e.code(email, "sign_up")
	must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	third := e.code(email, "sign_up")
	if err := confirm(third); err != nil {
		t.Fatal(err)
	}
	if second != third {
		wantErr(t, confirm(second), "CodeMismatchException")
	}
	// Confirmed now: with existence errors prevented, a resend answers as
	// it would for anyone (a simulated delivery) and sends nothing.
	sent := len(e.outbox())
	again := must(e.api.ResendConfirmationCode(e.ctx, &cip.ResendConfirmationCodeInput{ClientId: aws.String(e.pub), Username: aws.String(email)}))(t)
	if d := again.CodeDeliveryDetails; d == nil || aws.ToString(d.Destination) != "c***@e***" {
		t.Fatalf("resend to a confirmed user: %+v", d)
	}
	if len(e.outbox()) != sent {
		t.Fatal("a code went to a confirmed user")
	}

	tok := e.signIn(e.pub, email, password)
	gd := must(e.api.GetUserAttributeVerificationCode(e.ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("email")}))(t).CodeDeliveryDetails
	if gd == nil || aws.ToString(gd.AttributeName) != "email" {
		t.Fatalf("CodeDeliveryDetails %+v", gd)
	}
	must(e.api.VerifyUserAttribute(e.ctx, &cip.VerifyUserAttributeInput{
		AccessToken: tok.AccessToken, AttributeName: aws.String("email"), Code: aws.String(e.code(email, "verify_attribute")),
	}))(t)
	_, err := e.api.GetUserAttributeVerificationCode(e.ctx, &cip.GetUserAttributeVerificationCodeInput{AccessToken: tok.AccessToken, AttributeName: aws.String("phone_number")})
	wantErr(t, err, "InvalidParameterException")
}

// TestConcurrency races the operations that must pick exactly one
// winner, through the SDK: no 5xx, and the outcomes add up.
func TestConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const n = 8
	var winner int
	race := func(f func(i int) error) (ok int, codes map[string]int) {
		t.Helper()
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				errs[i] = f(i)
			})
		}
		close(start)
		wg.Wait()
		codes = map[string]int{}
		for i, err := range errs {
			if err == nil {
				ok++
				winner = i
				continue
			}
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("not an API error: %v", err)
			}
			wantErr(t, err, ae.ErrorCode()) // a 4xx, never a 5xx
			codes[ae.ErrorCode()]++
		}
		return ok, codes
	}

	ok, codes := race(func(int) error {
		_, err := e.api.SignUp(e.ctx, &cip.SignUpInput{ClientId: aws.String(e.pub), Username: aws.String("race@example.com"), Password: aws.String(password)})
		return err
	})
	if ok != 1 || codes["UsernameExistsException"] != n-1 {
		t.Fatalf("concurrent SignUp: %d ok, %v", ok, codes)
	}
	if c := e.countUsers(e.pool); c != 1 {
		t.Fatalf("%d users", c)
	}
	if sent := e.outbox(); len(sent) != 1 {
		t.Fatalf("%d codes sent for one sign-up", len(sent))
	}
	must(e.api.ConfirmSignUp(e.ctx, &cip.ConfirmSignUpInput{
		ClientId: aws.String(e.pub), Username: aws.String("race@example.com"), ConfirmationCode: aws.String(e.code("race@example.com", "sign_up")),
	}))(t)

	// Concurrent refreshes of one token inside the grace period all work
	// (several tabs refreshing at once).
	tok := e.signIn(e.pub, "race@example.com", password)
	if ok, codes := race(func(int) error { _, err := e.refresh(e.pub, "", tok.RefreshToken); return err }); ok != n {
		t.Fatalf("concurrent refresh: %d ok, %v", ok, codes)
	}

	// One SRP answer, sent n times at once: one sign-in.
	c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, "race@example.com", nil))
	ans := e.srpAnswer(c, cp, password)
	if ok, codes := race(func(int) error {
		_, err := e.respond(e.pub, types.ChallengeNameTypePasswordVerifier, nil, ans)
		return err
	}); ok != 1 || codes["NotAuthorizedException"] != n-1 {
		t.Fatalf("concurrent replay: %d ok, %v", ok, codes)
	}

	// One reset code, redeemed n times at once (different passwords): one
	// reset.
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(e.pub), Username: aws.String("race@example.com")}))(t)
	code := e.code("race@example.com", "forgot_password")
	ok, codes = race(func(i int) error {
		_, err := e.api.ConfirmForgotPassword(e.ctx, &cip.ConfirmForgotPasswordInput{
			ClientId: aws.String(e.pub), Username: aws.String("race@example.com"), ConfirmationCode: aws.String(code),
			Password: aws.String(fmt.Sprintf("Racer-Pass-%d", i)),
		})
		return err
	})
	if ok != 1 || codes["ExpiredCodeException"] != n-1 {
		t.Fatalf("concurrent ConfirmForgotPassword: %d ok, %v", ok, codes)
	}
	// The winner's password is the one set, and no loser's is.
	e.signIn(e.pub, "race@example.com", fmt.Sprintf("Racer-Pass-%d", winner))
	_, err := e.passwordAuth(e.pub, "race@example.com", fmt.Sprintf("Racer-Pass-%d", (winner+1)%n))
	wantErr(t, err, "NotAuthorizedException")
}

// TestUpdateEmailWithoutVerification: in a pool that does not verify
// emails, a changed email applies at once but is no longer verified, so
// neither the id token nor a password reset vouches for it; and a client
// can never mark an address verified itself.
func TestUpdateEmailWithoutVerification(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := aws.ToString(must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("noverify"), UsernameAttributes: []types.UsernameAttributeType{types.UsernameAttributeTypeEmail},
	}))(t).UserPool.Id)
	client, _ := e.newClient(pool, rotation(false, 0))
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool), Username: aws.String("nv@example.com"), MessageAction: types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email", "nv@example.com"), attrT("email_verified", "true")},
	}))(t)
	must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(pool), Username: aws.String("nv@example.com"), Password: aws.String(password), Permanent: true,
	}))(t)
	tok := e.signIn(client, "nv@example.com", password)
	if claims(t, aws.ToString(tok.IdToken))["email_verified"] != true {
		t.Fatal("admin-verified email not verified in the id token")
	}
	out := must(e.api.UpdateUserAttributes(e.ctx, &cip.UpdateUserAttributesInput{
		AccessToken: tok.AccessToken, UserAttributes: []types.AttributeType{attrT("email", "claimed@example.org")},
	}))(t)
	if len(out.CodeDeliveryDetailsList) != 0 {
		t.Fatalf("a code was sent in a pool that does not verify: %+v", out.CodeDeliveryDetailsList)
	}
	u := must(e.getUser(tok.AccessToken))(t)
	if v, _ := attr(u.UserAttributes, "email"); v != "claimed@example.org" {
		t.Fatalf("email %q", v)
	}
	if v, _ := attr(u.UserAttributes, "email_verified"); v != "false" {
		t.Fatalf("email_verified %q for an address nobody proved", v)
	}
	next := must(e.refresh(client, "", tok.RefreshToken))(t)
	if c := claims(t, aws.ToString(next.IdToken)); c["email"] != "claimed@example.org" || c["email_verified"] != false {
		t.Fatalf("id token email %v email_verified %v", c["email"], c["email_verified"])
	}
	// No code goes to an address nobody proved; the caller is told one
	// went out, as for any name (existence errors are prevented).
	sent := len(e.outbox())
	must(e.api.ForgotPassword(e.ctx, &cip.ForgotPasswordInput{ClientId: aws.String(client), Username: aws.String("claimed@example.org")}))(t)
	if len(e.outbox()) != sent {
		t.Fatal("a reset code went to an unverified address")
	}

	// Nor can a client assert verification itself, at sign-up or while
	// answering NEW_PASSWORD_REQUIRED.
	var err error
	for _, name := range []string{"email_verified", "phone_number_verified"} {
		_, err = e.api.SignUp(e.ctx, &cip.SignUpInput{
			ClientId: aws.String(client), Username: aws.String("self@example.com"), Password: aws.String(password),
			UserAttributes: []types.AttributeType{attrT(name, "true")},
		})
		wantMessage(t, err, "NotAuthorizedException", "A client attempted to write unauthorized attribute")
	}
	if _, err := e.adminGet(pool, "self@example.com"); err == nil {
		t.Fatal("a refused SignUp created the user")
	}
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(pool), Username: aws.String("inv@example.com"), TemporaryPassword: aws.String("Temp-Pass-123"),
		MessageAction:  types.MessageActionTypeSuppress,
		UserAttributes: []types.AttributeType{attrT("email", "inv@example.com"), attrT("email_verified", "true")},
	}))(t)
	ia := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeUserPasswordAuth,
		AuthParameters: map[string]string{"USERNAME": "inv@example.com", "PASSWORD": "Temp-Pass-123"},
	}))(t)
	id := ia.ChallengeParameters["USER_ID_FOR_SRP"]
	_, err = e.respond(client, types.ChallengeNameTypeNewPasswordRequired, ia.Session, map[string]string{
		"USERNAME": id, "NEW_PASSWORD": password, "userAttributes.email": "other@example.org", "userAttributes.email_verified": "true",
	})
	wantErr(t, err, "NotAuthorizedException")
	done := must(e.respond(client, types.ChallengeNameTypeNewPasswordRequired, ia.Session, map[string]string{
		"USERNAME": id, "NEW_PASSWORD": password, "userAttributes.email": "other@example.org",
	}))(t)
	if c := claims(t, aws.ToString(done.AuthenticationResult.IdToken)); c["email"] != "other@example.org" || c["email_verified"] != false {
		t.Fatalf("id token email %v email_verified %v", c["email"], c["email_verified"])
	}
}
