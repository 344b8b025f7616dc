package tokenverify_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

// TestCognateTokens verifies real access and id tokens from a Cognate
// server against its JWKS over HTTP, under each verifier policy.
func TestCognateTokens(t *testing.T) {
	cg := newCognate(t)
	email := cg.user(t)
	access, id := cg.signIn(t, email)

	cases := []struct {
		name         string
		cfg          func(*tokenverify.Config)
		accessOK, id bool
	}{
		{"any", nil, true, true},
		{"access only", func(c *tokenverify.Config) { c.TokenUse = "access" }, true, false},
		{"id only", func(c *tokenverify.Config) { c.TokenUse = "id" }, false, true},
		{"this client", func(c *tokenverify.Config) { c.ClientIDs = []string{cg.client} }, true, true},
		{"another client", func(c *tokenverify.Config) { c.ClientIDs = []string{"someoneelse"} }, false, false},
		{"another issuer", func(c *tokenverify.Config) {
			c.JWKSURL = cg.issuer + "/.well-known/jwks.json"
			c.Issuer = cg.url + "/us-east-1_Other"
		}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := cg.verifier(t, tc.cfg)
			for _, tok := range []struct {
				raw string
				ok  bool
			}{{access, tc.accessOK}, {id, tc.id}} {
				c, err := v.Verify(t.Context(), tok.raw)
				if !tok.ok {
					wantInvalid(t, c, err)
					continue
				}
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if c.Subject == "" || c.Username == "" || c.ClientID != cg.client || !slices.Equal(c.Groups, []string{"admin"}) {
					t.Fatalf("claims %+v", c)
				}
				if d := time.Until(c.Expires); d < 59*time.Minute || d > time.Hour+time.Minute {
					t.Fatalf("Expires %v, want in an hour", c.Expires)
				}
				if c.IssuedAt.IsZero() || c.AuthTime.IsZero() {
					t.Fatalf("iat or auth_time missing: %+v", c)
				}
				if c.TokenUse == "id" && c.Email != email {
					t.Fatalf("id token email %q, want %q", c.Email, email)
				}
			}
		})
	}
}

// TestExpiry moves an injected clock across a real token's exp.
func TestExpiry(t *testing.T) {
	cg := newCognate(t)
	access, _ := cg.signIn(t, cg.user(t))
	cases := []struct {
		name    string
		skew    time.Duration
		after   time.Duration // past exp
		expired bool
	}{
		{"before exp", 0, -time.Second, false},
		{"within the default skew", 0, 59 * time.Second, false},
		{"beyond the default skew", 0, 61 * time.Second, true},
		{"no skew", -1, time.Second, true},
		{"long skew", 10 * time.Minute, 9 * time.Minute, false},
		{"a day late", 0, 24 * time.Hour, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := &clock{}
			v := cg.verifier(t, func(c *tokenverify.Config) { c.ClockSkew, c.Now = tc.skew, clk.Now })
			first, err := v.Verify(t.Context(), access)
			if err != nil {
				t.Fatalf("Verify now: %v", err)
			}
			clk.advance(time.Until(first.Expires) + tc.after)
			// Twice: once from the cache, once verified again.
			for range 2 {
				c, err := v.Verify(t.Context(), access)
				if !tc.expired {
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
					continue
				}
				if !errors.Is(err, tokenverify.ErrExpired) || errors.Is(err, tokenverify.ErrInvalid) {
					t.Fatalf("Verify error %v, want ErrExpired only", err)
				}
				if c == nil || c.Subject != first.Subject {
					t.Fatalf("expired token's claims %+v, want %+v", c, first)
				}
			}
		})
	}
}

// TestCache checks that a verified token costs no fetch and yields the
// same claims.
func TestCache(t *testing.T) {
	cg := newCognate(t)
	access, id := cg.signIn(t, cg.user(t))
	v := cg.verifier(t, nil)
	a1, err := v.Verify(t.Context(), access)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		a2, err := v.Verify(t.Context(), access)
		if err != nil || a2 != a1 {
			t.Fatalf("cached Verify: %p %v, want %p", a2, err, a1)
		}
	}
	if n := cg.jwks.n.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
}

