// Package cluster_test runs Cognate as a cluster: three `cognate serve`
// processes, each on its own port and data directory, sharing one
// PostgreSQL database and one broker (NATS or Redis), driven the way
// applications reach them — the AWS SDK for Go v2 and the AppSync Events
// protocol. The tests kill a node, stop the database and stop the broker
// under load, and check what clients were told and what the database
// kept. Their numbers (requests, errors by kind, time to recover) are
// logged with t.Logf for the operations documentation.
//
// The server binary is built once per run (without -race: the servers are
// not what is under test for races), or taken from COGNATE_BIN. Without
// PostgreSQL, NATS or Redis the tests skip, unless
// COGNATE_REQUIRE_SERVICES=1 (see internal/servicetest).
package cluster_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
)

// The cluster's shared settings: every node runs with the same config
// file, admin credentials and public URL (the load balancer's, which
// token issuers derive from), as an installation's nodes do.
const (
	poolID      = "us-east-1_cluster"
	clientID    = "clusterweb"
	publicURL   = "http://cognate.cluster.test"
	adminKeyID  = "AKIACOGNATECLUSTER01"
	adminSecret = "cluster-test-admin-secret-0123456789"
	region      = "us-east-1"
	// password satisfies the pool's (Cognito's default) policy.
	password = "Correct-Horse-9"
	// nodes is the size of every cluster.
	nodes = 3
)

// Timing bounds. The machine is small and shared, so they are generous
// where only a hang would exceed them.
const (
	// clientTimeout bounds every request a test makes: no request may
	// hang longer, outage or not.
	clientTimeout = 8 * time.Second
	// readyTimeout bounds a node's start (process launch to a healthy
	// /readyz).
	readyTimeout = 30 * time.Second
)

// configJSON declares the pool and app client every node serves: a pool
// of plain usernames, no code sent at sign-up (so the load measures the
// database, not the outbox), every sign-in flow.
const configJSON = `{"UserPools": [{"Id": "` + poolID + `", "PoolName": "cluster",
  "Clients": [{"ClientId": "` + clientID + `", "ClientName": "web",
    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}]}]}
`

