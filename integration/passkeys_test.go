package integration_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/document"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/internal/passkeytest"
)

// The server's public URL is http://127.0.0.1:<port>, so a pool without
// its own RP id has "localhost", and pages on http://localhost may use it
// outside --production.
const pkOrigin = "http://localhost:5173"

// passkeyEnv is a pool whose sign-in policy has WEB_AUTHN, a client with
// USER_AUTH, and signed-in users alice and bob.
type passkeyEnv struct {
	*env
	pool, client string
	access       map[string]*string
}

func newPasskeyEnv(t *testing.T) *passkeyEnv {
	e := &passkeyEnv{env: newEnv(t), access: map[string]*string{}}
	p := must(e.api.CreateUserPool(e.ctx, &cip.CreateUserPoolInput{
		PoolName: aws.String("passkeys"),
		Policies: &types.UserPoolPolicyType{SignInPolicy: &types.SignInPolicyType{
			AllowedFirstAuthFactors: []types.AuthFactorType{types.AuthFactorTypePassword, types.AuthFactorTypeWebAuthn},
		}},
	}))(t)
	e.pool = aws.ToString(p.UserPool.Id)
	e.client, _ = e.newClient(e.pool, func(in *cip.CreateUserPoolClientInput) {
		in.ExplicitAuthFlows = []types.ExplicitAuthFlowsType{"ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
	})
	for _, name := range []string{"alice", "bob"} {
		must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{UserPoolId: aws.String(e.pool), Username: aws.String(name), MessageAction: types.MessageActionTypeSuppress}))(t)
		must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{UserPoolId: aws.String(e.pool), Username: aws.String(name), Password: aws.String(password), Permanent: true}))(t)
		e.access[name] = e.signIn(e.client, name, password).AccessToken
	}
	return e
}

// options is StartWebAuthnRegistration's CredentialCreationOptions as JSON.
func (e *passkeyEnv) options(user string) []byte {
	e.t.Helper()
	out := must(e.api.StartWebAuthnRegistration(e.ctx, &cip.StartWebAuthnRegistrationInput{AccessToken: e.access[user]}))(e.t)
	var v any
	if err := out.CredentialCreationOptions.UnmarshalSmithyDocument(&v); err != nil {
		e.t.Fatal(err)
	}
	return must(json.Marshal(v))(e.t)
}

// complete sends a RegistrationResponseJSON to CompleteWebAuthnRegistration.
func (e *passkeyEnv) complete(user string, body []byte) error {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		e.t.Fatal(err)
	}
	_, err := e.api.CompleteWebAuthnRegistration(e.ctx, &cip.CompleteWebAuthnRegistrationInput{
		AccessToken: e.access[user], Credential: document.NewLazyDocument(v),
	})
	return err
}

func (e *passkeyEnv) register(user string) *passkeytest.Authenticator {
	e.t.Helper()
	a, body, err := passkeytest.Register(e.options(user), pkOrigin, passkeytest.Forge{})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.complete(user, body); err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *passkeyEnv) list(user string) []types.WebAuthnCredentialDescription {
	e.t.Helper()
	return must(e.api.ListWebAuthnCredentials(e.ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: e.access[user]}))(e.t).Credentials
}

// challenge is USER_AUTH with PREFERRED_CHALLENGE WEB_AUTHN.
func (e *passkeyEnv) challenge(user string) *cip.InitiateAuthOutput {
	e.t.Helper()
	out := must(e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(e.client), AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": user, "PREFERRED_CHALLENGE": "WEB_AUTHN"},
	}))(e.t)
	if out.ChallengeName != types.ChallengeNameTypeWebAuthn || out.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"] == "" {
		e.t.Fatalf("challenge %q %v, want WEB_AUTHN with CREDENTIAL_REQUEST_OPTIONS", out.ChallengeName, out.ChallengeParameters)
	}
	return out
}

func (e *passkeyEnv) answer(user string, ch *cip.InitiateAuthOutput, credential []byte) (*cip.RespondToAuthChallengeOutput, error) {
	return e.respond(e.client, types.ChallengeNameTypeWebAuthn, ch.Session, map[string]string{"USERNAME": user, "CREDENTIAL": string(credential)})
}

