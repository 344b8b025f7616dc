package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cognate-auth/cognate/events"
)

// rulesConfig is the example: per-user channels under /users,
// admin-only publishing under /admin, tenant channels by a custom claim.
const rulesConfig = `{
  "namespaces": [
    {"name": "users", "channelRules": [
      {"channel": "/users/{sub}/*", "operations": ["SUBSCRIBE", "PUBLISH"]}
    ]},
    {"name": "admin", "channelRules": [
      {"channel": "/admin/*", "operations": ["PUBLISH"], "groups": ["admin"]}
    ]},
    {"name": "tenants", "channelRules": [
      {"channel": "/tenants/t-{claim:tenant}/*", "operations": ["SUBSCRIBE"]},
      {"channel": "/tenants/by-name/{username}", "operations": ["SUBSCRIBE"]}
    ]},
    {"name": "default"}
  ]
}`

func TestChannelRules(t *testing.T) {
	var cfg events.Config
	if err := json.Unmarshal([]byte(rulesConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	h := newHub(t, cfg)
	tests := []struct {
		name    string
		op      events.Operation
		channel string
		auth    events.Headers
		allowed bool
	}{
		{"own subtree", events.OpSubscribe, "/users/alice-sub/*", token("tok-alice"), true},
		{"own channel", events.OpSubscribe, "/users/alice-sub/inbox", token("tok-alice"), true},
		{"own deeper wildcard", events.OpSubscribe, "/users/alice-sub/inbox/*", token("tok-alice"), true},
		{"foreign subtree", events.OpSubscribe, "/users/bob-sub/*", token("tok-alice"), false},
		{"foreign channel", events.OpSubscribe, "/users/bob-sub/inbox", token("tok-alice"), false},
		{"wildcard over every user (#398)", events.OpSubscribe, "/users/*", token("tok-alice"), false},
		{"the user channel itself is not under /*", events.OpSubscribe, "/users/alice-sub", token("tok-alice"), false},
		{"api key has no sub", events.OpSubscribe, "/users/alice-sub/*", key(), false},
		{"publish own", events.OpPublish, "/users/alice-sub/inbox", token("tok-alice"), true},
		{"publish foreign", events.OpPublish, "/users/bob-sub/inbox", token("tok-alice"), false},
		{"admin publishes", events.OpPublish, "/admin/notice", token("tok-admin"), true},
		{"non-admin publishes", events.OpPublish, "/admin/notice", token("tok-alice"), false},
		{"anyone subscribes to admin", events.OpSubscribe, "/admin/*", token("tok-alice"), true},
		{"tenant claim", events.OpSubscribe, "/tenants/t-acme/*", token("tok-alice"), true},
		{"other tenant", events.OpSubscribe, "/tenants/t-other/*", token("tok-alice"), false},
		{"claim with a slash never matches", events.OpSubscribe, "/tenants/t-a/*", token("tok-bob"), false},
		{"claim with a slash, wildcard", events.OpSubscribe, "/tenants/*", token("tok-bob"), false},
		{"username template", events.OpSubscribe, "/tenants/by-name/alice", token("tok-alice"), true},
		{"foreign username", events.OpSubscribe, "/tenants/by-name/bob", token("tok-alice"), false},
		{"unrestricted namespace", events.OpSubscribe, "/default/*", key(), true},
		{"unrestricted operation", events.OpPublish, "/tenants/t-other/x", key(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.op == events.OpSubscribe {
				c, _ := connect(t, h)
				err = c.Subscribe(context.Background(), "s", tc.channel, tc.auth)
			} else {
				_, err = h.Publish(context.Background(), tc.auth, tc.channel, []string{`{}`})
			}
			if tc.allowed {
				if err != nil {
					t.Fatalf("%s %s: %v", tc.op, tc.channel, err)
				}
				return
			}
			var e *events.Error
			if !errors.As(err, &e) || e.Type != events.TypeUnauthorized || e.Code != 403 {
				t.Fatalf("%s %s: %v, want a 403 UnauthorizedException", tc.op, tc.channel, err)
			}
		})
	}
}

// A subscriber under a rule receives its own events and never another
// user's, whatever it subscribes to.
func TestRulesScopeDelivery(t *testing.T) {
	var cfg events.Config
	if err := json.Unmarshal([]byte(rulesConfig), &cfg); err != nil {
		t.Fatal(err)
	}
	h := newHub(t, cfg)
	c, tr := connect(t, h)
	subscribe(t, c, "mine", "/users/alice-sub/*", token("tok-alice"))
	if err := c.Subscribe(context.Background(), "all", "/users/*", token("tok-alice")); err == nil {
		t.Fatal("/users/* was allowed")
	}
	for _, ch := range []string{"/users/bob-sub/inbox", "/users/alice-sub/inbox"} {
		owner := map[string]string{"/users/bob-sub/inbox": "tok-bob", "/users/alice-sub/inbox": "tok-alice"}[ch]
		if _, err := h.Publish(context.Background(), token(owner), ch, []string{`"` + ch + `"`}); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := tr.wait(t, 0, ofType("data"))
	if *f.Event != `"/users/alice-sub/inbox"` || f.ID != "mine" {
		t.Fatalf("alice got %+v", f)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		json string
	}{
		{"unsupported auth type", `{"authProviders":[{"authType":"AWS_IAM"}]}`},
		{"mode without provider", `{"authProviders":[{"authType":"API_KEY"}],"connectionAuthModes":[{"authType":"OPENID_CONNECT"}]}`},
		{"oidc without issuer", `{"authProviders":[{"authType":"OPENID_CONNECT"}]}`},
		{"bad namespace name", `{"namespaces":[{"name":"-bad"}]}`},
		{"duplicate namespace", `{"namespaces":[{"name":"a"},{"name":"a"}]}`},
		{"rule outside its namespace", `{"namespaces":[{"name":"a","channelRules":[{"channel":"/b/*","operations":["PUBLISH"]}]}]}`},
		{"unknown template", `{"namespaces":[{"name":"a","channelRules":[{"channel":"/a/{email}","operations":["PUBLISH"]}]}]}`},
		{"unknown operation", `{"namespaces":[{"name":"a","channelRules":[{"channel":"/a/*","operations":["CONNECT"]}]}]}`},
		{"wildcard in the middle", `{"namespaces":[{"name":"a","channelRules":[{"channel":"/a/*/b","operations":["PUBLISH"]}]}]}`},
		{"bad regex", `{"authProviders":[{"authType":"AMAZON_COGNITO_USER_POOLS","cognitoConfig":{"userPoolId":"p","appIdClientRegex":"("}}]}`},
		{"oidc without a verifier", `{"authProviders":[{"authType":"OPENID_CONNECT","openIDConnectConfig":{"issuer":"https://x"}}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg events.Config
			if err := json.Unmarshal([]byte(tc.json), &cfg); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if _, err := events.New(context.Background(), cfg, events.Options{APIKeys: apiKeys, UserPool: userPool}); err == nil {
				t.Fatal("New accepted the config")
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	var cfg events.Config
	if err := json.Unmarshal([]byte(`{"keepAlive":"30s","connectionTimeout":120}`), &cfg); err != nil {
		t.Fatal(err)
	}
	h := newHub(t, cfg)
	got := h.Config()
	if got.KeepAlive != events.Duration(30e9) || got.ConnectionTimeout != events.Duration(120e9) {
		t.Fatalf("durations %v %v", got.KeepAlive, got.ConnectionTimeout)
	}
	if len(got.Namespaces) != 1 || got.Namespaces[0].Name != "default" {
		t.Fatalf("namespaces %+v", got.Namespaces)
	}
	want := []events.AuthMode{{AuthType: events.AuthAPIKey}, {AuthType: events.AuthUserPools}}
	for _, modes := range [][]events.AuthMode{got.ConnectionAuthModes, got.Namespaces[0].PublishAuthModes, got.Namespaces[0].SubscribeAuthModes} {
		if len(modes) != 2 || modes[0] != want[0] || modes[1] != want[1] {
			t.Fatalf("modes %+v, want %+v", modes, want)
		}
	}
}

// External providers: a Cognito pool served here (ErrLocalProvider, the
// pool checked against iss, the client against appIdClientRegex) and an
// OIDC issuer through Options.Verifier.
func TestExternalProviders(t *testing.T) {
	cfg := events.Config{AuthProviders: []events.AuthProvider{
		{AuthType: events.AuthUserPools, CognitoConfig: &events.CognitoConfig{UserPoolID: "pool_A", AppIDClientRegex: "web|mobile"}},
		{AuthType: events.AuthOIDC, OpenIDConnectConfig: &events.OpenIDConnectConfig{Issuer: "https://idp.test"}},
	}}
	built := 0
	opts := events.Options{
		UserPool: userPool,
		Verifier: func(_ context.Context, p events.AuthProvider) (events.TokenVerifier, error) {
			built++
			if p.CognitoConfig != nil {
				return nil, events.ErrLocalProvider
			}
			return oidcVerifier{}, nil
		},
	}
	h, err := events.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Shutdown(context.Background())
	tests := []struct {
		token string
		ok    bool
	}{
		{"tok-alice", true},  // pool_A, client web
		{"tok-admin", false}, // pool_A, no client_id
		{"oidc-carol", true},
		{"oidc-expired", false},
		{"nobody", false},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			c, err := h.Connect(context.Background(), "", token(tc.token), newTransport())
			if (err == nil) != tc.ok {
				t.Fatalf("Connect(%s): %v, want ok=%v", tc.token, err, tc.ok)
			}
			if c != nil {
				c.Close()
			}
		})
	}
	if built != 2 {
		t.Fatalf("verifiers built %d times, want once per provider", built)
	}
}

type oidcVerifier struct{}

func (oidcVerifier) Verify(_ context.Context, tok string) (events.Identity, error) {
	switch tok {
	case "oidc-carol":
		return events.Identity{Sub: "carol"}, nil
	case "oidc-expired":
		return events.Identity{}, events.ErrTokenExpired
	}
	return events.Identity{}, events.ErrUnauthorized
}