// binDir holds the binary built for this run.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cognate-cluster-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// cognateBin returns the server binary: COGNATE_BIN, or ./cmd/cognate
// built once for the whole run (by the first test that gets as far as
// starting a node, so a run whose tests all skip builds nothing).
func cognateBin(t testing.TB) string {
	t.Helper()
	if b := os.Getenv("COGNATE_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		start := time.Now()
		out := filepath.Join(binDir, "cognate")
		cmd := exec.Command("go", "build", "-o", out, "github.com/cognate-auth/cognate/cmd/cognate")
		b, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/cognate: %v\n%s", err, b)
			return
		}
		binPath = out
		t.Logf("built %s in %s", out, time.Since(start).Round(time.Millisecond))
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// node is one `cognate serve` process of a cluster. It keeps its port,
// data directory and arguments across kill and restart.
type node struct {
	t    *testing.T
	name string // "node1", …
	bin  string
	args []string
	addr string // host:port of its HTTP listener
	url  string // http://addr
	http *http.Client
	api  *cip.Client // signs admin operations; retries nothing
	out  *logBuffer  // stdout and stderr of every run

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// cluster is three nodes sharing a database and a broker.
type cluster struct {
	t     *testing.T
	nodes []*node
	// eventsKey is the development events API key node 1 created; the
	// keys live in the shared database, so every node accepts it.
	eventsKey string
}

// newCluster starts three nodes on storage (a postgres:// URL of an empty
// database) and broker (nats:// or redis://, "" for none), all at once,
// as an orchestrator starts replicas: they race to create the schema and
// the configured pool and client, and must all come up.
func newCluster(t *testing.T, storage, broker string) *cluster {
	t.Helper()
	bin := cognateBin(t)
	cfg := filepath.Join(t.TempDir(), "cognate.json")
	if err := os.WriteFile(cfg, []byte(configJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t}
	for i := range nodes {
		c.nodes = append(c.nodes, newNode(t, fmt.Sprintf("node%d", i+1), bin, cfg, storage, broker))
	}
	t.Cleanup(func() {
		for _, n := range c.nodes {
			n.checkLog()
		}
	})
	start := time.Now()
	for _, n := range c.nodes {
		n.launch()
	}
	for _, n := range c.nodes {
		n.waitReady()
	}
	t.Logf("cluster of %d nodes ready in %s (storage %s, broker %s)", nodes, time.Since(start).Round(time.Millisecond), redact(storage), broker)
	key, err := os.ReadFile(filepath.Join(c.nodes[0].dataDir(), "events-dev-key"))
	if err != nil {
		t.Fatalf("node1's events key: %v", err)
	}
	c.eventsKey = strings.TrimSpace(string(key))
	return c
}

// redact hides a URL's password, if any, for the log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func newNode(t *testing.T, name, bin, cfg, storage, broker string) *node {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t)))
	args := []string{
		"serve",
		"--addr", addr,
		"--tls-addr", "off",
		"--demo-addr", "off",
		"--metrics-addr", "off",
		"--data", t.TempDir(),
		"--config", cfg,
		"--public-url", publicURL,
		"--admin-access-key-id", adminKeyID,
		"--admin-secret-access-key", adminSecret,
		"--storage", storage,
	}
	if broker != "" {
		args = append(args, "--broker", broker)
	}
	n := &node{t: t, name: name, bin: bin, args: args, addr: addr, url: "http://" + addr, out: &logBuffer{}}
	n.api, n.http = newAPI(n.url)
	t.Cleanup(func() { n.kill() })
	return n
}

// newAPI is an admin SDK client of the node at url, with a connection
// pool of its own and no retries, so that every error is seen.
func newAPI(url string) (*cip.Client, *http.Client) {
	hc := &http.Client{
		Timeout: clientTimeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	return cip.New(cip.Options{
		BaseEndpoint: aws.String(url),
		Region:       region,
		HTTPClient:   hc,
		Retryer:      aws.NopRetryer{},
		Credentials:  credentials.NewStaticCredentialsProvider(adminKeyID, adminSecret, ""),
	}), hc
}

// dataDir is the node's --data directory.
func (n *node) dataDir() string {
	for i, a := range n.args {
		if a == "--data" {
			return n.args[i+1]
		}
	}
	return ""
}

// start launches the node and waits until it is ready.
func (n *node) start() {
	n.t.Helper()
	n.launch()
	n.waitReady()
}

// launch starts the process without waiting for it to be ready.
func (n *node) launch() {
	n.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		n.t.Fatalf("%s is already running", n.name)
	}
	fmt.Fprintf(n.out, "--- %s: launch %s\n", time.Now().Format(time.TimeOnly), n.name)
	cmd := exec.Command(n.bin, n.args...)
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("%s: %v", n.name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	n.cmd, n.done = cmd, done
}

// waitReady waits until GET /readyz answers 200 (the node has reached
// the database), failing the test if the process exits first or
// readyTimeout passes.
func (n *node) waitReady() {
	n.t.Helper()
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	deadline := time.Now().Add(readyTimeout)
	var last string
	for {
		if s, err := n.ready(); err == nil && s == http.StatusOK {
			return
		} else if err != nil {
			last = err.Error()
		} else {
			last = "status " + strconv.Itoa(s)
		}
		select {
		case <-done:
			n.t.Fatalf("%s exited while starting; output:\n%s", n.name, n.out.tail(6000))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s not ready after %s (%s); output:\n%s", n.name, readyTimeout, last, n.out.tail(6000))
		}
	}
}

// ready is the status of GET /readyz, the readiness probe.
func (n *node) ready() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.url+"/readyz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := n.http.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// kill ends the process with SIGKILL, as a crash or an OOM kill would,
// and waits for it to exit. Killing a stopped node does nothing.
func (n *node) kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd, n.done = nil, nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
	fmt.Fprintf(n.out, "--- %s: killed %s\n", time.Now().Format(time.TimeOnly), n.name)
}

// checkLog fails the test if the node ever panicked or raced, and shows
// the end of its output if the test failed.
func (n *node) checkLog() {
	out := n.out.String()
	for _, bad := range []string{"panic:", "WARNING: DATA RACE", "fatal error:"} {
		if i := strings.Index(out, bad); i >= 0 {
			n.t.Errorf("%s's output has %q:\n%s", n.name, bad, out[i:min(len(out), i+4000)])
		}
	}
	if n.t.Failed() {
		n.t.Logf("%s output (end):\n%s", n.name, n.out.tail(4000))
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listened on a
// moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logBuffer is a process's output, written and read concurrently.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail is the last n bytes of the output.
func (b *logBuffer) tail(n int) string {
	s := b.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