// signInWith signs user in with a passkey, which must succeed.
func (e *passkeyEnv) signInWith(user string, a *passkeytest.Authenticator) {
	e.t.Helper()
	ch := e.challenge(user)
	cred := must(a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{}))(e.t)
	out := must(e.answer(user, ch, cred))(e.t)
	if out.AuthenticationResult == nil {
		e.t.Fatalf("no tokens: %+v", out)
	}
	must(e.getUser(out.AuthenticationResult.AccessToken))(e.t)
}

func TestPasskeyLifecycle(t *testing.T) {
	e := newPasskeyEnv(t)
	if n := len(e.list("alice")); n != 0 {
		t.Fatalf("%d passkeys before registering", n)
	}
	a := e.register("alice")
	creds := e.list("alice")
	if len(creds) != 1 || aws.ToString(creds[0].RelyingPartyId) != "localhost" || aws.ToString(creds[0].AuthenticatorAttachment) != "platform" ||
		len(creds[0].AuthenticatorTransports) != 2 || creds[0].CreatedAt == nil || aws.ToString(creds[0].FriendlyCredentialName) == "" {
		t.Fatalf("credentials: %+v", creds)
	}
	e.signInWith("alice", a)
	e.signInWith("alice", a)

	// bob may neither see nor delete alice's passkey.
	if n := len(e.list("bob")); n != 0 {
		t.Fatalf("bob lists %d passkeys", n)
	}
	_, err := e.api.DeleteWebAuthnCredential(e.ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: e.access["bob"], CredentialId: creds[0].CredentialId})
	wantErr(t, err, "ResourceNotFoundException")
	must(e.api.DeleteWebAuthnCredential(e.ctx, &cip.DeleteWebAuthnCredentialInput{AccessToken: e.access["alice"], CredentialId: creds[0].CredentialId}))(t)
	if n := len(e.list("alice")); n != 0 {
		t.Fatalf("%d passkeys after deleting", n)
	}
	out, err := e.api.InitiateAuth(e.ctx, &cip.InitiateAuthInput{
		ClientId: aws.String(e.client), AuthFlow: types.AuthFlowTypeUserAuth,
		AuthParameters: map[string]string{"USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"},
	})
	if err == nil && out.ChallengeName == types.ChallengeNameTypeWebAuthn {
		t.Fatal("WEB_AUTHN offered to a user without a passkey")
	}
}

func TestPasskeyPaging(t *testing.T) {
	e := newPasskeyEnv(t)
	for range 3 {
		e.register("alice")
	}
	seen := map[string]bool{}
	var next *string
	for page := 0; ; page++ {
		out := must(e.api.ListWebAuthnCredentials(e.ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: e.access["alice"], MaxResults: aws.Int32(2), NextToken: next}))(t)
		for _, c := range out.Credentials {
			if seen[aws.ToString(c.CredentialId)] {
				t.Fatalf("credential %s listed twice", aws.ToString(c.CredentialId))
			}
			seen[aws.ToString(c.CredentialId)] = true
		}
		if next = out.NextToken; next == nil {
			break
		}
		if page > 3 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 3 {
		t.Fatalf("listed %d of 3 passkeys", len(seen))
	}
	_, err := e.api.ListWebAuthnCredentials(e.ctx, &cip.ListWebAuthnCredentialsInput{AccessToken: e.access["alice"], MaxResults: aws.Int32(21)})
	wantErr(t, err, "InvalidParameterException")
}

