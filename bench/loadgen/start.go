package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cognate-auth/cognate/server"
	"github.com/cognate-auth/cognate/storage/backends"
)

// started is a Cognate that loadgen runs itself, on a temporary data
// directory it removes afterwards.
type started struct {
	url     string
	dataDir string
	pid     int // 0 in-process
	stop    func()
}

// startInProcess runs Cognate inside loadgen, on a loopback port. Handy
// for a quick look; server and driver then share one Go runtime, so no
// server CPU figure can be separated out.
func startInProcess(ctx context.Context) (*started, error) {
	dir, err := os.MkdirTemp("", "loadgen-cognate-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	url := "http://" + ln.Addr().String()
	srv, err := server.New(ctx, server.Config{DataDir: dir, PublicURL: url, Out: io.Discard})
	if err != nil {
		ln.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(sctx, ln, nil)
	}()
	return &started{url: url, dataDir: dir, stop: func() {
		cancel()
		<-done
		srv.Close()
		os.RemoveAll(dir)
	}}, nil
}

// buildCognate builds cmd/cognate of this module into a temporary
// directory, for -start subprocess without -cognate-bin.
func buildCognate(ctx context.Context) (bin string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "loadgen-build-")
	if err != nil {
		return "", nil, err
	}
	bin = filepath.Join(dir, "cognate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/cognate-auth/cognate/cmd/cognate")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build cognate: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}

// startSubprocess runs `cognate serve` from bin with extra appended to
// its arguments (-serve-arg), pinned to cpus with taskset when cpus is
// set. Each call is one node: its own port and data directory. publicURL
// is its --public-url (empty: its own URL); the nodes of one cluster
// share one, as behind a load balancer, since it is the tokens' issuer.
func startSubprocess(ctx context.Context, bin, cpus, publicURL string, extra []string) (*started, error) {
	dir, err := os.MkdirTemp("", "loadgen-cognate-")
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*started, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return fail(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	data := filepath.Join(dir, "data")
	if publicURL == "" {
		publicURL = url
	}
	args := []string{"serve", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--data", data, "--public-url", publicURL, "--tls-addr", "off", "--log-level", "warn"}
	args = append(args, listenersOff(bin)...)
	args = append(args, extra...)
	var cmd *exec.Cmd
	if cpus != "" {
		cmd = exec.Command("taskset", append([]string{"-c", cpus, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fail(fmt.Errorf("start cognate: %w", err))
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s := &started{url: url, dataDir: data, pid: cmd.Process.Pid, stop: func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		os.RemoveAll(dir)
	}}
	if err := waitHealthy(ctx, url+"/healthz", exited); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitHealthy polls url until it answers 200, for up to 30 seconds.
func waitHealthy(ctx context.Context, url string, exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("cognate exited during start-up (see its server.log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s not healthy after 30s", url)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// adminCredentials reads the pair Cognate generated into its data
// directory on first start.
func adminCredentials(dataDir string) (*aws.Credentials, error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, "admin-credentials.json"))
	if err != nil {
		return nil, err
	}
	var c server.AdminCredentials
	if err := json.Unmarshal(raw, &c); err != nil || c.AccessKeyID == "" {
		return nil, fmt.Errorf("%s/admin-credentials.json: unreadable", dataDir)
	}
	return &aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, Source: "cognate data dir"}, nil
}

// signingKey reads a pool's current access-token key from Cognate's
// database (poolID empty: the oldest pool, the default one). The server
// may be running: the database is in WAL mode and this only reads.
func signingKey(ctx context.Context, dataDir, poolID string) (*rsa.PrivateKey, string, error) {
	st, err := backends.Open(ctx, backends.Options{DataDir: dataDir, MustExist: true})
	if err != nil {
		return nil, "", err
	}
	defer st.Close()
	if poolID == "" {
		pools, err := st.ListPools(ctx)
		if err != nil {
			return nil, "", err
		}
		if len(pools) == 0 {
			return nil, "", errors.New("no pool in the database")
		}
		p := pools[0]
		for _, q := range pools {
			if q.CreatedAt.Before(p.CreatedAt) {
				p = q
			}
		}
		poolID = p.ID
	}
	keys, err := st.ListSigningKeys(ctx, poolID)
	if err != nil {
		return nil, "", err
	}
	for _, k := range keys { // newest first
		if k.Use != "access" {
			continue
		}
		priv, err := x509.ParsePKCS8PrivateKey(k.PrivateKeyDER)
		if err != nil {
			return nil, "", err
		}
		rk, ok := priv.(*rsa.PrivateKey)
		if !ok {
			return nil, "", fmt.Errorf("pool %s key %s is a %T, not RSA", poolID, k.ID, priv)
		}
		return rk, poolID, nil
	}
	return nil, "", fmt.Errorf("pool %s has no access-token key", poolID)
}

// listenersOff turns off the listeners besides the API that bin would
// open on fixed default ports (the demo app, metrics), so that runs do not
// collide with each other or with a developer's server. Binaries of older
// revisions (A/B runs) lack some of the flags: only those bin knows are
// passed.
func listenersOff(bin string) []string {
	help, _ := exec.Command(bin, "serve", "-h").CombinedOutput()
	var out []string
	for _, flag := range []string{"demo-addr", "metrics-addr"} {
		if strings.Contains(string(help), "-"+flag) {
			out = append(out, "--"+flag, "off")
		}
	}
	return out
}
