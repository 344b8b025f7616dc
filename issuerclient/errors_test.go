package issuerclient_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/userpool"
)

func adminUser(name string) userpool.AdminUserInput {
	return userpool.AdminUserInput{UserPoolId: shared.pool, Username: name}
}

// call is one operation of a Client, returning its error.
type call struct {
	name  string
	oauth bool // an OAuth endpoint, not the JSON API
	do    func(ctx context.Context, c *issuerclient.Client) error
}

// calls exercises every operation.
var calls = []call{
	{"SignInSRP", false, func(ctx context.Context, c *issuerclient.Client) error {
		_, err := c.SignInSRP(ctx, "u@example.com", password)
		return err
	}},
	{"RespondToChallenge", false, func(ctx context.Context, c *issuerclient.Client) error {
		_, err := c.RespondToChallenge(ctx, "NEW_PASSWORD_REQUIRED", "s", "u", map[string]string{"NEW_PASSWORD": password})
		return err
	}},
	{"Refresh", false, func(ctx context.Context, c *issuerclient.Client) error {
		_, err := c.Refresh(ctx, "rt", "")
		return err
	}},
	{"RevokeToken", false, func(ctx context.Context, c *issuerclient.Client) error { return c.RevokeToken(ctx, "rt") }},
	{"GetUser", false, func(ctx context.Context, c *issuerclient.Client) error {
		_, err := c.GetUser(ctx, "at")
		return err
	}},
	{"ExchangeCode", true, func(ctx context.Context, c *issuerclient.Client) error {
		_, err := c.ExchangeCode(ctx, "code", callback, "v")
		return err
	}},
	{"RefreshOAuth", true, func(ctx context.Context, c *issuerclient.Client) error {
		_, err := c.RefreshOAuth(ctx, "rt")
		return err
	}},
	{"RevokeOAuth", true, func(ctx context.Context, c *issuerclient.Client) error { return c.RevokeOAuth(ctx, "rt") }},
}

