package session_test

// The browser of the tests: an http.Client with a cookie jar that
// records every Set-Cookie line, drives Cognate's login form and the
// app's password form, and follows the sign-in bounce page.

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a user agent with a cookie jar. It follows redirects and
// records every response's Set-Cookie lines.
type browser struct {
	t    *testing.T
	c    *http.Client
	mu   sync.Mutex
	sets []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, Transport: spy{b: b, base: http.DefaultTransport}}
	return b
}

type spy struct {
	b    *browser
	base http.RoundTripper
}

func (s spy) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err == nil {
		s.b.mu.Lock()
		s.b.sets = append(s.b.sets, resp.Header.Values("Set-Cookie")...)
		s.b.mu.Unlock()
		if resp.StatusCode == http.StatusInternalServerError {
			s.b.t.Errorf("server error: %s %s → %d", req.Method, req.URL, resp.StatusCode)
		}
	}
	return resp, err
}

// takeSets returns and forgets the Set-Cookie lines seen so far.
func (b *browser) takeSets() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.sets
	b.sets = nil
	return s
}

type resp struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (b *browser) do(req *http.Request) resp {
	b.t.Helper()
	r, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	return resp{status: r.StatusCode, url: r.Request.URL, header: r.Header, body: string(body)}
}

func (b *browser) get(u string, headers ...string) resp {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func (b *browser) post(u, origin string, form url.Values) resp {
	b.t.Helper()
	req, err := http.NewRequestWithContext(b.t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// state GETs a page of the app and decodes what it prints.
func (b *browser) state(u string) pageState {
	b.t.Helper()
	r := b.get(u)
	var st pageState
	if err := json.Unmarshal([]byte(r.body), &st); err != nil {
		b.t.Fatalf("GET %s: %d %s", u, r.status, r.body)
	}
	return st
}

// cookies are the jar's cookies for u, by name.
func (b *browser) cookies(u string) map[string]string {
	pu, _ := url.Parse(u)
	out := map[string]string{}
	for _, c := range b.c.Jar.Cookies(pu) {
		out[c.Name] = c.Value
	}
	return out
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b[^>]*\baction="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`(?is)<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	bounceRe = regexp.MustCompile(`content="0;url=([^"]+)"`)
)

// hostedSignIn runs the hosted flow from the app's sign-in route with
// redirect and returns the page the bounce lands on.
func (b *browser) hostedSignIn(a *app, redirect, username, pw string) resp {
	b.t.Helper()
	login := b.get(a.url + a.m.SignInURL(redirect))
	if login.status != http.StatusOK || login.url.Path != "/login" {
		b.t.Fatalf("sign-in did not reach the login page: %d %s\n%s", login.status, login.url, login.body)
	}
	bounce := b.submitLogin(login, username, pw)
	return b.followBounce(bounce)
}

// issuerAnswer starts a hosted sign-in (through the login form when the
// pool has no session for the browser yet) and returns the callback URL
// the issuer redirected to, without following it.
func (b *browser) issuerAnswer(a *app, username string) *url.URL {
	b.t.Helper()
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Path == "/api/auth/sign-in-callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	defer func() { b.c.CheckRedirect = nil }()
	r := b.get(a.url + a.m.SignInURL("/"))
	if r.status == http.StatusOK && r.url.Path == "/login" {
		r = b.submitLogin(r, username, password)
	}
	loc, err := r.url.Parse(r.header.Get("Location"))
	if err != nil || loc.Path != "/api/auth/sign-in-callback" {
		b.t.Fatalf("no callback redirect: %d %s", r.status, r.header.Get("Location"))
	}
	return loc
}

// submitLogin posts Cognate's login form.
func (b *browser) submitLogin(login resp, username, pw string) resp {
	b.t.Helper()
	m := formRe.FindStringSubmatch(login.body)
	if m == nil {
		b.t.Fatalf("no form on %s", login.url)
	}
	form := url.Values{"username": {username}, "password": {pw}, "action": {"signin"}}
	for _, h := range hiddenRe.FindAllStringSubmatch(m[2], -1) {
		form.Set(h[1], unescape(h[2]))
	}
	action, _ := login.url.Parse(unescape(m[1]))
	return b.post(action.String(), login.url.Scheme+"://"+login.url.Host, form)
}

// followBounce checks the callback's bounce page and navigates to its
// target.
func (b *browser) followBounce(bounce resp) resp {
	b.t.Helper()
	m := bounceRe.FindStringSubmatch(bounce.body)
	if bounce.status != http.StatusOK || m == nil || bounce.url.Path != "/api/auth/sign-in-callback" {
		b.t.Fatalf("want the bounce page, got %d at %s\n%s", bounce.status, bounce.url, bounce.body)
	}
	target, _ := bounce.url.Parse(unescape(m[1]))
	return b.get(target.String())
}

func unescape(s string) string { return html.UnescapeString(s) }

// passwordSignIn signs in through the app's password route.
func (b *browser) passwordSignIn(a *app, username, pw, redirect string) resp {
	b.t.Helper()
	st := b.state(a.url + "/form")
	return b.post(a.url+"/api/auth/password", a.url, url.Values{
		"username": {username}, "password": {pw}, "csrf": {st.CSRF}, "redirect": {redirect},
	})
}

// setCookie is a parsed Set-Cookie line.
type setCookie struct {
	name, value string
	attrs       map[string]string // lowercased names; flags map to ""
}

func parseSet(line string) setCookie {
	parts := strings.Split(line, ";")
	name, value, _ := strings.Cut(strings.TrimSpace(parts[0]), "=")
	sc := setCookie{name: name, value: value, attrs: map[string]string{}}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		sc.attrs[strings.ToLower(k)] = v
	}
	return sc
}

func (s setCookie) deletes() bool { return s.attrs["max-age"] == "0" }

// setCookiesOf returns the parsed Set-Cookie lines of a response.
func setCookiesOf(r *http.Response) []setCookie {
	var out []setCookie
	for _, l := range r.Header.Values("Set-Cookie") {
		out = append(out, parseSet(l))
	}
	return out
}

// newAccess is the access token a response writes, if any.
func newAccess(r *http.Response) string {
	for _, sc := range setCookiesOf(r) {
		if strings.HasSuffix(sc.name, ".accessToken") && !sc.deletes() {
			return sc.value
		}
	}
	return ""
}

// cookieHeader builds a Cookie header from the jar's cookies for the
// app (as a browser would send them).
func (b *browser) cookieHeader(a *app) string {
	pu, _ := url.Parse(a.url)
	var parts []string
	for _, c := range b.c.Jar.Cookies(pu) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}