// TestRotation rotates the pool's access key: tokens under the new kid
// make the verifier refetch, but only once per 30 s, de-duplicated.
func TestRotation(t *testing.T) {
	cg := newCognate(t)
	email := cg.user(t)
	oldAccess, oldID := cg.signIn(t, email)
	clk := &clock{}
	v := cg.verifier(t, func(c *tokenverify.Config) { c.Now = clk.Now })
	if _, err := v.Verify(t.Context(), oldAccess); err != nil {
		t.Fatal(err)
	}
	if err := cg.srv.Service().Keys().Rotate(t.Context(), cg.pool, "access"); err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	newAccess, newID := cg.signIn(t, email)
	if h := strings.SplitN(newAccess, ".", 2)[0]; h == strings.SplitN(oldAccess, ".", 2)[0] {
		t.Fatal("rotation did not change the access token's kid")
	}
	// Within 30 s of the first fetch the unknown kid is refused unfetched.
	c, err := v.Verify(t.Context(), newAccess)
	wantInvalid(t, c, err)
	if n := cg.jwks.n.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches within 30 s, want 1", n)
	}

	clk.advance(31 * time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			tok := newAccess
			if i%2 == 1 {
				tok = newID
			}
			if _, err := v.Verify(t.Context(), tok); err != nil {
				errs <- fmt.Errorf("goroutine %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := cg.jwks.n.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after the rotation, want 2 (one de-duplicated refetch)", n)
	}
	// Tokens signed before the rotation still verify: the old key stays
	// in the JWKS.
	for _, tok := range []string{oldAccess, oldID} {
		if _, err := v.Verify(t.Context(), tok); err != nil {
			t.Fatalf("pre-rotation token: %v", err)
		}
	}
}

// TestConcurrent runs many goroutines through a fresh verifier at once,
// genuine and forged tokens mixed: one JWKS fetch, every answer right.
func TestConcurrent(t *testing.T) {
	cg := newCognate(t)
	var good []string
	for range 4 {
		a, i := cg.signIn(t, cg.user(t))
		good = append(good, a, i)
	}
	bad := []string{good[0][:len(good[0])-3] + "AAA", "x.y.z", good[1] + "x"}
	v := cg.verifier(t, func(c *tokenverify.Config) { c.ClientIDs = []string{cg.client} })
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for g := range 32 {
		wg.Go(func() {
			for i := range 50 {
				if (g+i)%5 == 0 {
					c, err := v.Verify(t.Context(), bad[(g+i)%len(bad)])
					if c != nil || !errors.Is(err, tokenverify.ErrInvalid) {
						errs <- fmt.Errorf("forged token: %v, %v", c, err)
					}
					continue
				}
				if c, err := v.Verify(t.Context(), good[(g+i)%len(good)]); err != nil || c.ClientID != cg.client {
					errs <- fmt.Errorf("genuine token: %v", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := cg.jwks.n.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
}

func TestDiscover(t *testing.T) {
	cg := newCognate(t)
	got, err := tokenverify.Discover(t.Context(), cg.http, cg.issuer)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if got != cg.issuer+"/.well-known/jwks.json" {
		t.Fatalf("jwks_uri %q", got)
	}
	// The document names the issuer without the slash: a mismatch.
	_, err = tokenverify.Discover(t.Context(), cg.http, cg.issuer+"/")
	if err == nil || errors.Is(err, tokenverify.ErrUnavailable) {
		t.Fatalf("Discover with a trailing slash: %v, want a mismatch", err)
	}
	// A pool Cognate does not serve.
	_, err = tokenverify.Discover(t.Context(), cg.http, cg.url+"/us-east-1_Nope")
	if err == nil {
		t.Fatal("Discover of an unknown pool succeeded")
	}
	// And the discovered URL works.
	v := cg.verifier(t, func(c *tokenverify.Config) { c.JWKSURL = got })
	access, _ := cg.signIn(t, cg.user(t))
	if _, err := v.Verify(t.Context(), access); err != nil {
		t.Fatalf("Verify with the discovered JWKS: %v", err)
	}
}
