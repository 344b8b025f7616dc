package server

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
	"sync"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/broker"
	"github.com/cognate-auth/cognate/broker/brokers"
	"github.com/cognate-auth/cognate/internal/servicetest"
	"github.com/cognate-auth/cognate/userpool"
)

// startConcurrently runs New for each configuration at the same moment
// and returns the servers, closed when t ends.
func startConcurrently(t *testing.T, cfgs []Config) []*Server {
	t.Helper()
	srvs := make([]*Server, len(cfgs))
	errs := make([]error, len(cfgs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, cfg := range cfgs {
		if cfg.Out == nil {
			cfg.Out = io.Discard
		}
		wg.Go(func() {
			<-start
			srvs[i], errs[i] = New(context.Background(), cfg)
		})
	}
	close(start)
	wg.Wait()
	for i, s := range srvs {
		if s != nil {
			t.Cleanup(func() { s.Close() })
		}
		if errs[i] != nil {
			t.Fatalf("node %d: New: %v", i, errs[i])
		}
	}
	return srvs
}

// checkOnePoolOneClient checks that every node describes the same pool
// and client, and that storage holds exactly those (and one demo client).
func checkOnePoolOneClient(t *testing.T, srvs []*Server) {
	t.Helper()
	for i, s := range srvs {
		if s.Pool.ID != srvs[0].Pool.ID || s.Client.ClientID != srvs[0].Client.ClientID {
			t.Fatalf("node %d has pool %s client %s, node 0 pool %s client %s",
				i, s.Pool.ID, s.Client.ClientID, srvs[0].Pool.ID, srvs[0].Client.ClientID)
		}
	}
	ctx := context.Background()
	pools, err := srvs[0].store.ListPools(ctx)
	if err != nil {
		t.Fatal(err)
	}
	clients, err := srvs[0].store.ListClients(ctx, srvs[0].Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, c := range clients {
		names[c.Name]++
	}
	if len(pools) != 1 || names[srvs[0].Client.Name] != 1 || names[DemoClientName] != 1 || len(clients) != 2 {
		t.Fatalf("storage holds %d pools and clients %v, want 1 pool with one client and one demo client", len(pools), names)
	}
	keys, err := srvs[0].store.ListSigningKeys(ctx, srvs[0].Pool.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("the default pool has %d signing keys, want one per use (2)", len(keys))
	}
}

// TestConcurrentFirstStartsCreateOneDefaultPool starts several nodes on
// one empty database at once: they end with one pool, one client and one
// key per use, and every node's amplify_outputs.json names them.
func TestConcurrentFirstStartsCreateOneDefaultPool(t *testing.T) {
	dir := t.TempDir()
	cfgs := make([]Config, 4)
	for i := range cfgs {
		// One data directory, so one SQLite database: HTTPS off, as
		// nodes never share their local CA.
		cfgs[i] = Config{DataDir: dir, TLSAddr: TLSOff}
	}
	srvs := startConcurrently(t, cfgs)
	checkOnePoolOneClient(t, srvs)
	var out amplifyOutputs
	readJSON(t, filepath.Join(dir, "amplify_outputs.json"), &out)
	if out.Auth.UserPoolID != srvs[0].Pool.ID || out.Auth.UserPoolClientID != srvs[0].Client.ClientID {
		t.Fatalf("amplify_outputs.json names pool %s client %s", out.Auth.UserPoolID, out.Auth.UserPoolClientID)
	}
}

// TestConcurrentStartsWithAConfigFile: nodes started at once with the
// same config file create its pool and client once, without failing on
// one another's creates.
func TestConcurrentStartsWithAConfigFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(t.TempDir(), "cognate.json")
	doc := `{"UserPools":[{"Id":"eu-west-1_Nodes123","PoolName":"app","UsernameAttributes":["email"],
	  "Clients":[{"ClientId":"nodes","ClientName":"nodes","GenerateSecret":true,"ExplicitAuthFlows":["ALLOW_USER_SRP_AUTH","ALLOW_REFRESH_TOKEN_AUTH"]}]}]}`
	if err := os.WriteFile(conf, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgs := make([]Config, 4)
	for i := range cfgs {
		cfgs[i] = Config{DataDir: dir, ConfigFile: conf, TLSAddr: TLSOff}
	}
	srvs := startConcurrently(t, cfgs)
	checkOnePoolOneClient(t, srvs)
	for i, s := range srvs {
		if s.Client.Secret == "" || s.Client.Secret != srvs[0].Client.Secret {
			t.Fatalf("node %d sees client secret %q, node 0 %q", i, s.Client.Secret, srvs[0].Client.Secret)
		}
	}
}

// TestSharedStorageNeedsAdminCredentials: a node of shared storage
// without admin credentials refuses to start before it opens storage,
// saying how to give them, without the URL's password.
func TestSharedStorageNeedsAdminCredentials(t *testing.T) {
	_, err := New(context.Background(), Config{
		DataDir: t.TempDir(), Out: io.Discard,
		Storage: "postgres://cognate:hunter2secret@127.0.0.1:1/cognate?sslmode=disable",
	})
	if !errors.Is(err, ErrAdminCredentialsRequired) {
		t.Fatalf("New: %v, want ErrAdminCredentialsRequired", err)
	}
	for _, want := range []string{"--admin-access-key-id", "--admin-secret-access-key", "COGNATE_ADMIN_ACCESS_KEY_ID", "postgres://cognate@127.0.0.1:1/cognate"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2secret") {
		t.Fatalf("error shows the password: %v", err)
	}
}

// TestBannerNamesStorageAndBroker: the banner says which storage and
// broker the node uses, and never a password.
func TestBannerNamesStorageAndBroker(t *testing.T) {
	var b bytes.Buffer
	cfg := &Config{
		Addr: DefaultAddr, PublicURL: DefaultPublicURL, DataDir: "/d", MetricsAddr: MetricsOff,
		Storage: "postgres://cognate:pgpass@db:5432/cognate", Broker: "redis://:redispass@cache:6379/0",
	}
	printBanner(&b, cfg, banner{events: &outputsEvents{URL: "http://localhost:9229/event"}})
	out := b.String()
	for _, want := range []string{"Storage:        postgres://cognate@db:5432/cognate", "Broker:         redis://@cache:6379/0"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "pgpass") || strings.Contains(out, "redispass") {
		t.Fatalf("banner shows a password:\n%s", out)
	}
	b.Reset()
	printBanner(&b, &Config{Addr: DefaultAddr, PublicURL: DefaultPublicURL, DataDir: "/d", MetricsAddr: MetricsOff},
		banner{events: &outputsEvents{URL: "http://localhost:9229/event"}})
	if !strings.Contains(b.String(), "Storage:        SQLite in /d") || !strings.Contains(b.String(), "Broker:         in-process") {
		t.Fatalf("default banner:\n%s", b.String())
	}
}

// TestReadyz: /readyz answers 200 while storage answers, 503 with
// Retry-After once it does not.
func TestReadyz(t *testing.T) {
	s := newTestServer(t, Config{})
	for _, h := range []http.Handler{s.Handler(), s.MetricsHandler()} {
		if w := serveOn(h, "/readyz"); w.Code != http.StatusOK {
			t.Fatalf("readyz %d %s", w.Code, w.Body)
		}
	}
	s.store.Close()
	for _, h := range []http.Handler{s.Handler(), s.MetricsHandler()} {
		w := serveOn(h, "/readyz")
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Fatalf("readyz with storage closed: %d %v %s", w.Code, w.Header(), w.Body)
		}
	}
}

func serveOn(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// testAdmin are the admin credentials the nodes of a shared database
// share.
var testAdmin = AdminCredentials{AccessKeyID: "AKIANODESNODESNODES1", SecretAccessKey: "nodes-secret-access-key-0123456789"}

// TestPostgresNodesAreInterchangeable starts two nodes with different
// data directories at once on one fresh PostgreSQL database: they end with
// one default pool and client, serve the same JWKS, and a user created
// through one is visible through the other.
func TestPostgresNodesAreInterchangeable(t *testing.T) {
	url := servicetest.Postgres(t)
	natsURL, _ := servicetest.NATS(t)
	cfgs := make([]Config, 2)
	for i := range cfgs {
		cfgs[i] = Config{
			DataDir: t.TempDir(), Storage: url, Broker: natsURL, StorageMaxConns: 4,
			AdminAccessKeyID: testAdmin.AccessKeyID, AdminSecretAccessKey: testAdmin.SecretAccessKey,
		}
	}
	srvs := startConcurrently(t, cfgs)
	checkOnePoolOneClient(t, srvs)
	jwks := func(s *Server) string {
		w := serveOn(s.Handler(), "/"+s.Pool.ID+"/.well-known/jwks.json")
		if w.Code != http.StatusOK {
			t.Fatalf("jwks %d %s", w.Code, w.Body)
		}
		return w.Body.String()
	}
	if a, b := jwks(srvs[0]), jwks(srvs[1]); a != b {
		t.Fatalf("the nodes serve different key sets:\n%s\n%s", a, b)
	}
	ctx := context.Background()
	if _, err := srvs[0].Service().AdminCreateUser(ctx, userpool.AdminCreateUserInput{
		UserPoolId: srvs[0].Pool.ID, Username: "ann@example.com", MessageAction: "SUPPRESS",
	}); err != nil {
		t.Fatal(err)
	}
	u, err := srvs[1].Service().AdminGetUser(ctx, userpool.AdminUserInput{UserPoolId: srvs[1].Pool.ID, Username: "ann@example.com"})
	if err != nil {
		t.Fatalf("the user created through node 0, through node 1: %v", err)
	}
	if u.Username == "" {
		t.Fatal("node 1 returned no username")
	}
	for i, c := range cfgs {
		var out amplifyOutputs
		readJSON(t, filepath.Join(c.DataDir, "amplify_outputs.json"), &out)
		if out.Auth.UserPoolID != srvs[0].Pool.ID || out.Auth.UserPoolClientID != srvs[0].Client.ClientID {
			t.Fatalf("node %d's amplify_outputs.json names pool %s client %s", i, out.Auth.UserPoolID, out.Auth.UserPoolClientID)
		}
		if _, err := os.Stat(filepath.Join(c.DataDir, "admin-credentials.json")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("node %d wrote admin-credentials.json (%v)", i, err)
		}
	}
}

// TestBadStorageAndBrokerURLs: a --storage or --broker a node cannot use
// stops it with an error that names the flag and never the password.
func TestBadStorageAndBrokerURLs(t *testing.T) {
	for _, tc := range []struct {
		name, storage, broker, flag string
	}{
		{"unknown storage scheme", "mysql://root:topsecretpw@db/cognate", "", "storage"},
		{"storage unreachable", "postgres://cognate:topsecretpw@127.0.0.1:1/cognate?connect_timeout=2", "", "storage"},
		{"unknown broker scheme", "", "amqp://guest:topsecretpw@mq:5672/", "broker"},
		{"broker unreachable", "", "redis://:topsecretpw@127.0.0.1:1/0", "broker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := New(ctx, Config{
				DataDir: t.TempDir(), Out: io.Discard, Storage: tc.storage, Broker: tc.broker,
				AdminAccessKeyID: testAdmin.AccessKeyID, AdminSecretAccessKey: testAdmin.SecretAccessKey,
			})
			if err == nil {
				t.Fatal("New succeeded")
			}
			if strings.Contains(err.Error(), "topsecretpw") {
				t.Fatalf("error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), tc.flag) {
				t.Fatalf("error %q does not name %s", err, tc.flag)
			}
			t.Log(err)
		})
	}
}

// TestPostgresNodesShareTheGuessLimit: nodes on one database draw one
// address's guesses from one budget, so N nodes do not allow N times the
// burst.
func TestPostgresNodesShareTheGuessLimit(t *testing.T) {
	url := servicetest.Postgres(t)
	const burst = 4
	cfgs := make([]Config, 2)
	for i := range cfgs {
		cfgs[i] = Config{
			DataDir: t.TempDir(), Storage: url, StorageMaxConns: 4, TLSAddr: TLSOff,
			GuessRate: 0.001, GuessBurst: burst, // no refill within the test
			AdminAccessKeyID: testAdmin.AccessKeyID, AdminSecretAccessKey: testAdmin.SecretAccessKey,
		}
	}
	srvs := startConcurrently(t, cfgs)
	limited := 0
	for i := range 4 * burst {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{}`))
		r.RemoteAddr = "203.0.113.7:40000" // the same remote address on both nodes
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.InitiateAuth")
		w := httptest.NewRecorder()
		srvs[i%2].Handler().ServeHTTP(w, r)
		if strings.Contains(w.Body.String(), "TooManyRequestsException") {
			limited++
		}
	}
	if want := 4*burst - burst; limited != want {
		t.Fatalf("%d of %d guesses over two nodes were limited, want %d (one budget of %d)", limited, 4*burst, want, burst)
	}
}

// TestBrokerPrefixSeparatesInstallations: a node publishes its events
// under its --broker-prefix on a shared NATS, where another installation
// with another prefix does not see them.
func TestBrokerPrefixSeparatesInstallations(t *testing.T) {
	natsURL, prefix := servicetest.NATS(t)
	s := newTestServer(t, Config{Broker: natsURL, BrokerPrefix: prefix, TLSAddr: TLSOff})
	ctx := t.Context()
	got := make(chan broker.Message, 4)
	for _, p := range []string{prefix, servicetest.Unique() + "."} {
		b, err := brokers.Open(ctx, natsURL, brokers.Options{Prefix: p})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		if _, err := b.Subscribe(ctx, "", func(m broker.Message) { got <- m }); err != nil {
			t.Fatal(err)
		}
	}
	key, err := os.ReadFile(filepath.Join(s.cfg.DataDir, devKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/event", strings.NewReader(`{"channel":"/default/prefixed","events":["{\"n\":1}"]}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("x-api-key", strings.TrimSpace(string(key)))
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("publish: %d %s", w.Code, w.Body)
	}
	select {
	case m := <-got:
		if m.Channel != "/default/prefixed" {
			t.Fatalf("received %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the subscriber with the node's prefix received nothing")
	}
	select {
	case m := <-got:
		t.Fatalf("the subscriber with another prefix received %+v", m)
	case <-time.After(300 * time.Millisecond):
	}
}
