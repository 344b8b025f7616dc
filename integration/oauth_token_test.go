package integration_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOAuthConfidentialClient: a client with a secret authenticates with
// client_secret_basic or client_secret_post, and not without it.
func TestOAuthConfidentialClient(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, secret := e.oauthClient(clientSpec{secret: true})
	if secret == "" {
		t.Fatal("no secret generated")
	}
	pubClient, _ := e.oauthClient(clientSpec{})
	email := "conf@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, secret)
	r1, code1 := b.login(conf, email, password)
	tok := e.exchange(conf, r1, code1) // client_secret_basic
	e.verifyID(client, idToken(tok), tok.AccessToken, r1.nonce)

	post := *conf
	post.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	r2 := newCodeRequest(&post)
	tok2 := e.exchange(&post, r2, b.get(r2.url).wantCode(t, r2.state)) // client_secret_post
	e.verifyID(client, idToken(tok2), tok2.AccessToken, r2.nonce)

	// Refresh with basic auth.
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	if _, err := conf.TokenSource(e.ctxRP(), &expired).Token(); err != nil {
		t.Errorf("refresh with client_secret_basic: %v", err)
	}

	form := func(r codeRequest, code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rpCallback},
			"code_verifier": {r.verifier}, "client_id": {client}}
	}
	for _, c := range []struct {
		name       string
		user, pass string
		extra      url.Values
	}{
		{"no secret", "", "", nil},
		{"wrong secret (basic)", client, secret + "x", nil},
		{"wrong secret (post)", "", "", url.Values{"client_secret": {"nope"}}},
		{"another client's id with this secret", pubClient, secret, nil},
		{"basic and a different client_id in the body", client, secret, url.Values{"client_id": {pubClient}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newCodeRequest(conf)
			f := form(r, b.get(r.url).wantCode(t, r.state))
			for k, v := range c.extra {
				f[k] = v
			}
			res := e.token(f, c.user, c.pass)
			if c.extra.Get("client_id") == pubClient {
				if res.status < 400 || res.status > 401 || res.str("access_token") != "" {
					t.Fatalf("got %s", res)
				}
				return
			}
			if c.user == pubClient {
				// The public client cannot redeem this client's code.
				if res.status < 400 || res.status > 401 || res.str("access_token") != "" {
					t.Fatalf("got %s", res)
				}
				return
			}
			wantOAuthError(t, res, http.StatusUnauthorized, "invalid_client")
		})
	}
}

