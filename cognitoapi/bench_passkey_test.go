package cognitoapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/internal/passkeytest"
	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// BenchmarkPasskeyVsSRPSignIn runs an SRP sign-in and a passkey sign-in
// in the same run, so their server CPU can be compared (the ratio in
// docs/PERFORMANCE.md):
//
//	go test ./cognitoapi -run '^$' -bench PasskeyVsSRP -benchtime 2s -count 3
//
// The passkey sign-in is Amplify's: InitiateAuth USER_AUTH with
// PREFERRED_CHALLENGE WEB_AUTHN (the server lists the user's passkeys and
// seals a challenge), then RespondToAuthChallenge WEB_AUTHN (the server
// parses the assertion, checks it with go-webauthn, an ECDSA P-256
// verification, stores the sign count and issues tokens). The
// authenticator's signing runs with the timer stopped.
func BenchmarkPasskeyVsSRPSignIn(b *testing.B) {
	b.Run("srp", BenchmarkSRPSignIn)
	b.Run("passkey", benchmarkPasskeySignIn)
}

func benchmarkPasskeySignIn(b *testing.B) {
	ctx := context.Background()
	srv, err := server.New(ctx, server.Config{DataDir: b.TempDir(), PublicURL: "http://127.0.0.1:9229", Out: io.Discard})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	svc := srv.Service()
	f := &fixture{h: srv.Handler()}
	p, err := svc.CreateUserPool(ctx, userpool.CreateUserPoolInput{
		PoolName: "bench-passkeys", UsernameAttributes: []string{"email"},
		Policies: &userpool.PoliciesType{SignInPolicy: &userpool.SignInPolicyType{AllowedFirstAuthFactors: []string{"PASSWORD", "WEB_AUTHN"}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	c, err := svc.CreateUserPoolClient(ctx, userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: p.UserPool.Id, ClientName: "bench-passkeys",
		ExplicitAuthFlows: []string{"ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
	}})
	if err != nil {
		b.Fatal(err)
	}
	client := c.UserPoolClient.ClientId
	const origin = "http://localhost:5173"
	type user struct {
		email string
		key   *passkeytest.Authenticator
	}
	users := make([]user, benchUsers)
	for i := range users {
		email := fmt.Sprintf("passkey%03d@example.com", i)
		if _, err := svc.AdminCreateUser(ctx, userpool.AdminCreateUserInput{UserPoolId: p.UserPool.Id, Username: email, MessageAction: "SUPPRESS",
			UserAttributes: []userpool.AttributeType{{Name: "email", Value: email}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{UserPoolId: p.UserPool.Id, Username: email, Password: benchPassword, Permanent: true}); err != nil {
			b.Fatal(err)
		}
		tok := f.passwordSignIn(b, client, benchUser{email: email}).AccessToken
		start, err := svc.StartWebAuthnRegistration(ctx, userpool.AccessTokenInput{AccessToken: tok})
		if err != nil {
			b.Fatal(err)
		}
		key, body, err := passkeytest.Register(mustJSON(b, start.CredentialCreationOptions), origin, passkeytest.Forge{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.CompleteWebAuthnRegistration(ctx, userpool.CompleteWebAuthnRegistrationInput{AccessToken: tok, Credential: body}); err != nil {
			b.Fatal(err)
		}
		users[i] = user{email, key}
	}
	var cpu time.Duration
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		u := users[i%len(users)]
		i++
		start := mustJSON(b, userpool.InitiateAuthInput{
			AuthFlow: "USER_AUTH", ClientId: client,
			AuthParameters: map[string]string{"USERNAME": u.email, "PREFERRED_CHALLENGE": "WEB_AUTHN"},
		})
		b.StartTimer()

		c0 := cpuTime()
		body := f.call(b, "InitiateAuth", start)
		cpu += cpuTime() - c0

		b.StopTimer()
		var ch userpool.AuthOutput
		if err := json.Unmarshal(body, &ch); err != nil || ch.ChallengeName != "WEB_AUTHN" {
			b.Fatalf("challenge: %v %s", err, body)
		}
		cred, err := u.key.Assert([]byte(ch.ChallengeParameters["CREDENTIAL_REQUEST_OPTIONS"]), origin, passkeytest.Forge{})
		if err != nil {
			b.Fatal(err)
		}
		answer := mustJSON(b, userpool.RespondToAuthChallengeInput{
			ClientId: client, ChallengeName: "WEB_AUTHN", Session: ch.Session,
			ChallengeResponses: map[string]string{"USERNAME": u.email, "CREDENTIAL": string(cred)},
		})
		b.StartTimer()

		c0 = cpuTime()
		body = f.call(b, "RespondToAuthChallenge", answer)
		cpu += cpuTime() - c0

		if !bytes.Contains(body, []byte(`"AccessToken"`)) {
			b.Fatalf("no tokens: %s", body)
		}
	}
	reportCPU(b, cpu)
}
