package saml_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml/samlidp"
	"golang.org/x/net/html"

	"github.com/cognate-auth/cognate/federation"
	"github.com/cognate-auth/cognate/federation/saml"
	"github.com/cognate-auth/cognate/storage/sqlite"
)

const (
	testPool     = "us-east-1_SAMLtest"
	testProvider = "Corp"
	testClient   = "client123"
)

// idpUser is the one user of the test IdP's own user store.
var idpUser = struct{ name, password, email string }{"alice", "correct horse battery", "alice@corp.example"}

// env is a Cognate SAML service provider (the package under test, behind
// a small front that plays the hosted flow's part: the state of each
// exchange by its RelayState, used once) and a real SAML IdP (crewjam/saml's
// samlidp, with its own user store), each on its own httptest server.
type env struct {
	t       testing.TB
	svc     *saml.Service
	sp      *httptest.Server
	idp     *samlidp.Server
	idpSrv  *httptest.Server
	details map[string]string

	mu sync.Mutex
	// pending are the bindings of the exchanges in progress, by state.
	pending map[string]string
	// results are the identities the ACS accepted.
	results []federation.Identity
}

func newKeyPair(t testing.TB, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// idpKey is shared by the tests: RSA key generation is slow on a busy
// machine.
var idpKey, idpCert = func() (*rsa.PrivateKey, *x509.Certificate) {
	return newKeyPair(&testing.T{}, "idp")
}()

// newEnv starts the IdP and the SP; details are the provider's
// ProviderDetails (MetadataURL is filled in when unset and no
// MetadataFile is given).
func newEnv(t testing.TB, details map[string]string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, details: details, pending: map[string]string{}}

	e.idpSrv = httptest.NewUnstartedServer(nil)
	idpURL, _ := url.Parse("http://" + e.idpSrv.Listener.Addr().String())
	idp, err := samlidp.New(samlidp.Options{URL: *idpURL, Key: idpKey, Certificate: idpCert, Store: &samlidp.MemoryStore{}})
	if err != nil {
		t.Fatal(err)
	}
	e.idp = idp
	e.idpSrv.Config.Handler = idp
	e.idpSrv.Start()
	t.Cleanup(e.idpSrv.Close)
	if _, ok := details[saml.DetailMetadataFile]; !ok && details[saml.DetailMetadataURL] == "" {
		details[saml.DetailMetadataURL] = e.idpSrv.URL + "/metadata"
	}
	e.putIdP("/users/"+idpUser.name, map[string]any{"name": idpUser.name, "password": idpUser.password, "email": idpUser.email, "given_name": "Alice"})

	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cognate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.sp = httptest.NewUnstartedServer(nil)
	e.svc, err = saml.New(saml.Options{Store: store, BaseURL: "http://" + e.sp.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	e.sp.Config.Handler = e.routes()
	e.sp.Start()
	t.Cleanup(e.sp.Close)

	md, err := e.svc.Metadata(ctx, e.provider())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPut, e.idpSrv.URL+"/services/cognate", strings.NewReader(string(md)))
	e.do(req, http.StatusNoContent)
	return e
}

func (e *env) provider() federation.Provider {
	return federation.Provider{PoolID: testPool, Name: testProvider, Type: federation.TypeSAML, Details: e.details}
}

func (e *env) upstream(ctx context.Context) (*saml.Upstream, error) {
	up, err := e.svc.New(ctx, e.provider())
	if err != nil {
		return nil, err
	}
	return up.(*saml.Upstream), nil
}

func (e *env) remember(state, binding string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pending[state] = binding
}

// take returns the binding of state, once.
func (e *env) take(state string) (string, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.pending[state]
	delete(e.pending, state)
	return b, ok
}

func (e *env) acs() federation.Request {
	return federation.Request{CallbackURL: e.sp.URL + saml.ACSPath}
}

// routes is the SP's front: what the hosted flow does with the
// Upstream's calls, reduced to what the tests observe.
func (e *env) routes() http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), http.StatusForbidden) }
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		up, err := e.upstream(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		req := e.acs()
		req.State = rand.Text()
		st, err := up.Begin(r.Context(), req)
		if err != nil {
			fail(w, err)
			return
		}
		e.remember(req.State, st.Binding)
		http.Redirect(w, r, st.URL, http.StatusFound)
	})
	mux.HandleFunc("POST "+saml.ACSPath, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			fail(w, err)
			return
		}
		req := e.acs()
		req.State = r.PostForm.Get("RelayState")
		binding, ok := e.take(req.State)
		if !ok {
			// No exchange in progress: IdP-initiated, with Cognito's
			// RelayState naming the provider and client.
			q, _ := url.ParseQuery(req.State)
			if q.Get("identity_provider") != testProvider || q.Get("client_id") != testClient {
				fail(w, errors.New("no sign-in in progress"))
				return
			}
		}
		up, err := e.upstream(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		id, err := up.Finish(r.Context(), req, binding, r.PostForm)
		if err != nil {
			fail(w, err)
			return
		}
		e.mu.Lock()
		e.results = append(e.results, id)
		e.mu.Unlock()
		_ = json.NewEncoder(w).Encode(id)
	})
	mux.HandleFunc("GET /signout", func(w http.ResponseWriter, r *http.Request) {
		up, err := e.upstream(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		e.mu.Lock()
		last := e.results[len(e.results)-1]
		e.mu.Unlock()
		req := federation.Request{State: rand.Text(), CallbackURL: e.sp.URL + saml.LogoutPath}
		st, err := up.BeginSignOut(r.Context(), req, saml.SignOut{NameID: last.Subject})
		if err != nil {
			fail(w, err)
			return
		}
		e.remember(req.State, st.Binding)
		http.Redirect(w, r, st.URL, http.StatusFound)
	})
	mux.HandleFunc("POST "+saml.LogoutPath, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			fail(w, err)
			return
		}
		req := federation.Request{State: r.PostForm.Get("RelayState"), CallbackURL: e.sp.URL + saml.LogoutPath}
		binding, ok := e.take(req.State)
		if !ok {
			fail(w, errors.New("no sign-out in progress"))
			return
		}
		up, err := e.upstream(r.Context())
		if err != nil {
			fail(w, err)
			return
		}
		if err := up.FinishSignOut(r.Context(), req, binding, r.PostForm); err != nil {
			fail(w, err)
			return
		}
		_, _ = w.Write([]byte("signed out"))
	})
	return mux
}