// TestOAuthBadToken: bad requests to the token endpoint.
func TestOAuthBadToken(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	other, _ := e.oauthClient(clientSpec{})
	email := "tok@example.com"
	e.newUser(email)
	conf := e.rpConfig(client, "")
	b := e.newBrowser()
	b.login(conf, email, password)
	fresh := func(conf *oauth2.Config) (codeRequest, string) {
		r := newCodeRequest(conf)
		return r, b.get(r.url).wantCode(t, r.state)
	}
	form := func(r codeRequest, code string, kv ...string) url.Values {
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code},
			"redirect_uri": {rpCallback}, "code_verifier": {r.verifier}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}

	t.Run("wrong PKCE verifier", func(t *testing.T) {
		r, code := fresh(conf)
		_, err := conf.Exchange(e.ctxRP(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		var re *oauth2.RetrieveError
		if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
			t.Fatalf("wrong verifier: %v", err)
		}
		_ = r
	})
	t.Run("no verifier", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "code_verifier", ""), "", ""), 400, "invalid_grant")
	})
	t.Run("short verifier", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "code_verifier", "abc"), "", ""), 400, "invalid_grant")
	})
	t.Run("replayed code", func(t *testing.T) {
		r, code := fresh(conf)
		tok := e.exchange(conf, r, code)
		_, err := conf.Exchange(e.ctxRP(), code, oauth2.VerifierOption(r.verifier))
		var re *oauth2.RetrieveError
		if err == nil || !asRetrieve(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("replay: %v", err)
		}
		// The first exchange's grant is revoked: its refresh token is
		// refused.
		wantOAuthError(t, e.refreshRaw(client, tok.RefreshToken), 400, "invalid_grant")
		if r := e.userInfo(http.MethodGet, tok.AccessToken); r.status != http.StatusUnauthorized {
			t.Errorf("the replayed grant's access token still works at userInfo: %s", r)
		}
	})
	t.Run("redirect_uri differs", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "redirect_uri", rpOther), "", ""), 400, "invalid_grant")
	})
	t.Run("no redirect_uri", func(t *testing.T) {
		r, code := fresh(conf)
		res := e.token(form(r, code, "redirect_uri", ""), "", "")
		if res.status != 400 || (res.str("error") != "invalid_request" && res.str("error") != "invalid_grant") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("another client's code", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "client_id", other), "", ""), 400, "invalid_grant")
	})
	t.Run("garbage code", func(t *testing.T) {
		r, _ := fresh(conf)
		wantOAuthError(t, e.token(form(r, "not-a-code"), "", ""), 400, "invalid_grant")
	})
	t.Run("no code", func(t *testing.T) {
		r, _ := fresh(conf)
		res := e.token(form(r, "", "code", ""), "", "")
		if res.status != 400 || (res.str("error") != "invalid_request" && res.str("error") != "invalid_grant") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		r, code := fresh(conf)
		wantOAuthError(t, e.token(form(r, code, "client_id", "nosuchclient"), "", ""), 401, "invalid_client")
	})
	t.Run("unsupported grant_type", func(t *testing.T) {
		wantOAuthError(t, e.token(url.Values{"grant_type": {"password"}, "client_id": {client}, "username": {email}, "password": {password}}, "", ""), 400, "unsupported_grant_type")
	})
	t.Run("no grant_type", func(t *testing.T) {
		res := e.token(url.Values{"client_id": {client}}, "", "")
		if res.status != 400 || (res.str("error") != "invalid_request" && res.str("error") != "unsupported_grant_type") {
			t.Fatalf("%s", res)
		}
	})
	t.Run("garbage refresh token", func(t *testing.T) {
		wantOAuthError(t, e.refreshRaw(client, "garbage"), 400, "invalid_grant")
	})
	t.Run("another client's refresh token", func(t *testing.T) {
		r, code := fresh(conf)
		tok := e.exchange(conf, r, code)
		wantOAuthError(t, e.refreshRaw(other, tok.RefreshToken), 400, "invalid_grant")
	})
	t.Run("JSON body", func(t *testing.T) {
		req := must(http.NewRequestWithContext(e.ctx, http.MethodPost, e.disc.TokenEndpoint,
			strings.NewReader(`{"grant_type":"client_credentials","client_id":"`+client+`"}`)))(t)
		req.Header.Set("Content-Type", "application/json")
		if res := e.send(req); res.status < 400 || res.status > 499 || res.str("access_token") != "" {
			t.Fatalf("%s", res)
		}
	})
	t.Run("GET", func(t *testing.T) {
		req := must(http.NewRequestWithContext(e.ctx, http.MethodGet, e.disc.TokenEndpoint+"?grant_type=refresh_token&client_id="+client, nil))(t)
		if res := e.send(req); res.status < 400 || res.status > 499 {
			t.Fatalf("%s", res)
		}
	})
	t.Run("oversized", func(t *testing.T) {
		r, code := fresh(conf)
		for name, f := range map[string]url.Values{
			"code":          form(r, strings.Repeat("c", 100_000)),
			"verifier":      form(r, code, "code_verifier", strings.Repeat("v", 100_000)),
			"refresh_token": {"grant_type": {"refresh_token"}, "client_id": {client}, "refresh_token": {strings.Repeat("r", 100_000)}},
			"scope":         {"grant_type": {"client_credentials"}, "client_id": {client}, "scope": {strings.Repeat("s ", 50_000)}},
			"body":          {"grant_type": {"authorization_code"}, "pad": {strings.Repeat("p", 3<<20)}},
		} {
			if res := e.token(f, "", ""); res.status < 400 || res.status > 499 {
				t.Errorf("oversized %s: %s", name, res)
			}
		}
		// The code survives the failed attempts above or not, but never
		// yields tokens to a wrong verifier.
		res := e.token(form(r, code, "code_verifier", oauth2.GenerateVerifier()), "", "")
		if res.str("access_token") != "" {
			t.Fatalf("tokens for a wrong verifier: %s", res)
		}
	})
	t.Run("security headers", func(t *testing.T) {
		r, code := fresh(conf)
		res := e.token(form(r, code), "", "")
		if res.status != 200 {
			t.Fatalf("%s", res)
		}
		if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("token response Cache-Control %q, want no-store (RFC 6749 §5.1)", cc)
		}
		if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("token response Content-Type %q", ct)
		}
	})
}

func asRetrieve(err error, re **oauth2.RetrieveError) bool { return errors.As(err, re) }

// TestOAuthRaces: single-use artefacts stay single-use under concurrent
// redemption.
func TestOAuthRaces(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	client, _ := e.oauthClient(clientSpec{})
	rotating, _ := e.oauthClient(clientSpec{rotation: true})
	email := "race@example.com"
	e.newUser(email)
	b := e.newBrowser()
	conf := e.rpConfig(client, "")
	b.login(conf, email, password)
	const n = 8
	parallel := func(do func() tokenResult) (ok int, results []string) {
		out := make(chan tokenResult, n)
		start := make(chan struct{})
		for range n {
			go func() { <-start; out <- do() }()
		}
		close(start)
		for range n {
			r := <-out
			if r.status == http.StatusOK {
				ok++
			}
			results = append(results, fmt.Sprint(r.status))
		}
		return ok, results
	}

	t.Run("one code, many exchanges", func(t *testing.T) {
		r := newCodeRequest(conf)
		code := b.get(r.url).wantCode(t, r.state)
		f := url.Values{"grant_type": {"authorization_code"}, "client_id": {client}, "code": {code},
			"redirect_uri": {rpCallback}, "code_verifier": {r.verifier}}
		if ok, res := parallel(func() tokenResult { return e.token(f, "", "") }); ok > 1 {
			t.Errorf("a code was redeemed %d times concurrently: %v", ok, res)
		}
	})
	t.Run("one rotating refresh token, many refreshes", func(t *testing.T) {
		rc := e.rpConfig(rotating, "")
		r := newCodeRequest(rc)
		tok := e.exchange(rc, r, b.get(r.url).wantCode(t, r.state))
		if ok, res := parallel(func() tokenResult { return e.refreshRaw(rotating, tok.RefreshToken) }); ok > 1 {
			t.Errorf("a rotating refresh token (grace 0) was used %d times concurrently: %v", ok, res)
		}
	})
}
