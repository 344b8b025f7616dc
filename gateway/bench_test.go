package gateway

// In-process cost of the gateway per proxied request, against the same
// trivial app called directly and behind a bare httputil.ReverseProxy
// (the floor any reverse proxy pays: the second HTTP exchange). The
// app is a real loopback server, so both proxies pay a real round trip;
// the inbound side is an httptest.ResponseRecorder, so the figures leave
// out the listener's parsing and writing, which is the same for both.
//
//	go test ./gateway -run '^$' -bench Proxy -cpu 1 -benchmem
//	go test ./gateway -run '^$' -bench Proxy/gateway -cpu 1 -cpuprofile gw.prof
//
// bench/gateway.sh measures the same over HTTP under load.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/session"
)

// benchBody is the app's answer: a few hundred bytes.
var benchBody = []byte(`{"ok":true,"items":[` + strings.Repeat(`{"id":12345,"name":"item"},`, 9) + `{"id":12345,"name":"item"}]}`)

func BenchmarkProxy(b *testing.B) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(benchBody)
	}))
	defer app.Close()
	upstream, _ := url.Parse(app.URL)

	p := newPool(b)
	const origin = "http://localhost:4180"
	client := p.client(b, origin)
	p.user(b, "gw-bench")
	ic, err := issuerclient.New(issuerclient.Config{UserPoolID: p.id, ClientID: client, Endpoint: p.url})
	if err != nil {
		b.Fatal(err)
	}
	res, err := ic.SignInSRP(context.Background(), "gw-bench", password)
	if err != nil || res.Tokens == nil {
		b.Fatalf("sign-in: %v %+v", err, res)
	}
	cookie := benchCookieHeader(b, client, res.Tokens)

	gw, err := New(Config{
		Session:  session.Config{UserPoolID: p.id, ClientID: client, Endpoint: p.url, Origin: origin},
		Upstream: app.URL,
	})
	if err != nil {
		b.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(upstream); pr.SetXForwarded() },
		Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 64},
	}
	direct := app.Config.Handler

	run := func(b *testing.B, h http.Handler, withCookie bool) {
		base := httptest.NewRequest(http.MethodGet, origin+"/hello", nil)
		base.RemoteAddr = "127.0.0.1:40000"
		base.Header.Set("Accept", "*/*")
		if withCookie {
			base.Header.Set("Cookie", cookie)
		}
		serve := func() {
			r := *base
			r.Header = base.Header.Clone()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, &r)
			if w.Code != http.StatusOK || w.Body.Len() != len(benchBody) {
				b.Fatalf("%d %q", w.Code, w.Body.String())
			}
			if len(w.Result().Cookies()) > 0 {
				b.Fatalf("a cookie was set: a refresh or a clean-up ran")
			}
		}
		serve() // the first sight of the session: verification, JWKS
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			serve()
		}
	}
	b.Run("direct", func(b *testing.B) { run(b, direct, false) })
	b.Run("reverseproxy", func(b *testing.B) { run(b, rp, false) })
	b.Run("reverseproxy-cookie", func(b *testing.B) { run(b, rp, true) })
	b.Run("gateway", func(b *testing.B) { run(b, gw.Handler(), true) })
}

// benchCookieHeader is the Cookie header a browser signed in by Amplify
// sends, with two unrelated cookies around the token cookies.
func benchCookieHeader(b *testing.B, client string, t *issuerclient.Tokens) string {
	parts := strings.Split(t.AccessToken, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Username string `json:"username"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Username == "" {
		b.Fatalf("access token username: %v", err)
	}
	pre := "CognitoIdentityServiceProvider." + client + "."
	return strings.Join([]string{
		"theme=dark", "_ga=GA1.1.123456789.1700000000",
		pre + "LastAuthUser=" + c.Username,
		pre + c.Username + ".accessToken=" + t.AccessToken,
		pre + c.Username + ".idToken=" + t.IDToken,
		pre + c.Username + ".refreshToken=" + t.RefreshToken,
		pre + c.Username + ".clockDrift=0",
	}, "; ")
}
