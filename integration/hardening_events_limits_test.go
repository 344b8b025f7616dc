package integration_test

import (
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
)

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
