package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognate-auth/cognate/server"
)

const testPassword = "Bench-Passw0rd!"

// cognate starts a real Cognate on a loopback listener (its PublicURL is
// the listener's URL, so issuer and JWKS are reachable) with one
// confirmed user, and returns its URL, data directory and the user's
// email.
func cognate(t *testing.T) (url, data, email string) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	url = "http://" + ts.Listener.Addr().String()
	data = t.TempDir()
	srv, err := server.New(t.Context(), server.Config{DataDir: data, PublicURL: url, Out: io.Discard})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	api := cip.New(cip.Options{
		BaseEndpoint: aws.String(url), Region: "us-east-1", Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(srv.Admin.AccessKeyID, srv.Admin.SecretAccessKey, ""),
	})
	email = "bench@example.com"
	out, err := api.AdminCreateUser(t.Context(), &cip.AdminCreateUserInput{UserPoolId: &srv.Pool.ID, Username: &email})
	if err != nil {
		t.Fatalf("AdminCreateUser: %v", err)
	}
	_, err = api.AdminSetUserPassword(t.Context(), &cip.AdminSetUserPasswordInput{
		UserPoolId: &srv.Pool.ID, Username: out.User.Username, Password: aws.String(testPassword), Permanent: true,
	})
	if err != nil {
		t.Fatalf("AdminSetUserPassword: %v", err)
	}
	return url, data, email
}

func TestApp(t *testing.T) {
	url, data, email := cognate(t)
	var buf bytes.Buffer
	if err := run(t.Context(), []string{"-signin", email, "-password", testPassword, "-endpoint", url, "-data", data}, &buf); err != nil {
		t.Fatalf("-signin: %v", err)
	}
	cookie := strings.TrimSpace(buf.String())
	user, err := tokenUsername(strings.SplitN(strings.SplitN(cookie, ".accessToken=", 2)[1], ";", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{endpoint: url, data: data, origin: "http://localhost:8080"}
	if err := cfg.resolvePool(); err != nil {
		t.Fatal(err)
	}
	h, err := newApp(cfg.sessionConfig())
	if err != nil {
		t.Fatal(err)
	}
	// A forged signature and another client's cookie names must both be
	// signed out, not errors.
	forged := strings.Replace(cookie, ".accessToken=eyJ", ".accessToken=eyK", 1)
	otherClient := strings.ReplaceAll(cookie, cfg.client, "someotherclient")
	tests := []struct {
		name, method, path, cookie string
		status                     int
		body                       string
	}{
		{"bare ignores the session", http.MethodGet, "/bare", cookie, http.StatusOK, "anonymous"},
		{"mw sees the session", http.MethodGet, "/mw", cookie, http.StatusOK, user},
		{"mw sees it again (cached)", http.MethodGet, "/mw", cookie, http.StatusOK, user},
		{"mw without cookies", http.MethodGet, "/mw", "", http.StatusOK, "anonymous"},
		{"mw with a forged token", http.MethodGet, "/mw", forged, http.StatusOK, "anonymous"},
		{"mw with another client's cookies", http.MethodGet, "/mw", otherClient, http.StatusOK, "anonymous"},
		{"mw only answers GET", http.MethodPost, "/mw", cookie, http.StatusMethodNotAllowed, ""},
		{"unknown route", http.MethodGet, "/other", cookie, http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, "http://localhost:8080"+tc.path, nil)
			if tc.cookie != "" {
				req.Header.Set("Cookie", tc.cookie)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Fatalf("body %q, want %q", rec.Body, tc.body)
			}
		})
	}
}

func TestSignInWrongPassword(t *testing.T) {
	url, data, email := cognate(t)
	err := run(t.Context(), []string{"-signin", email, "-password", "Wrong-Passw0rd!", "-endpoint", url, "-data", data}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "NotAuthorized") {
		t.Fatalf("err = %v, want NotAuthorizedException", err)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "amplify_outputs.json"), []byte(`{"auth":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		usage bool // errUsage expected (else any error)
	}{
		{"unknown flag", []string{"-nope"}, true},
		{"no pool", []string{"-signin", "a"}, true},
		{"not loopback", []string{"-pool", "p", "-client", "c", "-addr", "0.0.0.0:0"}, true},
		{"no data dir", []string{"-data", filepath.Join(dir, "missing")}, false},
		{"outputs without a pool", []string{"-data", dir}, false},
		{"missing results", []string{"-table", filepath.Join(dir, "missing.jsonl")}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := run(context.Background(), tc.args, io.Discard)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, errUsage) != tc.usage {
				t.Fatalf("err = %v; usage error: %v, want %v", err, errors.Is(err, errUsage), tc.usage)
			}
		})
	}
}

func TestFreePort(t *testing.T) {
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"-freeport"}, &buf); err != nil {
		t.Fatal(err)
	}
	p := strings.TrimSpace(buf.String())
	if p == "" || strings.Trim(p, "0123456789") != "" {
		t.Fatalf("-freeport printed %q", p)
	}
}

func TestTokenUsername(t *testing.T) {
	tests := []struct {
		name, jwt, want string
		ok              bool
	}{
		{"username claim", "x.eyJ1c2VybmFtZSI6ImFsaWNlIn0.y", "alice", true},
		{"no username", "x.eyJzdWIiOiJhIn0.y", "", false},
		{"not base64url", "x.***.y", "", false},
		{"not JSON", "x.bm90anNvbg.y", "", false},
		{"two parts", "x.y", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tokenUsername(tc.jwt)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("tokenUsername = %q, %v; want %q, ok %v", got, err, tc.want, tc.ok)
			}
		})
	}
}
