package csrf_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/internal/csrf"
)

// visit is a browser loading a form: it returns the cookie the Protector
// set and the form's token.
func visit(t testing.TB, p *csrf.Protector, target string) (*http.Cookie, string) {
	t.Helper()
	w := httptest.NewRecorder()
	token, err := p.Token(w, httptest.NewRequest(http.MethodGet, target, nil))
	if err != nil {
		t.Fatal(err)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 {
		t.Fatalf("Token set %d cookies, want 1", len(cookies))
	}
	return cookies[0], token
}

// post is the form post of a browser holding cookie (nil: none), with
// form fields and the headers as pairs.
func post(target string, cookie *http.Cookie, form url.Values, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	if err := r.ParseForm(); err != nil {
		panic(err)
	}
	return r
}

func TestCheck(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	plain := csrf.Options{Key: key}
	public := csrf.Options{Key: key, Origins: []string{"https://Login.Example/"}}
	only := csrf.Options{Key: key, Origins: []string{"https://app.example"}, OriginsOnly: true}
	other := csrf.New(csrf.Options{Key: []byte("another key, another deployment.")})
	_, otherKeyToken := visit(t, other, "http://example.com/")

	// form builds the post's fields from the browser's cookie and token.
	type form func(c *http.Cookie, token string) url.Values
	valid := func(_ *http.Cookie, token string) url.Values { return url.Values{"csrf_token": {token}} }
	field := func(vs ...string) form {
		return func(*http.Cookie, string) url.Values { return url.Values{"csrf_token": vs} }
	}
	tests := []struct {
		name     string
		opts     csrf.Options
		target   string
		form     form
		noCookie bool
		cookie   string // replaces the cookie's value when set
		hdr      []string
		want     error
	}{
		{"same-origin Origin", plain, "http://example.com/login", valid, false, "", []string{"Origin", "http://example.com"}, nil},
		{"Origin in other case", plain, "http://example.com/login", valid, false, "", []string{"Origin", "HTTP://Example.COM"}, nil},
		{"no Origin, Referer nor fetch metadata", plain, "http://example.com/login", valid, false, "", nil, nil},
		{"cross-site Origin", plain, "http://example.com/login", valid, false, "", []string{"Origin", "https://evil.example"}, csrf.ErrCrossOrigin},
		{"null Origin", plain, "http://example.com/login", valid, false, "", []string{"Origin", "null"}, csrf.ErrCrossOrigin},
		{"Origin of the other scheme", plain, "https://example.com/login", valid, false, "", []string{"Origin", "http://example.com"}, csrf.ErrCrossOrigin},
		{"Origin on another port", plain, "http://example.com/login", valid, false, "", []string{"Origin", "http://example.com:8080"}, csrf.ErrCrossOrigin},
		{"configured public origin", public, "http://10.0.0.7:8080/login", valid, false, "", []string{"Origin", "https://login.example"}, nil},
		{"own origin beside configured", public, "http://10.0.0.7:8080/login", valid, false, "", []string{"Origin", "http://10.0.0.7:8080"}, nil},
		{"OriginsOnly: configured", only, "http://internal:3000/login", valid, false, "", []string{"Origin", "https://app.example"}, nil},
		{"OriginsOnly: own origin refused", only, "http://internal:3000/login", valid, false, "", []string{"Origin", "http://internal:3000"}, csrf.ErrCrossOrigin},
		{"Referer fallback, same origin", plain, "http://example.com/login", valid, false, "", []string{"Referer", "http://example.com/login?x=1"}, nil},
		{"Referer fallback, cross-site", plain, "http://example.com/login", valid, false, "", []string{"Referer", "https://evil.example/page"}, csrf.ErrCrossOrigin},
		{"Referer without host", plain, "http://example.com/login", valid, false, "", []string{"Referer", "/login"}, csrf.ErrCrossOrigin},
		{"Referer unparsable", plain, "http://example.com/login", valid, false, "", []string{"Referer", "http://[::1"}, csrf.ErrCrossOrigin},
		{"Origin decides over Referer", plain, "http://example.com/login", valid, false, "", []string{"Origin", "http://example.com", "Referer", "https://evil.example/"}, nil},
		{"Sec-Fetch-Site same-origin", plain, "http://example.com/login", valid, false, "", []string{"Sec-Fetch-Site", "same-origin"}, nil},
		{"Sec-Fetch-Site none", plain, "http://example.com/login", valid, false, "", []string{"Sec-Fetch-Site", "none"}, nil},
		{"Sec-Fetch-Site cross-site", plain, "http://example.com/login", valid, false, "", []string{"Sec-Fetch-Site", "cross-site"}, csrf.ErrCrossOrigin},
		{"Sec-Fetch-Site same-site", plain, "http://example.com/login", valid, false, "", []string{"Sec-Fetch-Site", "same-site", "Origin", "http://example.com"}, csrf.ErrCrossOrigin},
		{"same-origin fetch metadata, cross-site Origin", plain, "http://example.com/login", valid, false, "", []string{"Sec-Fetch-Site", "same-origin", "Origin", "https://evil.example"}, csrf.ErrCrossOrigin},
		{"cross-origin beats a missing cookie", plain, "http://example.com/login", valid, true, "", []string{"Origin", "https://evil.example"}, csrf.ErrCrossOrigin},
		{"missing cookie", plain, "http://example.com/login", valid, true, "", nil, csrf.ErrNoCookie},
		{"malformed cookie", plain, "http://example.com/login", valid, false, "short", nil, csrf.ErrNoCookie},
		{"missing token", plain, "http://example.com/login", field(), false, "", nil, csrf.ErrNoToken},
		{"empty token", plain, "http://example.com/login", field(""), false, "", nil, csrf.ErrNoToken},
		{"forged token", plain, "http://example.com/login", field("forged"), false, "", nil, csrf.ErrBadToken},
		{"token from another key", plain, "http://example.com/login", field(otherKeyToken), false, "", nil, csrf.ErrBadToken},
		{"cookie value copied into the field", plain, "http://example.com/login", func(c *http.Cookie, _ string) url.Values {
			return url.Values{"csrf_token": {c.Value}}
		}, false, "", nil, csrf.ErrBadToken},
		{"token given twice", plain, "http://example.com/login", func(_ *http.Cookie, token string) url.Values {
			return url.Values{"csrf_token": {token, token}}
		}, false, "", nil, csrf.ErrBadToken},
		{"another browser's cookie", plain, "http://example.com/login", valid, false, strings.Repeat("A", 43), nil, csrf.ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := csrf.New(tt.opts)
			cookie, token := visit(t, p, tt.target)
			f := tt.form(cookie, token)
			if tt.cookie != "" {
				cookie.Value = tt.cookie
			}
			if tt.noCookie {
				cookie = nil
			}
			r := post(tt.target, cookie, f, tt.hdr...)
			if strings.HasPrefix(tt.target, "https:") {
				r.TLS = &tls.ConnectionState{}
			}
			err := p.Check(r)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Check = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestToken(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		w := httptest.NewRecorder()
		if _, err := csrf.New(csrf.Options{}).Token(w, httptest.NewRequest(http.MethodGet, "http://example.com/", nil)); err != nil {
			t.Fatal(err)
		}
		got := w.Header().Get("Set-Cookie")
		if !strings.HasPrefix(got, "csrf=") || !strings.HasSuffix(got, "; Path=/; HttpOnly; SameSite=Strict") || len(got) != len("csrf=")+43+len("; Path=/; HttpOnly; SameSite=Strict") {
			t.Fatalf("Set-Cookie %q", got)
		}
	})
	secure := true
	tests := []struct {
		name, target string
		opts         csrf.Options
		want         string // the Set-Cookie attributes after the value
	}{
		{"TLS request", "https://example.com/", csrf.Options{}, "; Path=/; HttpOnly; Secure; SameSite=Strict"},
		{"named, narrow path", "http://example.com/sign-in", csrf.Options{CookieName: "demo_csrf", CookiePath: "/sign-in"}, "; Path=/sign-in; HttpOnly; SameSite=Strict"},
		{"Secure func", "http://example.com/", csrf.Options{CookieName: "__Host-x", Secure: func(*http.Request) bool { return secure }}, "; Path=/; HttpOnly; Secure; SameSite=Strict"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if strings.HasPrefix(tt.target, "https:") {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			if _, err := csrf.New(tt.opts).Token(w, r); err != nil {
				t.Fatal(err)
			}
			got := w.Header().Get("Set-Cookie")
			if !strings.HasSuffix(got, tt.want) {
				t.Fatalf("Set-Cookie %q, want suffix %q", got, tt.want)
			}
		})
	}

	t.Run("one cookie per response, one token per browser", func(t *testing.T) {
		p := csrf.New(csrf.Options{})
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
		w.Header().Add("Set-Cookie", "other=1; Path=/")
		a, _ := p.Token(w, r)
		b, _ := p.Token(w, r)
		if a != b || len(w.Header().Values("Set-Cookie")) != 2 {
			t.Fatalf("tokens %q %q, Set-Cookie %q", a, b, w.Header().Values("Set-Cookie"))
		}
		cookie := w.Result().Cookies()[1]
		r = httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
		r.AddCookie(cookie)
		w = httptest.NewRecorder()
		if c, _ := p.Token(w, r); c != a || w.Header().Get("Set-Cookie") != "" {
			t.Fatalf("next page: token %q (want %q), Set-Cookie %q", c, a, w.Header().Get("Set-Cookie"))
		}
	})

	t.Run("malformed cookie replaced", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
		r.AddCookie(&http.Cookie{Name: "csrf", Value: "planted"})
		w := httptest.NewRecorder()
		if _, err := csrf.New(csrf.Options{}).Token(w, r); err != nil {
			t.Fatal(err)
		}
		if c := w.Result().Cookies(); len(c) != 1 || len(c[0].Value) != 43 {
			t.Fatalf("cookies %v", c)
		}
	})

	t.Run("shared key, shared tokens", func(t *testing.T) {
		key := []byte("one key for every node of the pool")
		a, b := csrf.New(csrf.Options{Key: key}), csrf.New(csrf.Options{Key: key})
		cookie, token := visit(t, a, "http://example.com/")
		if err := b.Check(post("http://example.com/", cookie, url.Values{"csrf_token": {token}})); err != nil {
			t.Fatal(err)
		}
	})
}

func TestKeyFunc(t *testing.T) {
	calls := 0
	stored := []byte("the key kept in storage, 32 byte")
	var fail error = errors.New("storage down")
	p := csrf.New(csrf.Options{KeyFunc: func(ctx context.Context) ([]byte, error) {
		calls++
		if fail != nil {
			return nil, fail
		}
		return stored, nil
	}})
	r := httptest.NewRequest(http.MethodGet, "http://example.com/", nil)
	w := httptest.NewRecorder()
	if _, err := p.Token(w, r); !errors.Is(err, csrf.ErrKeyUnavailable) || !errors.Is(err, fail) || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("Token with the key unavailable: %v, Set-Cookie %q", err, w.Header().Get("Set-Cookie"))
	}
	fail = nil
	cookie, token := visit(t, p, "http://example.com/")
	if err := p.Check(post("http://example.com/", cookie, url.Values{"csrf_token": {token}})); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("KeyFunc called %d times, want 2 (once failing, then once kept)", calls)
	}
	same := csrf.New(csrf.Options{Key: stored})
	if err := same.Check(post("http://example.com/", cookie, url.Values{"csrf_token": {token}})); err != nil {
		t.Fatalf("the loaded key is not the one KeyFunc gave: %v", err)
	}

	empty := csrf.New(csrf.Options{KeyFunc: func(context.Context) ([]byte, error) { return nil, nil }})
	c := &http.Cookie{Name: "csrf", Value: strings.Repeat("A", 43)}
	if err := empty.Check(post("http://example.com/", c, url.Values{"csrf_token": {"x"}})); !errors.Is(err, csrf.ErrKeyUnavailable) {
		t.Fatalf("Check with an empty key: %v", err)
	}
}

