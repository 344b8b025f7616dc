package userpool_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/userpool"
)

func TestVerifyToken(t *testing.T) {
	e := newEnv(t, nil)
	e.confirmedUser("v@example.com", "Passw0rd!x")
	out, err := e.passwordSignIn("v@example.com", "Passw0rd!x")
	if err != nil {
		t.Fatal(err)
	}
	res := out.AuthenticationResult
	for _, tc := range []struct {
		name, token, use string
	}{
		{"access", res.AccessToken, "access"},
		{"id", res.IdToken, "id"},
	} {
		info, err := e.svc.VerifyToken(e.ctx, tc.token)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if info.TokenUse != tc.use || info.PoolID != e.poolID || info.ClientID != e.client || info.Sub == "" ||
			info.Username == "" || info.Claims["sub"] != info.Sub || info.Expires.Before(e.clock.Now()) {
			t.Errorf("%s: info = %+v", tc.name, info)
		}
	}

	parts := strings.Split(res.AccessToken, ".")
	tampered := parts[0] + "." + parts[1] + "x." + parts[2]
	for _, bad := range []string{"", "a.b.c", tampered, res.AccessToken[:len(res.AccessToken)-2], strings.Repeat("a", 20000)} {
		if _, err := e.svc.VerifyToken(e.ctx, bad); err == nil || errors.Is(err, userpool.ErrTokenExpired) {
			t.Errorf("VerifyToken(%.30q…) = %v, want a refusal other than expiry", bad, err)
		}
	}

	e.clock.Advance(61 * time.Minute)
	_, err = e.svc.VerifyToken(e.ctx, res.AccessToken)
	wantErr(t, err, userpool.ErrNotAuthorized, "expired")
	if !errors.Is(err, userpool.ErrTokenExpired) {
		t.Errorf("expired token: %v does not match ErrTokenExpired", err)
	}

	out, err = e.passwordSignIn("v@example.com", "Passw0rd!x")
	if err != nil {
		t.Fatal(err)
	}
	fresh := out.AuthenticationResult
	if _, err := e.svc.GlobalSignOut(e.ctx, userpool.AccessTokenInput{AccessToken: fresh.AccessToken}); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{fresh.AccessToken, fresh.IdToken} {
		_, err = e.svc.VerifyToken(e.ctx, tok)
		wantErr(t, err, userpool.ErrNotAuthorized, "revoked")
		if errors.Is(err, userpool.ErrTokenExpired) {
			t.Errorf("revoked token: %v matches ErrTokenExpired", err)
		}
	}
}
