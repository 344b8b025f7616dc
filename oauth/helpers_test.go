package oauth_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/userpool"
)

const callback = "http://localhost:8080/cb"

// env is a real server on a loopback listener with an OAuth app client.
type env struct {
	t      *testing.T
	srv    *server.Server
	url    string
	data   string // the server's data directory
	client userpool.UserPoolClientType
}

func newEnv(t *testing.T, edit ...func(*userpool.CreateUserPoolClientInput)) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	data := t.TempDir()
	srv, err := server.New(context.Background(), server.Config{
		DataDir: data, PublicURL: base, Out: io.Discard, GuessRate: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() { ts.Close(); srv.Close() })
	in := userpool.CreateUserPoolClientInput{ClientSettingsInput: userpool.ClientSettingsInput{
		UserPoolId: srv.Pool.ID, ClientName: "Acme Notes",
		ExplicitAuthFlows:               []string{"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"},
		AllowedOAuthFlowsUserPoolClient: true,
		AllowedOAuthFlows:               []string{"code", "implicit"},
		AllowedOAuthScopes:              []string{"openid", "email", "profile", "aws.cognito.signin.user.admin"},
		CallbackURLs:                    []string{callback},
		LogoutURLs:                      []string{"http://localhost:8080/signed-out"},
		SupportedIdentityProviders:      []string{"COGNITO"},
	}}
	for _, f := range edit {
		f(&in)
	}
	out, err := srv.Service().CreateUserPoolClient(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, url: base, data: data, client: out.UserPoolClient}
}

// user signs a user up and confirms the email with the code sent.
func (e *env) user(email, password string) {
	e.t.Helper()
	ctx := context.Background()
	svc := e.srv.Service()
	if _, err := svc.SignUp(ctx, userpool.SignUpInput{ClientId: e.client.ClientId, SecretHash: e.secretHash(email), Username: email, Password: password}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := svc.ConfirmSignUp(ctx, userpool.ConfirmSignUpInput{
		ClientId: e.client.ClientId, SecretHash: e.secretHash(email), Username: email, ConfirmationCode: e.latestCode(email),
	}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) secretHash(username string) string {
	if e.client.ClientSecret == "" {
		return ""
	}
	return userpool.SecretHash(e.client.ClientSecret, username, e.client.ClientId)
}

// latestCode reads the newest code sent to dest from the dev outbox.
func (e *env) latestCode(dest string) string {
	e.t.Helper()
	key, err := os.ReadFile(filepath.Join(e.data, "dev-outbox-key"))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Get(e.url + "/_dev/outbox.json?key=" + strings.TrimSpace(string(key)))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []struct{ Destination, Code string }
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		e.t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Destination == dest {
			return m.Code
		}
	}
	e.t.Fatalf("no code for %s in outbox", dest)
	return ""
}

// browser is a cookie-keeping client that does not follow redirects, so
// tests see each hop.
type browser struct {
	t  *testing.T
	e  *env
	hc *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(path), nil)
	return b.do(req)
}

// post submits a form as a browser would from our own page.
func (b *browser) post(path string, form url.Values, hdr ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.e.url)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return b.do(req)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.e.url + path
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf scrapes a page's CSRF token.
func (p page) csrf(t *testing.T) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf_token in page (status %d):\n%s", p.status, p.body)
	}
	return m[1]
}

func (p page) location(t *testing.T) *url.URL {
	t.Helper()
	loc := p.header.Get("Location")
	if loc == "" {
		t.Fatalf("no Location (status %d):\n%.2000s", p.status, p.body)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// pkce returns a verifier as Amplify makes them (128 characters) and its
// S256 challenge.
func pkce() (verifier, challenge string) {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 128)
	rand.Read(b)
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	sum := sha256.Sum256(b)
	return string(b), base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeQuery is a code-flow authorization request.
func (e *env) authorizeQuery(challenge string, extra ...string) url.Values {
	q := url.Values{
		"response_type": {"code"}, "client_id": {e.client.ClientId}, "redirect_uri": {callback},
		"state": {"st4te-custom"}, "scope": {"openid email profile"},
	}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}

// signIn runs authorize → /login → post the form, and returns the code
// sent to the callback (straight from authorize if the browser has a
// session).
func (b *browser) signIn(q url.Values, email, password string) string {
	b.t.Helper()
	p := b.get("/oauth2/authorize?" + q.Encode())
	if p.status != http.StatusFound {
		b.t.Fatalf("authorize: %d %s", p.status, p.body)
	}
	login := p.location(b.t)
	if strings.HasPrefix(login.String(), callback) { // signed in already
		return login.Query().Get("code")
	}
	lp := b.get(login.String())
	if lp.status != http.StatusOK {
		b.t.Fatalf("login page: %d", lp.status)
	}
	res := b.post(login.String(), url.Values{"csrf_token": {lp.csrf(b.t)}, "username": {email}, "password": {password}})
	if res.status != http.StatusFound {
		b.t.Fatalf("login post: %d\n%.3000s", res.status, res.body)
	}
	cb := res.location(b.t)
	if got := cb.Scheme + "://" + cb.Host + cb.Path; got != callback {
		b.t.Fatalf("redirected to %s, want the callback", cb)
	}
	if cb.Query().Get("state") != q.Get("state") {
		b.t.Fatalf("state %q, want %q", cb.Query().Get("state"), q.Get("state"))
	}
	code := cb.Query().Get("code")
	if code == "" {
		b.t.Fatalf("no code in %s", cb)
	}
	return code
}

// tokenPost calls the token endpoint.
func (e *env) tokenPost(form url.Values, hdr ...string) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("token response %d is not JSON: %s", resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, out
}

func (e *env) exchange(code, verifier string) (int, map[string]any) {
	e.t.Helper()
	st, _, out := e.tokenPost(url.Values{
		"grant_type": {"authorization_code"}, "client_id": {e.client.ClientId}, "code": {code},
		"redirect_uri": {callback}, "code_verifier": {verifier},
	})
	return st, out
}
