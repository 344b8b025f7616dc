package integration_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/coder/websocket"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

// The events API as `cognate serve` wires it: the development key from
// amplify_outputs.json, pool tokens, the config file's channel rules, all
// through the server's own middleware (which must let the upgrade through).

func (e *env) devEventsKey() string {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join(e.data, "amplify_outputs.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	var out struct {
		Custom struct {
			Events struct {
				APIKey   string `json:"api_key"`
				AuthType string `json:"default_authorization_type"`
			} `json:"events"`
		} `json:"custom"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Custom.Events.APIKey == "" || out.Custom.Events.AuthType != "API_KEY" {
		e.t.Fatalf("amplify_outputs.json custom.events = %+v (%v)", out.Custom.Events, err)
	}
	key, err := os.ReadFile(filepath.Join(e.data, "events-dev-key"))
	if err != nil || strings.TrimSpace(string(key)) != out.Custom.Events.APIKey {
		e.t.Fatalf("events-dev-key = %q (%v), want the outputs' key", key, err)
	}
	return out.Custom.Events.APIKey
}

// socket is one events WebSocket, authorized at connect with auth.
type socket struct {
	t *testing.T
	c *websocket.Conn
}

func (e *env) dialEvents(auth map[string]string) *socket {
	e.t.Helper()
	hdr, _ := json.Marshal(auth)
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/event/realtime", &websocket.DialOptions{
		Subprotocols: []string{"aws-appsync-event-ws", "header-" + base64.RawURLEncoding.EncodeToString(hdr)},
	})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(1 << 20)
	e.t.Cleanup(func() { c.CloseNow() })
	s := &socket{t: e.t, c: c}
	s.send(map[string]any{"type": "connection_init"})
	if m := s.next(); m["type"] != "connection_ack" {
		e.t.Fatalf("after connection_init: %v", m)
	}
	return s
}

func (s *socket) send(m map[string]any) {
	s.t.Helper()
	b, _ := json.Marshal(m)
	if err := s.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		s.t.Fatalf("write: %v", err)
	}
}

// next returns the next message that is not a keep-alive.
func (s *socket) next() map[string]any {
	s.t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, b, err := s.c.Read(ctx)
		cancel()
		if err != nil {
			s.t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			s.t.Fatalf("frame %q: %v", b, err)
		}
		if m["type"] != "ka" {
			return m
		}
	}
}

func errorType(m map[string]any) string {
	errs, _ := m["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	first, _ := errs[0].(map[string]any)
	t, _ := first["errorType"].(string)
	return t
}

func (e *env) postEvent(auth map[string]string, channel string, events ...string) (int, map[string]any) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"channel": channel, "events": events})
	req, _ := http.NewRequestWithContext(e.ctx, http.MethodPost, e.url+"/event", bytes.NewReader(body))
	for k, v := range auth {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func TestEventsDevKeyAndPoolTokens(t *testing.T) {
	e := newEnv(t)
	key := e.devEventsKey()
	host := strings.TrimPrefix(e.url, "http://")
	keyAuth := map[string]string{"x-api-key": key, "host": host}

	e.signUp(e.pub, "ev@example.com")
	tokens := e.signIn(e.pub, "ev@example.com", password)
	userAuth := map[string]string{"Authorization": aws.ToString(tokens.AccessToken), "host": host}

	sub := e.dialEvents(userAuth)
	sub.send(map[string]any{"type": "subscribe", "id": "s1", "channel": "/default/*", "authorization": userAuth})
	if m := sub.next(); m["type"] != "subscribe_success" || m["id"] != "s1" {
		t.Fatalf("subscribe: %v", m)
	}
	status, res := e.postEvent(keyAuth, "/default/room/1", `{"n":1}`)
	if status != http.StatusOK || len(res["successful"].([]any)) != 1 {
		t.Fatalf("POST /event = %d %v", status, res)
	}
	if m := sub.next(); m["type"] != "data" || m["id"] != "s1" || m["event"] != `{"n":1}` {
		t.Fatalf("delivery: %v", m)
	}

	// Global sign-out revokes the token for new operations.
	if _, err := e.srv.Service().AdminUserGlobalSignOut(e.ctx, userpool.AdminUserInput{UserPoolId: e.pool, Username: "ev@example.com"}); err != nil {
		t.Fatal(err)
	}
	sub.send(map[string]any{"type": "subscribe", "id": "s2", "channel": "/default/x", "authorization": userAuth})
	if m := sub.next(); m["type"] != "subscribe_error" || errorType(m) != "UnauthorizedException" {
		t.Fatalf("subscribe with a revoked token: %v", m)
	}
	if status, _ := e.postEvent(map[string]string{"x-api-key": "da2-" + strings.Repeat("a", 26)}, "/default/a", `1`); status != http.StatusUnauthorized {
		t.Fatalf("POST with an unknown key = %d, want 401", status)
	}
}

func TestEventsChannelRulesFromConfig(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "cognate.json")
	os.WriteFile(cfgFile, []byte(`{
	  "UserPools": [{"Id": "us-east-1_rules", "PoolName": "rules", "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
	    "Clients": [{"ClientId": "rulesclient", "ClientName": "web",
	      "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}]}],
	  "Events": {"namespaces": [{"name": "default"}, {"name": "users", "channelRules": [
	    {"channel": "/users/{sub}/*", "operations": ["SUBSCRIBE", "PUBLISH"]}]}]}
	}`), 0o600)
	e := newEnvWith(t, server.Config{ConfigFile: cfgFile})
	host := strings.TrimPrefix(e.url, "http://")
	sub := e.signUp(e.pub, "rules@example.com")
	tokens := e.signIn(e.pub, "rules@example.com", password)
	auth := map[string]string{"Authorization": aws.ToString(tokens.IdToken), "host": host}

	s := e.dialEvents(auth)
	for _, tc := range []struct {
		channel, want string
	}{
		{"/users/" + sub + "/*", "subscribe_success"},
		{"/users/" + sub + "/inbox", "subscribe_success"},
		{"/users/*", "subscribe_error"},
		{"/users/someone-else/inbox", "subscribe_error"},
		{"/nowhere/a", "subscribe_error"},
	} {
		s.send(map[string]any{"type": "subscribe", "id": tc.channel, "channel": tc.channel, "authorization": auth})
		if m := s.next(); m["type"] != tc.want || m["id"] != tc.channel {
			t.Errorf("subscribe %s: %v, want %s", tc.channel, m, tc.want)
		}
	}
}

// An OPENID_CONNECT namespace trusts an issuer found by discovery; here
// the issuer is this server's own pool, reached over HTTP like any other
// OIDC provider (tokenverify, not the pool's in-process check). Its
// clientId pins the audience.
func TestEventsOIDCProvider(t *testing.T) {
	const pool = "us-east-1_oidcpool"
	e := newEnvAt(t, func(url string) server.Config {
		file := filepath.Join(t.TempDir(), "cognate.json")
		os.WriteFile(file, []byte(`{
		  "UserPools": [{"Id": "`+pool+`", "PoolName": "oidc", "UsernameAttributes": ["email"], "AutoVerifiedAttributes": ["email"],
		    "Clients": [{"ClientId": "oidcclient", "ClientName": "web",
		      "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}]}],
		  "Events": {
		    "authProviders": [{"authType": "API_KEY"}, {"authType": "OPENID_CONNECT",
		      "openIDConnectConfig": {"issuer": "`+url+`/`+pool+`", "clientId": "oidcclient"}}],
		    "connectionAuthModes": [{"authType": "API_KEY"}, {"authType": "OPENID_CONNECT"}],
		    "defaultPublishAuthModes": [{"authType": "OPENID_CONNECT"}],
		    "defaultSubscribeAuthModes": [{"authType": "OPENID_CONNECT"}]}
		}`), 0o600)
		return server.Config{ConfigFile: file}
	})
	host := strings.TrimPrefix(e.url, "http://")
	e.signUp(e.pub, "oidc@example.com")
	tokens := e.signIn(e.pub, "oidc@example.com", password)
	idAuth := map[string]string{"Authorization": aws.ToString(tokens.IdToken), "host": host}

	s := e.dialEvents(idAuth)
	s.send(map[string]any{"type": "subscribe", "id": "a", "channel": "/default/news", "authorization": idAuth})
	if m := s.next(); m["type"] != "subscribe_success" {
		t.Fatalf("subscribe with an OIDC id token: %v", m)
	}
	keyAuth := map[string]string{"x-api-key": e.devEventsKey()}
	if status, _ := e.postEvent(keyAuth, "/default/news", "1"); status != http.StatusUnauthorized {
		t.Fatalf("publish with an API key where only OIDC may publish = %d, want 401", status)
	}
	if status, res := e.postEvent(idAuth, "/default/news", `"hello"`); status != http.StatusOK {
		t.Fatalf("publish with the OIDC token = %d %v", status, res)
	}
	if m := s.next(); m["type"] != "data" || m["event"] != `"hello"` {
		t.Fatalf("delivery: %v", m)
	}
	forged := aws.ToString(tokens.IdToken)
	forged = forged[:len(forged)-4] + "AAAA"
	if status, _ := e.postEvent(map[string]string{"Authorization": forged}, "/default/news", "1"); status != http.StatusUnauthorized {
		t.Fatalf("publish with a forged token = %d, want 401", status)
	}
}

// The events connection caps as `cognate serve` enforces them. The tests
// stand where a reverse proxy would: the server trusts 127.0.0.1, and
// X-Forwarded-For names the client, so each test picks its clients'
// addresses.

// capDial opens an events WebSocket for the client forwardedFor names,
// sends connection_init and returns the answer (connection_ack or
// connection_error) with the close status that followed a refusal.
func (e *env) capDial(forwardedFor string, auth map[string]string) (*websocket.Conn, map[string]any, websocket.StatusCode) {
	e.t.Helper()
	hdr, _ := json.Marshal(auth)
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.url, "http")+"/event/realtime", &websocket.DialOptions{
		HTTPHeader:   http.Header{"X-Forwarded-For": {forwardedFor}},
		Subprotocols: []string{"aws-appsync-event-ws", "header-" + base64.RawURLEncoding.EncodeToString(hdr)},
	})
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	e.t.Cleanup(func() { c.CloseNow() })
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`)); err != nil {
		e.t.Fatalf("write: %v", err)
	}
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			e.t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatalf("frame %q: %v", b, err)
		}
		switch m["type"] {
		case "ka":
			continue
		case "connection_error":
			_, _, err := c.Read(ctx)
			return c, m, websocket.CloseStatus(err)
		}
		return c, m, -1
	}
}

// capUserToken creates a user by the admin API and returns its access
// token. (Sign-up would need the outbox, which a server behind a trusted
// proxy does not show.)
func (e *env) capUserToken(email string) string {
	e.t.Helper()
	must(e.api.AdminCreateUser(e.ctx, &cip.AdminCreateUserInput{
		UserPoolId: aws.String(e.pool), Username: aws.String(email), MessageAction: types.MessageActionTypeSuppress,
	}))(e.t)
	must(e.api.AdminSetUserPassword(e.ctx, &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(e.pool), Username: aws.String(email), Password: aws.String(password), Permanent: true,
	}))(e.t)
	return aws.ToString(e.signIn(e.pub, email, password).AccessToken)
}

// wantCap checks a refusal by a cap: LimitExceededException, 429, the
// message, a 1013 close.
func wantCap(t *testing.T, m map[string]any, status websocket.StatusCode, message string) {
	t.Helper()
	errs, _ := m["errors"].([]any)
	if len(errs) != 1 || status != websocket.StatusTryAgainLater {
		t.Fatalf("got %v, close %v; want a connection_error %q and 1013", m, status, message)
	}
	e, _ := errs[0].(map[string]any)
	if e["errorType"] != "LimitExceededException" || e["errorCode"] != 429.0 || e["message"] != message {
		t.Fatalf("got %v, want LimitExceededException 429 %q", e, message)
	}
}

func wantAck(t *testing.T, m map[string]any) {
	t.Helper()
	if m["type"] != "connection_ack" {
		t.Fatalf("got %v, want connection_ack", m)
	}
}

// The caps come from the config file (per address) and the flags (per
// key); the address is the one --trusted-proxies makes of
// X-Forwarded-For, so a client cannot shed its count by prepending
// addresses of its choice.
func TestEventsConnectionCapsAsConfigured(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "cognate.json")
	if err := os.WriteFile(cfgFile, []byte(`{"Events": {"maxConnectionsPerAddress": 2}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, server.Config{
		ConfigFile: cfgFile, TrustedProxies: "127.0.0.1/32",
		EventsMaxConnectionsPerAddress: 50, // the file's 2 wins
		EventsMaxConnectionsPerAPIKey:  3,
	})
	host := strings.TrimPrefix(e.url, "http://")
	key := map[string]string{"x-api-key": e.devEventsKey(), "host": host}
	user := map[string]string{"Authorization": e.capUserToken("caps@example.com"), "host": host}
	const perAddress = "Too many connections from your address: 2 are allowed at once."

	first, m, _ := e.capDial("198.51.100.1", key)
	wantAck(t, m)
	_, m, _ = e.capDial("198.51.100.1", user)
	wantAck(t, m)
	_, m, status := e.capDial("198.51.100.1", user)
	wantCap(t, m, status, perAddress)
	_, m, status = e.capDial("203.0.113.66, 198.51.100.1", user)
	wantCap(t, m, status, perAddress)

	_, m, _ = e.capDial("198.51.100.2", key)
	wantAck(t, m)
	_, m, _ = e.capDial("198.51.100.3", key)
	wantAck(t, m)
	_, m, status = e.capDial("198.51.100.4", key)
	wantCap(t, m, status, "Too many connections with this API key: 3 are allowed at once.")
	_, m, _ = e.capDial("198.51.100.4", user)
	wantAck(t, m)

	// A client that vanishes gives its slots back.
	first.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, m, _ := e.capDial("198.51.100.1", key)
		if m["type"] == "connection_ack" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed connection still counts: %v", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With no configuration at all, one address holds at most 100
// connections and the development key (public by design: it is in
// amplify_outputs.json) at most 1,000.
func TestEventsDefaultConnectionCaps(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,100 connections")
	}
	e := newEnvWith(t, server.Config{TrustedProxies: "127.0.0.1/32"})
	host := strings.TrimPrefix(e.url, "http://")
	key := map[string]string{"x-api-key": e.devEventsKey(), "host": host}
	user := map[string]string{"Authorization": e.capUserToken("defaults@example.com"), "host": host}

	for a := range 10 {
		for range 100 {
			_, m, _ := e.capDial(fmt.Sprint("198.51.100.", a), key)
			wantAck(t, m)
		}
	}
	_, m, status := e.capDial("198.51.100.0", user)
	wantCap(t, m, status, "Too many connections from your address: 100 are allowed at once.")
	_, m, status = e.capDial("198.51.100.10", key)
	wantCap(t, m, status, "Too many connections with this API key: 1000 are allowed at once.")
	_, m, _ = e.capDial("198.51.100.10", user)
	wantAck(t, m)
}
