package main

import (
	"context"
	"fmt"
	"time"
)

// benchPassword satisfies Cognito's (and Cognate's) default policy.
const benchPassword = "Bench-Passw0rd!"

// user is a confirmed user of the pool under load.
type user struct {
	email string // what the user signs in with
	sub   string // UserSub from SignUp
}

// fixture is what setup made on the server: the pool, its app clients
// and users, with one sign-in's tokens per user where the op needs them.
type fixture struct {
	poolID string
	// plain: refresh-token rotation off (Cognate), or cognito-local's
	// only kind of client.
	plain string
	// rotating: rotation on, 10 s grace (Cognate only).
	rotating string
	users    []user
	tokens   []authResult // tokens[i] belongs to users[i]
}

type authResult struct {
	AccessToken  string `json:"AccessToken"`
	IdToken      string `json:"IdToken"`
	RefreshToken string `json:"RefreshToken"`
}

type authOutput struct {
	ChallengeName        string            `json:"ChallengeName"`
	ChallengeParameters  map[string]string `json:"ChallengeParameters"`
	AuthenticationResult *authResult       `json:"AuthenticationResult"`
}

type attr struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// setup creates (unless given) a pool and app clients, then users through
// the public SignUp and the admin AdminConfirmSignUp — the same calls on
// both servers; only Cognate checks the admin call's SigV4 signature.
func setup(ctx context.Context, a *api, cfg *config) (*fixture, error) {
	f := &fixture{poolID: cfg.poolID, plain: cfg.clientID, rotating: cfg.clientID}
	run := time.Now().UTC().Format("150405.000")
	if f.poolID == "" {
		var out struct {
			UserPool struct {
				Id string `json:"Id"`
			} `json:"UserPool"`
		}
		err := a.do(ctx, "CreateUserPool", map[string]any{
			"PoolName":               "loadgen-" + cfg.op,
			"UsernameAttributes":     []string{"email"},
			"AutoVerifiedAttributes": []string{"email"},
		}, &out, true)
		if err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		f.poolID = out.UserPool.Id
	}
	if cfg.clientID == "" {
		var err error
		if f.plain, err = createClient(ctx, a, cfg, f.poolID, "loadgen-plain", false); err != nil {
			return nil, err
		}
		f.rotating = f.plain
		if cfg.kind == kindCognate {
			if f.rotating, err = createClient(ctx, a, cfg, f.poolID, "loadgen-rotating", true); err != nil {
				return nil, err
			}
		}
	}
	for i := range cfg.users {
		email := fmt.Sprintf("lg-%s-%03d@example.com", run, i)
		var su struct {
			UserSub string `json:"UserSub"`
		}
		err := a.do(ctx, "SignUp", map[string]any{
			"ClientId": f.plain, "Username": email, "Password": benchPassword,
			"UserAttributes": []attr{{"email", email}},
		}, &su, false)
		if err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		if err := a.do(ctx, "AdminConfirmSignUp", map[string]any{"UserPoolId": f.poolID, "Username": email}, nil, true); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		f.users = append(f.users, user{email: email, sub: su.UserSub})
	}
	return f, nil
}

func createClient(ctx context.Context, a *api, cfg *config, poolID, name string, rotating bool) (string, error) {
	in := map[string]any{
		"UserPoolId": poolID,
		"ClientName": name,
		"ExplicitAuthFlows": []string{
			"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH",
		},
	}
	if cfg.kind == kindCognate {
		feature := "DISABLED"
		if rotating {
			feature = "ENABLED"
		}
		in["RefreshTokenRotation"] = map[string]any{"Feature": feature, "RetryGracePeriodSeconds": 10}
	}
	var out struct {
		UserPoolClient struct {
			ClientId string `json:"ClientId"`
		} `json:"UserPoolClient"`
	}
	if err := a.do(ctx, "CreateUserPoolClient", in, &out, true); err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	return out.UserPoolClient.ClientId, nil
}

// passwordSignIn signs a user in with USER_PASSWORD_AUTH.
func passwordSignIn(ctx context.Context, a *api, clientID string, u user) (authResult, error) {
	var out authOutput
	err := a.do(ctx, "InitiateAuth", map[string]any{
		"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": clientID,
		"AuthParameters": map[string]string{"USERNAME": u.email, "PASSWORD": benchPassword},
	}, &out, false)
	if err != nil {
		return authResult{}, err
	}
	if out.AuthenticationResult == nil || out.AuthenticationResult.AccessToken == "" {
		return authResult{}, fmt.Errorf("InitiateAuth USER_PASSWORD_AUTH for %s: no tokens (challenge %q)", u.email, out.ChallengeName)
	}
	return *out.AuthenticationResult, nil
}

// signInAll gives every user one sign-in's tokens.
func (f *fixture) signInAll(ctx context.Context, a *api, clientID string) error {
	f.tokens = f.tokens[:0]
	for _, u := range f.users {
		res, err := passwordSignIn(ctx, a, clientID, u)
		if err != nil {
			return fmt.Errorf("setup sign-in: %w", err)
		}
		f.tokens = append(f.tokens, res)
	}
	return nil
}