func FuzzCheck(f *testing.F) {
	p := csrf.New(csrf.Options{Key: []byte("fuzzing key"), Origins: []string{"https://public.example"}})
	cookie, token := visit(f, p, "http://example.com/")
	f.Add(cookie.Value, token, "http://example.com", "", "same-origin")
	f.Add(cookie.Value, token, "", "http://example.com/x", "")
	f.Add(cookie.Value, token, "null", "", "")
	f.Add(cookie.Value, "forged", "", "", "")
	f.Add("", token, "https://public.example", "", "none")
	f.Add(cookie.Value+"; csrf="+cookie.Value, token, "", "https://evil.example/", "cross-site")
	f.Fuzz(func(t *testing.T, cookie, token, origin, referer, site string) {
		r := httptest.NewRequest(http.MethodPost, "http://example.com/login", nil)
		r.Header["Cookie"] = []string{"csrf=" + cookie}
		r.Header["Origin"] = []string{origin}
		r.Header["Referer"] = []string{referer}
		r.Header["Sec-Fetch-Site"] = []string{site}
		r.PostForm = url.Values{"csrf_token": {token}}
		err := p.Check(r)
		if err != nil {
			for _, e := range []error{csrf.ErrCrossOrigin, csrf.ErrNoCookie, csrf.ErrNoToken, csrf.ErrBadToken} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("Check returned %v, not a refusal", err)
		}
		switch site {
		case "", "same-origin", "none":
		default:
			t.Fatalf("accepted with Sec-Fetch-Site %q", site)
		}
		if o := strings.ToLower(origin); o != "" && o != "http://example.com" && o != "https://public.example" {
			t.Fatalf("accepted from Origin %q", origin)
		}
		// The token must be the one this browser's page was given.
		w := httptest.NewRecorder()
		want, _ := p.Token(w, r)
		if w.Header().Get("Set-Cookie") != "" || token != want {
			t.Fatalf("accepted token %q for cookie %q (its token is %q)", token, cookie, want)
		}
	})
}
