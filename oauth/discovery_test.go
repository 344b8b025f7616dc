package oauth_test

import (
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/cognate-auth/cognate/userpool"
)

// TestDiscoveryPerPool: the discovery document of the default pool and of
// a pool created after start is the same whoever asks first (many ask at
// once here, so that the race detector sees the document being kept), go-oidc
// accepts it, and every endpoint it advertises is one the server answers.
func TestDiscoveryPerPool(t *testing.T) {
	e := newEnv(t)
	created, err := e.srv.Service().CreateUserPool(t.Context(), userpool.CreateUserPoolInput{PoolName: "later"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, pool string }{
		{"default pool", e.srv.Pool.ID},
		{"pool created after start", created.UserPool.Id},
	} {
		t.Run(tt.name, func(t *testing.T) {
			issuer := e.url + "/" + tt.pool
			bodies := make([]string, 8)
			var wg sync.WaitGroup
			for i := range bodies {
				wg.Go(func() { bodies[i] = getBody(t, issuer+"/.well-known/openid-configuration") })
			}
			wg.Wait()
			for _, b := range bodies[1:] {
				if b != bodies[0] {
					t.Fatalf("documents differ:\n%s\n%s", bodies[0], b)
				}
			}
			// NewProvider also checks that the issuer is the URL the
			// document came from.
			prov, err := oidc.NewProvider(t.Context(), issuer)
			if err != nil {
				t.Fatalf("oidc.NewProvider: %v", err)
			}
			var d struct {
				JWKSURI    string `json:"jwks_uri"`
				UserInfo   string `json:"userinfo_endpoint"`
				Revocation string `json:"revocation_endpoint"`
			}
			if err := prov.Claims(&d); err != nil {
				t.Fatal(err)
			}
			if d.JWKSURI != issuer+"/.well-known/jwks.json" {
				t.Errorf("jwks_uri %q", d.JWKSURI)
			}
			ep := prov.Endpoint()
			// A GET with nothing is refused by all but the key set, but
			// not as a path the server does not know.
			for _, u := range []string{ep.AuthURL, ep.TokenURL, d.UserInfo, d.Revocation, d.JWKSURI} {
				resp, err := http.Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNotFound {
					t.Errorf("advertised %s: %s", u, resp.Status)
				}
			}
		})
	}
}

// getBody GETs url and returns the body of a 200.
func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}
