package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readJSON(t *testing.T, path string, v any) os.FileInfo {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestFirstStartWritesOutputsAndRestartReusesThem(t *testing.T) {
	dir := t.TempDir()
	var banner strings.Builder
	s := newTestServer(t, Config{DataDir: dir, Out: &banner})
	first := s.Pool.ID
	if !validShape(first) {
		t.Fatalf("pool id %q is not region_ + 9 alphanumerics", first)
	}
	var out amplifyOutputs
	readJSON(t, filepath.Join(dir, "amplify_outputs.json"), &out)
	if out.Auth.UserPoolID != first || out.Auth.UserPoolClientID != s.Client.ClientID || out.Auth.AWSRegion != "us-east-1" {
		t.Fatalf("outputs %+v do not name pool %s client %s", out.Auth, first, s.Client.ClientID)
	}
	if strings.Join(out.Auth.UsernameAttributes, ",") != "email" || out.Auth.PasswordPolicy.MinLength != 8 || !out.Auth.PasswordPolicy.RequireSymbols {
		t.Fatalf("outputs auth = %+v", out.Auth)
	}
	var creds AdminCredentials
	fi := readJSON(t, filepath.Join(dir, "admin-credentials.json"), &creds)
	if fi.Mode().Perm() != 0o600 || creds.AccessKeyID == "" || len(creds.SecretAccessKey) < 32 {
		t.Fatalf("admin credentials mode %v, %+v", fi.Mode().Perm(), creds)
	}
	for _, want := range []string{first, s.Client.ClientID, "userPoolEndpoint: 'http://localhost:9229'", "Amplify.configure"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}
	s.Close()

	again := newTestServer(t, Config{DataDir: dir})
	if again.Pool.ID != first || again.Client.ClientID != s.Client.ClientID || again.Admin != creds {
		t.Fatalf("restart made pool %s client %s creds %v; want %s %s %v", again.Pool.ID, again.Client.ClientID, again.Admin, first, s.Client.ClientID, creds)
	}
}

func validShape(id string) bool {
	region, suffix, ok := strings.Cut(id, "_")
	return ok && region == "us-east-1" && len(suffix) == 9 && strings.Trim(suffix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == ""
}

func TestConfigFileDeclaresPoolsAndClients(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(t.TempDir(), "cognate.json")
	write := func(flows string) {
		doc := `{"UserPools":[{"Id":"eu-west-1_Config123","PoolName":"app","UsernameAttributes":["email"],"AutoVerifiedAttributes":["email"],
		  "Schema":[{"Name":"tenant","AttributeDataType":"String"}],
		  "Clients":[{"ClientId":"myapp","ClientName":"my app","ExplicitAuthFlows":[` + flows + `]}]}]}`
		if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`"ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"`)
	s := newTestServer(t, Config{DataDir: dir, ConfigFile: conf})
	if s.Pool.ID != "eu-west-1_Config123" || s.Client.ClientID != "myapp" {
		t.Fatalf("got pool %s client %s", s.Pool.ID, s.Client.ClientID)
	}
	if len(s.Pool.Settings.Schema) != 1 || s.Pool.Settings.Schema[0].Name != "custom:tenant" {
		t.Fatalf("schema = %+v", s.Pool.Settings.Schema)
	}
	s.Close()

	write(`"ALLOW_USER_PASSWORD_AUTH","ALLOW_REFRESH_TOKEN_AUTH"`)
	again := newTestServer(t, Config{DataDir: dir, ConfigFile: conf})
	if got := strings.Join(again.Client.Settings.ExplicitAuthFlows, ","); got != "ALLOW_USER_PASSWORD_AUTH,ALLOW_REFRESH_TOKEN_AUTH" {
		t.Fatalf("client flows after config change = %s", got)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		file string
		want string
	}{
		{"production without smtp", Config{Production: true}, "", "--smtp-url"},
		{"bad public url", Config{PublicURL: "localhost:9229"}, "", "--public-url"},
		{"half admin credentials", Config{AdminAccessKeyID: "AKIAX"}, "", "go together"},
		{"unknown config member", Config{}, `{"UserPools":[],"Pools":[]}`, "unknown field"},
		{"pool without id", Config{}, `{"UserPools":[{"PoolName":"x"}]}`, "Id is required"},
		{"invalid pool id", Config{}, `{"UserPools":[{"Id":"nounderscore","PoolName":"x","Clients":[{"ClientId":"c","ClientName":"c"}]}]}`, "Invalid user pool id"},
		{"bad smtp url", Config{SMTPURL: "http://mail"}, "", "scheme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.DataDir, cfg.Out = t.TempDir(), io.Discard
			if tt.file != "" {
				cfg.ConfigFile = filepath.Join(t.TempDir(), "c.json")
				os.WriteFile(cfg.ConfigFile, []byte(tt.file), 0o600)
			}
			s, err := New(context.Background(), cfg)
			if err == nil {
				s.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q lacks %q", err, tt.want)
			}
		})
	}
}

func serve(t *testing.T, s *Server, method, path, remote string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func TestProductionHasNoOutbox(t *testing.T) {
	s := newTestServer(t, Config{Production: true, SMTPURL: "smtp://127.0.0.1:2525?from=no-reply@example.com"})
	if w := serve(t, s, "GET", "/_dev/outbox.json", "127.0.0.1:1"); w.Code != http.StatusNotFound {
		t.Fatalf("production outbox: %d", w.Code)
	}
}

func TestHealthMetricsAndWellKnown(t *testing.T) {
	s := newTestServer(t, Config{})
	if w := serve(t, s, "GET", "/healthz", "127.0.0.1:1"); w.Code != 200 || w.Header().Get("x-amzn-RequestId") == "" {
		t.Fatalf("healthz %d %v", w.Code, w.Header())
	}
	if w := serve(t, s, "GET", "/metrics", "127.0.0.1:1"); w.Code != http.StatusNotFound {
		t.Fatalf("metrics on the API handler: %d", w.Code)
	}
	w := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `cognate_http_requests_total{code="200",route="GET /healthz"}`) {
		t.Fatalf("metrics %d:\n%.2000s", w.Code, w.Body.String())
	}
	var disc map[string]any
	w = serve(t, s, "GET", "/"+s.Pool.ID+"/.well-known/openid-configuration", "127.0.0.1:1")
	if err := json.Unmarshal(w.Body.Bytes(), &disc); err != nil || disc["issuer"] != "http://localhost:9229/"+s.Pool.ID {
		t.Fatalf("discovery %d %v %v", w.Code, disc, err)
	}
	var jwks struct{ Keys []map[string]any }
	w = serve(t, s, "GET", "/"+s.Pool.ID+"/.well-known/jwks.json", "127.0.0.1:1")
	if err := json.Unmarshal(w.Body.Bytes(), &jwks); err != nil || len(jwks.Keys) != 2 {
		t.Fatalf("jwks %d %s", w.Code, w.Body.String())
	}
	if w := serve(t, s, "GET", "/us-east-1_missing/.well-known/jwks.json", "127.0.0.1:1"); w.Code != 404 {
		t.Fatalf("unknown pool jwks: %d", w.Code)
	}
}

func TestGracefulShutdown(t *testing.T) {
	s := newTestServer(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz over TCP: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}