func TestPasskeyRegistrationForgeries(t *testing.T) {
	tests := []struct {
		name  string
		forge passkeytest.Forge
		want  string
	}{
		{"wrong origin", passkeytest.Forge{Origin: "http://evil.localhost.example:5173"}, "WebAuthnOriginNotAllowedException"},
		{"wrong RP id", passkeytest.Forge{RPID: "example.com"}, "WebAuthnRelyingPartyMismatchException"},
		{"wrong challenge", passkeytest.Forge{Challenge: "Zm9yZ2VkLWNoYWxsZW5nZS1ub3Qtc2VhbGVkLWJ5LWNvZ25hdGU"}, "WebAuthnChallengeNotFoundException"},
	}
	e := newPasskeyEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, body, err := passkeytest.Register(e.options("alice"), pkOrigin, tc.forge)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, e.complete("alice", body), tc.want)
			if n := len(e.list("alice")); n != 0 {
				t.Fatalf("%d passkeys stored by a refused registration", n)
			}
		})
	}
	// A challenge answered once cannot register a second time.
	_, body, err := passkeytest.Register(e.options("alice"), pkOrigin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.complete("alice", body); err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.complete("alice", body), "WebAuthnChallengeNotFoundException")
	// Nor can bob complete alice's challenge.
	_, body, err = passkeytest.Register(e.options("alice"), pkOrigin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, e.complete("bob", body), "WebAuthnChallengeNotFoundException")
	if n := len(e.list("alice")) + len(e.list("bob")); n != 1 {
		t.Fatalf("%d passkeys, want alice's one", n)
	}
}

// TestPasskeySignInForgeries refuses each forged assertion. Each carries
// a sign count far above the authenticator's: had a refused assertion
// stored anything, the genuine sign-in after it would be refused as a
// count going back.
func TestPasskeySignInForgeries(t *testing.T) {
	high, zero := uint32(1000), uint32(0)
	tests := []struct {
		name  string
		forge passkeytest.Forge
		want  string
	}{
		{"wrong origin", passkeytest.Forge{Origin: "https://evil.example", Count: &high}, "WebAuthnOriginNotAllowedException"},
		{"wrong RP id", passkeytest.Forge{RPID: "example.com", Count: &high}, "WebAuthnRelyingPartyMismatchException"},
		{"wrong challenge", passkeytest.Forge{Challenge: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", Count: &high}, "NotAuthorizedException"},
		{"bad signature", passkeytest.Forge{BadSignature: true, Count: &high}, "NotAuthorizedException"},
		{"decreasing sign count", passkeytest.Forge{Count: &zero}, "NotAuthorizedException"},
	}
	e := newPasskeyEnv(t)
	a := e.register("alice")
	bobs := e.register("bob")
	e.signInWith("alice", a) // the stored count is now 1
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := e.challenge("alice")
			cred := must(a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, tc.forge))(t)
			_, err := e.answer("alice", ch, cred)
			wantErr(t, err, tc.want)
			e.signInWith("alice", a)
		})
	}
	t.Run("replayed assertion", func(t *testing.T) {
		ch := e.challenge("alice")
		cred := must(a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{}))(t)
		must(e.answer("alice", ch, cred))(t)
		_, err := e.answer("alice", ch, cred)
		wantErr(t, err, "NotAuthorizedException")
		// The same assertion on a fresh challenge is refused too (its
		// challenge and count are spent).
		_, err = e.answer("alice", e.challenge("alice"), cred)
		wantErr(t, err, "NotAuthorizedException")
	})
	t.Run("another user's passkey", func(t *testing.T) {
		ch := e.challenge("alice")
		cred := must(bobs.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{}))(t)
		_, err := e.answer("alice", ch, cred)
		wantErr(t, err, "NotAuthorizedException")
		e.signInWith("bob", bobs)
	})
}

// TestPasskeyAssertionRace sends one genuine answer many times at once:
// exactly one sign-in is made of it.
func TestPasskeyAssertionRace(t *testing.T) {
	e := newPasskeyEnv(t)
	a := e.register("alice")
	ch := e.challenge("alice")
	cred := must(a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), pkOrigin, passkeytest.Forge{}))(t)
	const n = 8
	results := make(chan error, n)
	for range n {
		go func() {
			out, err := e.answer("alice", ch, cred)
			if err == nil && out.AuthenticationResult == nil {
				err = errNoTokens
			}
			results <- err
		}()
	}
	signedIn := 0
	for range n {
		if err := <-results; err == nil {
			signedIn++
		} else {
			wantErr(t, err, "NotAuthorizedException")
		}
	}
	if signedIn != 1 {
		t.Fatalf("%d sign-ins from one assertion, want 1", signedIn)
	}
}

var errNoTokens = errors.New("no tokens")
