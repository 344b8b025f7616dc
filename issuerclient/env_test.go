package issuerclient_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

const (
	// password and password2 satisfy Cognito's default policy.
	password  = "Correct-Horse-9"
	password2 = "Battery-Staple-7"
	callback  = "https://rp.example/callback"
)

// shared is one Cognate server for the whole package: starting one costs
// RSA key generation, and the tests never share users or clients.
var shared struct {
	srv  *server.Server
	url  string
	pool string
	pub  string // the default client: SRP, password and refresh, no rotation
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "issuer-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	ts := httptest.NewUnstartedServer(nil)
	url := "http://" + ts.Listener.Addr().String()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: dir, PublicURL: url, Out: io.Discard, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "server.New:", err)
		return 1
	}
	defer srv.Close()
	ts.Config.Handler = srv.Handler()
	ts.Start()
	defer ts.Close()
	shared.srv, shared.url, shared.pool, shared.pub = srv, url, srv.Pool.ID, srv.Client.ClientID
	return m.Run()
}

func svc() *userpool.Service { return shared.srv.Service() }

// newClient returns an issuer client for clientID (and secret) on the
// shared server.
func newClient(t testing.TB, clientID, secret string) *issuerclient.Client {
	t.Helper()
	c, err := issuerclient.New(issuerclient.Config{
		UserPoolID: shared.pool, ClientID: clientID, ClientSecret: secret,
		Endpoint: shared.url, OAuthDomain: shared.url,
	})
	if err != nil {
		t.Fatalf("issuerclient.New: %v", err)
	}
	return c
}

var userSeq atomic.Int64

// newEmail returns an address no other test uses.
func newEmail(*testing.T) string {
	return fmt.Sprintf("user%d-%d@example.com", userSeq.Add(1), time.Now().UnixNano())
}

// newUser creates a user in the shared pool; with temporary it must
// choose a new password at its first sign-in. It returns the pool's
// username (the sub: the pool signs in by email).
func newUser(t testing.TB, email string, temporary bool) string {
	t.Helper()
	ctx := context.Background()
	out, err := svc().AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: shared.pool, Username: email, TemporaryPassword: password, MessageAction: "SUPPRESS",
		UserAttributes: []userpool.AttributeType{{Name: "email_verified", Value: "true"}, {Name: "name", Value: "Ada"}},
	})
	if err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	if !temporary {
		_, err = svc().AdminSetUserPassword(ctx, userpool.AdminSetUserPasswordInput{
			UserPoolId: shared.pool, Username: out.User.Username, Password: password, Permanent: true,
		})
		if err != nil {
			t.Fatalf("AdminSetUserPassword: %v", err)
		}
	}
	return out.User.Username
}

// clientSpec describes an app client to create.
type clientSpec struct {
	secret      bool
	rotation    bool
	grace       int64
	legacyError bool     // PreventUserExistenceErrors LEGACY
	oauthFlows  []string // e.g. code; nil: no OAuth
}

// newAppClient creates an app client in the shared pool and returns its
// id and secret.
func newAppClient(t testing.TB, s clientSpec) (id, secret string) {
	t.Helper()
	in := userpool.CreateUserPoolClientInput{
		ClientSettingsInput: userpool.ClientSettingsInput{
			UserPoolId: shared.pool, ClientName: "test",
			ExplicitAuthFlows: []string{"ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		},
		GenerateSecret: s.secret,
	}
	if s.rotation {
		in.RefreshTokenRotation = &userpool.RefreshTokenRotationType{Feature: "ENABLED", RetryGracePeriodSeconds: s.grace}
	}
	if s.legacyError {
		in.PreventUserExistenceErrors = "LEGACY"
	}
	if s.oauthFlows != nil {
		in.AllowedOAuthFlowsUserPoolClient = true
		in.AllowedOAuthFlows = s.oauthFlows
		in.AllowedOAuthScopes = []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"}
		in.CallbackURLs = []string{callback}
	}
	out, err := svc().CreateUserPoolClient(context.Background(), in)
	if err != nil {
		t.Fatalf("CreateUserPoolClient: %v", err)
	}
	return out.UserPoolClient.ClientId, out.UserPoolClient.ClientSecret
}

// authCode issues an authorization code for username as the authorize
// endpoint would after a hosted sign-in, bound to an S256 challenge of
// the returned verifier.
func authCode(t testing.TB, clientID, username string) (code, verifier string) {
	t.Helper()
	verifier = rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	code, err := svc().IssueAuthCode(context.Background(), userpool.Authorization{
		ClientID: clientID, Username: username, RedirectURI: callback, Scope: "openid email profile",
		CodeChallenge: base64.RawURLEncoding.EncodeToString(sum[:]), AuthTime: time.Now(),
	})
	if err != nil {
		t.Fatalf("IssueAuthCode: %v", err)
	}
	return code, verifier
}

// signIn runs SRP to tokens or fails the test.
func signIn(t testing.TB, c *issuerclient.Client, user, pw string) *issuerclient.Tokens {
	t.Helper()
	res, err := c.SignInSRP(context.Background(), user, pw)
	if err != nil {
		t.Fatalf("SignInSRP: %v", err)
	}
	if res.Tokens == nil {
		t.Fatalf("SignInSRP ended in challenge %q", res.Challenge)
	}
	return res.Tokens
}