func (e *env) putIdP(path string, v any) {
	e.t.Helper()
	b, _ := json.Marshal(v)
	req, _ := http.NewRequest(http.MethodPut, e.idpSrv.URL+path, strings.NewReader(string(b)))
	e.do(req, http.StatusNoContent)
}

func (e *env) do(req *http.Request, want int) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		e.t.Fatalf("%s %s: %d, want %d", req.Method, req.URL, resp.StatusCode, want)
	}
}

// browser is a cookie-keeping client that follows redirects, as a
// browser does.
func browser(t testing.TB) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// form is an HTML form of a page: its action and its inputs' values.
type form struct {
	action string
	values url.Values
}

// parseForm reads the first form of an HTML page.
func parseForm(t testing.TB, page string, base *url.URL) form {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	f := form{values: url.Values{}}
	var found bool
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attr := map[string]string{}
			for _, a := range n.Attr {
				attr[a.Key] = a.Val
			}
			switch {
			case n.Data == "form" && !found:
				found = true
				u, err := base.Parse(attr["action"])
				if err != nil {
					t.Fatal(err)
				}
				f.action = u.String()
			case n.Data == "input" && attr["name"] != "":
				f.values.Set(attr["name"], attr["value"])
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !found {
		t.Fatalf("no form in page:\n%s", page)
	}
	return f
}

// signInAtIdP starts a sign-in at the SP, signs in at the IdP's login
// form, and returns the IdP's auto-posting form to the ACS (not posted).
func (e *env) signInAtIdP(c *http.Client) form {
	e.t.Helper()
	resp, err := c.Get(e.sp.URL + "/start?state=xyz")
	if err != nil {
		e.t.Fatal(err)
	}
	page := readPage(e.t, resp, http.StatusOK)
	if strings.Contains(page, `name="password"`) {
		f := parseForm(e.t, page, resp.Request.URL)
		f.values.Set("user", idpUser.name)
		f.values.Set("password", idpUser.password)
		if resp, err = c.PostForm(f.action, f.values); err != nil {
			e.t.Fatal(err)
		}
		page = readPage(e.t, resp, http.StatusOK)
	}
	post := parseForm(e.t, page, resp.Request.URL)
	if post.values.Get("SAMLResponse") == "" {
		e.t.Fatalf("IdP answered no SAMLResponse: %v", post.values)
	}
	return post
}

// signInToIdP signs the browser in at the IdP first (its own /login),
// so that the IdP answers the AuthnRequest at once. samlidp's login form
// posts the request back without the HTTP-Redirect binding's query
// signature, so signed requests are tested this way.
func (e *env) signInToIdP(c *http.Client) {
	e.t.Helper()
	resp, err := c.PostForm(e.idpSrv.URL+"/login", url.Values{"user": {idpUser.name}, "password": {idpUser.password}})
	if err != nil {
		e.t.Fatal(err)
	}
	readPage(e.t, resp, http.StatusOK)
}

// post sends the IdP's form to the ACS and returns the status and body.
func post(t testing.TB, c *http.Client, f form) (int, string) {
	t.Helper()
	resp, err := c.PostForm(f.action, f.values)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readPage(t, resp, 0)
}

func readPage(t testing.TB, resp *http.Response, want int) string {
	t.Helper()
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if want != 0 && resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d:\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, want, b.String())
	}
	return b.String()
}
