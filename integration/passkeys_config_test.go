package integration_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/cognate-auth/cognate/internal/passkeytest"
)

// TestPasskeyPoolConfiguration sets the pool's WebAuthnConfiguration
// (SetUserPoolMfaConfig): its RP id is what the options name and what
// origins must match, and required user verification is enforced in both
// ceremonies.
func TestPasskeyPoolConfiguration(t *testing.T) {
	e := newPasskeyEnv(t)
	must(e.api.SetUserPoolMfaConfig(e.ctx, &cip.SetUserPoolMfaConfigInput{
		UserPoolId: aws.String(e.pool),
		WebAuthnConfiguration: &types.WebAuthnConfigurationType{
			RelyingPartyId: aws.String("Example.COM"), UserVerification: types.UserVerificationTypeRequired,
		},
	}))(t)
	opts := e.options("alice")
	var parsed struct {
		RP struct {
			ID string `json:"id"`
		} `json:"rp"`
		AuthenticatorSelection struct {
			UserVerification string `json:"userVerification"`
		} `json:"authenticatorSelection"`
	}
	must(0, json.Unmarshal(opts, &parsed))(t)
	if parsed.RP.ID != "example.com" || parsed.AuthenticatorSelection.UserVerification != "required" {
		t.Fatalf("options: %s", opts)
	}
	const origin = "https://login.example.com"
	for _, tc := range []struct {
		name   string
		origin string
		forge  passkeytest.Forge
		want   string
	}{
		{"localhost is not the pool's RP id", pkOrigin, passkeytest.Forge{}, "WebAuthnOriginNotAllowedException"},
		{"user not verified", origin, passkeytest.Forge{NoUserVerification: true}, "WebAuthnCredentialNotSupportedException"},
	} {
		_, body, err := passkeytest.Register(e.options("alice"), tc.origin, tc.forge)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.complete("alice", body); err == nil {
			t.Fatalf("%s: registered", tc.name)
		} else {
			wantErr(t, err, tc.want)
		}
	}
	a, body, err := passkeytest.Register(e.options("alice"), origin, passkeytest.Forge{})
	if err != nil {
		t.Fatal(err)
	}
	must(0, e.complete("alice", body))(t)
	if got := aws.ToString(e.list("alice")[0].RelyingPartyId); got != "example.com" {
		t.Fatalf("RelyingPartyId %q", got)
	}
	ch := e.challenge("alice")
	cred := must(a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), origin, passkeytest.Forge{NoUserVerification: true}))(t)
	_, err = e.answer("alice", ch, cred)
	wantErr(t, err, "NotAuthorizedException")
	ch = e.challenge("alice")
	cred = must(a.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), origin, passkeytest.Forge{}))(t)
	if out := must(e.answer("alice", ch, cred))(t); out.AuthenticationResult == nil {
		t.Fatal("no tokens")
	}
}
