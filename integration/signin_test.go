package integration_test

import (
	"encoding/json"
	"maps"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"

	"github.com/cognate-auth/cognate/srp"
)

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
		client, _ := e.newClient(e.pool, rotation(true, 10))
		tok := e.signIn(client, "rot@example.com", password)
		_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
			ClientId: aws.String(client), AuthFlow: types.AuthFlowTypeRefreshTokenAuth,
			AuthParameters: map[string]string{"REFRESH_TOKEN": aws.ToString(tok.RefreshToken)},
		})
		wantErr(t, err, "NotAuthorizedException")
		// The refused attempt did not spend the token.
		must(e.refresh(client, "", tok.RefreshToken))(t)
	})
}

// TestSRPAbuse: malformed SRP_A values, replayed, re-routed, tampered or
// badly timestamped answers are refused — and none of them counts toward
// the lockout or spends a challenge it should not.
func TestSRPAbuse(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const user = "srp@example.com"
	e.signUp(e.pub, user)
	clientB, _ := e.newClient(e.pool)
	verifier := func(client string, ans map[string]string) error {
		_, err := e.respond(client, types.ChallengeNameTypePasswordVerifier, nil, ans)
		return err
	}
	clone := func(m map[string]string, k, v string) map[string]string {
		c := map[string]string{}
		for kk, vv := range m {
			c[kk] = vv
		}
		c[k] = v
		return c
	}

	t.Run("SRP_A", func(t *testing.T) {
		n := srp.GroupPrime()
		groupN := strings.ToUpper(n.Text(16))
		for name, a := range map[string]string{
			"zero":       "0",
			"zeros":      "0000",
			"N":          groupN,
			"N lower":    strings.ToLower(groupN),
			"2N":         new(big.Int).Lsh(n, 1).Text(16),
			"non-hex":    "xyz",
			"0x prefix":  "0x1234",
			"negative":   "-1234",
			"spaces":     "12 34",
			"oversized":  strings.Repeat("a", srp.MaxAHexLen+1),
			"huge":       strings.Repeat("f", 60000),
			"empty":      "",
			"unicode":    "１２３",
			"whitespace": " ",
		} {
			t.Run(name, func(t *testing.T) {
				_, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
					ClientId: aws.String(e.pub), AuthFlow: types.AuthFlowTypeUserSrpAuth,
					AuthParameters: map[string]string{"USERNAME": user, "SRP_A": a},
				})
				wantErr(t, err, "InvalidParameterException")
			})
		}
	})

	t.Run("other client's challenge", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		wantMessage(t, verifier(clientB, ans), "NotAuthorizedException", "Invalid session for the user, session is expired.")
		// The refusal did not spend the challenge.
		if err := verifier(e.pub, ans); err != nil {
			t.Fatalf("right client after a wrong one: %v", err)
		}
	})

	t.Run("TIMESTAMP format", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		now := time.Now().UTC()
		padded := "Tue Sep 02 09:05:07 UTC 2025" // Sep 2 2025 was a Tuesday
		if now.Day() < 10 {
			padded = now.Format("Mon Jan 02 15:04:05 UTC 2006")
		}
		bad := map[string]string{
			"zero-padded day": padded,
			"wrong weekday":   strings.Replace(now.Format(srp.TimestampLayout), now.Format("Mon"), now.AddDate(0, 0, 1).Format("Mon"), 1),
			"RFC 3339":        now.Format(time.RFC3339),
			"lowercase":       strings.ToLower(now.Format(srp.TimestampLayout)),
			"GMT":             strings.Replace(now.Format(srp.TimestampLayout), "UTC", "GMT", 1),
			"long":            now.Format(srp.TimestampLayout) + strings.Repeat(" ", 100),
		}
		for name, ts := range bad {
			t.Run(name, func(t *testing.T) {
				wantErr(t, verifier(e.pub, clone(ans, "TIMESTAMP", ts)), "InvalidParameterException")
			})
		}
		// Canonical timestamps outside the allowed skew.
		for _, d := range []time.Duration{-10 * time.Minute, 10 * time.Minute} {
			skewed := now.Add(d).Format(srp.TimestampLayout)
			wantErr(t, verifier(e.pub, clone(ans, "TIMESTAMP", skewed)), "NotAuthorizedException")
		}
		if err := verifier(e.pub, ans); err != nil {
			t.Fatalf("the genuine answer after refused timestamps: %v", err)
		}
	})

	t.Run("replay", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		if err := verifier(e.pub, ans); err != nil {
			t.Fatal(err)
		}
		wantErr(t, verifier(e.pub, ans), "NotAuthorizedException")
	})

	t.Run("tampering", func(t *testing.T) {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		ans := e.srpAnswer(c, cp, password)
		block := []byte(ans["PASSWORD_CLAIM_SECRET_BLOCK"])
		block[10] ^= 1
		if block[10] == '+' || block[10] == '/' || block[10] > 'z' {
			block[10] = 'A'
		}
		for name, resp := range map[string]map[string]string{
			"secret block":     clone(ans, "PASSWORD_CLAIM_SECRET_BLOCK", string(block)),
			"block not base64": clone(ans, "PASSWORD_CLAIM_SECRET_BLOCK", "***"),
			"huge block":       clone(ans, "PASSWORD_CLAIM_SECRET_BLOCK", strings.Repeat("A", 40000)),
			"other username":   clone(ans, "USERNAME", "someone-else"),
			"email username":   clone(ans, "USERNAME", user),
		} {
			t.Run(name, func(t *testing.T) { wantErr(t, verifier(e.pub, resp), "NotAuthorizedException") })
		}
		if err := verifier(e.pub, ans); err != nil {
			t.Fatalf("the genuine answer after tampered ones: %v", err)
		}
	})

	// None of the above counted as a failed password: four real failures
	// still leave the user able to sign in.
	for i := 0; i < 4; i++ {
		c, cp := mustSRP(t)(e.srpStart(e.pool, e.pub, user, nil))
		wantMessage(t, verifier(e.pub, e.srpAnswer(c, cp, "Wrong-Pass-1")), "NotAuthorizedException", "Incorrect username or password.")
	}
	e.srpSignIn(e.pool, e.pub, user, password)
}