// clientAt is an issuer client whose JSON API and OAuth endpoints are at
// url.
func clientAt(t *testing.T, url string) *issuerclient.Client {
	t.Helper()
	c, err := issuerclient.New(issuerclient.Config{
		UserPoolID: "us-east-1_Test", ClientID: "client", Endpoint: url, OAuthDomain: url,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantUnavailable(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, issuerclient.ErrUnavailable) {
		t.Fatalf("error %v does not wrap ErrUnavailable", err)
	}
	if issuerclient.IsTerminal(err) {
		t.Fatalf("IsTerminal(%v) = true for an unavailable issuer", err)
	}
}

func TestIssuerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close()
	c := clientAt(t, url)
	for _, op := range calls {
		t.Run(op.name, func(t *testing.T) { wantUnavailable(t, op.do(t.Context(), c)) })
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := newClient(t, shared.pub, "")
	for _, op := range calls {
		t.Run(op.name, func(t *testing.T) {
			err := op.do(ctx, c)
			wantUnavailable(t, err)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v does not wrap context.Canceled", err)
			}
		})
	}
}

// TestAnswers feeds every operation answers a proxy, an overloaded issuer
// or a broken one may give, and checks how each is classified.
func TestAnswers(t *testing.T) {
	html := "<html><body>Bad Gateway</body></html>"
	cases := []struct {
		name        string
		api         string // "json", "oauth" or "" for both
		status      int
		contentType string
		body        string
		unavailable bool
		typ         string // for *issuerclient.Error answers
		terminal    bool
	}{
		{"500 HTML", "", 500, "text/html", html, true, "", false},
		{"502 empty", "", 502, "", "", true, "", false},
		{"200 HTML", "", 200, "text/html", html, true, "", false},
		{"200 truncated JSON", "", 200, "application/json", `{"AuthenticationResult":{"AccessToken":"a`, true, "", false},
		{"200 empty object", "", 200, "application/json", `{}`, true, "", false},
		{"404 HTML", "", 404, "text/html", html, true, "", false},
		{"oversized", "", 200, "application/json", `{"x":"` + strings.Repeat("a", 2<<20) + `"}`, true, "", false},
		{"429", "json", 429, "application/json", `{"__type":"TooManyRequestsException","message":"slow down"}`, true, "TooManyRequestsException", false},
		{"throttling 400", "json", 400, "application/json", `{"__type":"ThrottlingException","message":"Rate exceeded"}`, true, "ThrottlingException", false},
		{"internal 500", "json", 500, "application/json", `{"__type":"InternalErrorException","message":"oops"}`, true, "InternalErrorException", false},
		{"OAuth server_error", "oauth", 500, "application/json", `{"error":"server_error"}`, true, "server_error", false},
		{"namespaced type", "json", 400, "application/json", `{"__type":"com.amazonaws.cognito#NotAuthorizedException","Message":"Access Token has been revoked"}`, false, "NotAuthorizedException", true},
		{"OAuth invalid_grant", "oauth", 400, "application/json", `{"error":"invalid_grant","error_description":"revoked"}`, false, "invalid_grant", true},
		{"not terminal", "json", 400, "application/json", `{"__type":"InvalidParameterException","message":"bad"}`, false, "InvalidParameterException", false},
		{"OAuth invalid_client", "oauth", 401, "application/json", `{"error":"invalid_client"}`, false, "invalid_client", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer ts.Close()
			c := clientAt(t, ts.URL)
			for _, op := range calls {
				if (tc.api == "json" && op.oauth) || (tc.api == "oauth" && !op.oauth) {
					continue
				}
				name := op.name
				err := op.do(t.Context(), c)
				if tc.status == 200 && (name == "RevokeToken" || name == "RevokeOAuth") {
					// These succeed on any 200: they read no answer.
					continue
				}
				if err == nil {
					t.Fatalf("%s: success", name)
				}
				if got := errors.Is(err, issuerclient.ErrUnavailable); got != tc.unavailable {
					t.Fatalf("%s: %v: unavailable %v, want %v", name, err, got, tc.unavailable)
				}
				if got := issuerclient.IsTerminal(err); got != tc.terminal {
					t.Fatalf("%s: %v: terminal %v, want %v", name, err, got, tc.terminal)
				}
				var e *issuerclient.Error
				if errors.As(err, &e) != (tc.typ != "") || (e != nil && (e.Type != tc.typ || e.Status != tc.status)) {
					t.Fatalf("%s: %v: got error %+v, want type %q", name, err, e, tc.typ)
				}
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct{ method, path, target, contentType, auth, body string }
	last := make(chan seen, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		last <- seen{r.Method, r.URL.Path, r.Header.Get("X-Amz-Target"), r.Header.Get("Content-Type"), u + ":" + p, string(b)}
		w.WriteHeader(400)
		w.Write([]byte(`{"__type":"NotAuthorizedException","error":"invalid_grant"}`))
	}))
	defer ts.Close()
	c, err := issuerclient.New(issuerclient.Config{
		UserPoolID: "us-east-1_Test", ClientID: "client/id", ClientSecret: "s:e cret",
		Endpoint: ts.URL + "/", OAuthDomain: ts.URL + "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Refresh(t.Context(), "rt", "dk")
	got := <-last
	want := seen{"POST", "/", "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken", "application/x-amz-json-1.1", ":", ""}
	if got.method != want.method || got.path != want.path || got.target != want.target || got.contentType != want.contentType ||
		!strings.Contains(got.body, `"ClientSecret":"s:e cret"`) || !strings.Contains(got.body, `"DeviceKey":"dk"`) {
		t.Fatalf("GetTokensFromRefreshToken request %+v", got)
	}
	c.RefreshOAuth(t.Context(), "rt")
	got = <-last
	// client_secret_basic: id and secret form-encoded, then Basic.
	if got.path != "/oauth2/token" || got.contentType != "application/x-www-form-urlencoded" ||
		got.auth != "client%2Fid:s%3Ae+cret" || strings.Contains(got.body, "client_id") ||
		!strings.Contains(got.body, "grant_type=refresh_token") {
		t.Fatalf("token request %+v", got)
	}
	c.RevokeOAuth(t.Context(), "rt")
	got = <-last
	if got.path != "/oauth2/revoke" || !strings.Contains(got.body, "token=rt") {
		t.Fatalf("revoke request %+v", got)
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		name      string
		cfg       issuerclient.Config
		wantErr   bool
		endpoint  string
		issuerURL string
	}{
		{"no client", issuerclient.Config{UserPoolID: "us-east-1_a"}, true, "", ""},
		{"region from pool", issuerclient.Config{UserPoolID: "eu-west-2_AbC", ClientID: "c"}, false,
			"https://cognito-idp.eu-west-2.amazonaws.com", "https://cognito-idp.eu-west-2.amazonaws.com/eu-west-2_AbC"},
		{"explicit region", issuerclient.Config{Region: "us-gov-west-1", UserPoolID: "us-gov-west-1_x", ClientID: "c"}, false,
			"https://cognito-idp.us-gov-west-1.amazonaws.com", "https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_x"},
		{"Cognate", issuerclient.Config{UserPoolID: "us-east-1_x", ClientID: "c", Endpoint: "http://localhost:9229/"}, false,
			"http://localhost:9229/", "http://localhost:9229/us-east-1_x"},
		{"hostile pool id", issuerclient.Config{UserPoolID: "evil.com/x_y", ClientID: "c"}, true, "", ""},
		{"nothing to call", issuerclient.Config{ClientID: "c"}, true, "", ""},
		{"bad endpoint", issuerclient.Config{ClientID: "c", Endpoint: "ftp://x"}, true, "", ""},
		{"bad OAuth domain", issuerclient.Config{ClientID: "c", UserPoolID: "us-east-1_x", OAuthDomain: "auth.example.com"}, true, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := issuerclient.New(tc.cfg)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("New(%+v) succeeded", tc.cfg)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			cfg := c.Config()
			if cfg.Endpoint != tc.endpoint || c.IssuerURL() != tc.issuerURL || cfg.HTTPClient == nil || cfg.Logger == nil {
				t.Fatalf("Config %+v, IssuerURL %q", cfg, c.IssuerURL())
			}
		})
	}
}
