package integration_test

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOAuthRefreshRotation runs the refresh_token grant for a client
// with rotation and one without, as golang.org/x/oauth2 does it.
func TestOAuthRefreshRotation(t *testing.T) {
	t.Parallel()
	e := newOAuthEnv(t)
	email := "rot@example.com"
	e.newUser(email)
	b := e.newBrowser()
	signedIn := false
	grant := func(client string) (*oauth2.Config, *oauth2.Token, idClaims) {
		t.Helper()
		conf := e.rpConfig(client, "")
		var r codeRequest
		var code string
		if signedIn {
			r = newCodeRequest(conf)
			code = b.get(r.url).wantCode(t, r.state)
		} else {
			r, code = b.login(conf, email, password)
			signedIn = true
		}
		tok := e.exchange(conf, r, code)
		return conf, tok, e.verifyID(client, idToken(tok), tok.AccessToken, r.nonce)
	}

	t.Run("rotation", func(t *testing.T) {
		client, _ := e.oauthClient(clientSpec{rotation: true})
		conf, tok, idc := grant(client)
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		nt, err := conf.TokenSource(e.ctxRP(), &expired).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if nt.RefreshToken == "" || nt.RefreshToken == tok.RefreshToken {
			t.Fatalf("a rotating client's refresh kept the refresh token")
		}
		if c := e.verifyID(client, idToken(nt), nt.AccessToken, ""); c.AuthTime != idc.AuthTime {
			t.Errorf("auth_time %d after refresh, want %d", c.AuthTime, idc.AuthTime)
		}
		// The new one rotates again.
		r := e.refreshRaw(client, nt.RefreshToken)
		if r.status != http.StatusOK || r.str("refresh_token") == "" || r.str("refresh_token") == nt.RefreshToken {
			t.Fatalf("second rotation: %s", r)
		}
		// Rotated-out tokens are refused (grace period 0).
		wantOAuthError(t, e.refreshRaw(client, tok.RefreshToken), http.StatusBadRequest, "invalid_grant")
		wantOAuthError(t, e.refreshRaw(client, nt.RefreshToken), http.StatusBadRequest, "invalid_grant")
		// Whether reuse of a rotated-out token also ends the newest one
		// (family revocation, as OAuth 2.1 recommends) is the server's
		// choice; record which.
		if last := e.refreshRaw(client, r.str("refresh_token")); last.status == http.StatusOK {
			t.Logf("after reuse of a rotated-out token the newest refresh token still works")
		} else {
			t.Logf("after reuse of a rotated-out token the whole family is revoked: %s", last)
		}
	})

	t.Run("no rotation", func(t *testing.T) {
		client, _ := e.oauthClient(clientSpec{})
		_, tok, _ := grant(client)
		for i := range 2 {
			r := e.refreshRaw(client, tok.RefreshToken)
			if r.status != http.StatusOK || r.str("access_token") == "" || r.str("id_token") == "" {
				t.Fatalf("refresh #%d: %s", i+1, r)
			}
			if r.str("token_type") != "Bearer" {
				t.Errorf("token_type %q", r.str("token_type"))
			}
			if rt, ok := r.json["refresh_token"]; ok {
				t.Errorf("refresh #%d without rotation returned refresh_token %v (Cognito returns none)", i+1, rt)
			}
		}
	})
}
