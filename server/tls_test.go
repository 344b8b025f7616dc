package server

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveBoth runs s.Serve on ln and tlsLn; the returned func cancels it
// and returns what Serve returned.
func serveBoth(t *testing.T, s *Server, ln, tlsLn net.Listener) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, tlsLn) }()
	stopped := false
	var err error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err = <-done:
			case <-time.After(15 * time.Second):
				t.Fatal("Serve did not return after cancel")
			}
		}
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

// clientTrusting is an HTTP client whose only root is the PEM file ca,
// with HTTP/2 on.
func clientTrusting(t *testing.T, ca string) *http.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no certificate", ca)
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}}
}

func get(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	return resp
}

func TestHTTPSWithLocalCA(t *testing.T) {
	dir := t.TempDir()
	var banner strings.Builder
	s := newTestServer(t, Config{DataDir: dir, Out: &banner})
	ca := filepath.Join(dir, "tls", "ca.pem")
	ln, tlsLn := listen(t), listen(t)
	stop := serveBoth(t, s, ln, tlsLn)
	port := tlsLn.Addr().(*net.TCPAddr).Port

	c := clientTrusting(t, ca)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		resp := get(t, c, "https://"+net.JoinHostPort(host, itoa(port))+"/healthz")
		if resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 {
			t.Errorf("%s: proto %s, TLS %+v", host, resp.Proto, resp.TLS)
		}
	}
	// The same handler: discovery answers over HTTPS too.
	get(t, c, "https://localhost:"+itoa(port)+"/"+s.Pool.ID+"/.well-known/openid-configuration")
	get(t, http.DefaultClient, "http://"+ln.Addr().String()+"/healthz")

	// Trust comes from ca.pem, not from the system.
	if _, err := http.Get("https://localhost:" + itoa(port) + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("system roots accepted the local CA: %v", err)
	}
	old := clientTrusting(t, ca)
	old.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS11
	if _, err := old.Get("https://localhost:" + itoa(port) + "/healthz"); err == nil {
		t.Error("TLS 1.1 accepted")
	}

	abs, _ := filepath.Abs(ca)
	for _, want := range []string{
		"HTTPS:          https://127.0.0.1:9443",
		"NODE_EXTRA_CA_CERTS=" + abs + " node app.js",
		"sudo cp " + abs + " /usr/local/share/ca-certificates/cognate.crt && sudo update-ca-certificates",
		"security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain " + abs,
		"import ca.pem as a certificate authority",
	} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}

	if err := stop(); err != nil {
		t.Fatalf("Serve after cancel: %v", err)
	}
	for _, l := range []net.Listener{ln, tlsLn} {
		if conn, err := net.Dial("tcp", l.Addr().String()); err == nil {
			conn.Close()
			t.Errorf("%s still accepts after shutdown", l.Addr())
		}
	}
}

// selfSigned writes a self-signed certificate for localhost and
// 127.0.0.1 and its key to dir, as a developer's own certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "my own localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "mine.pem"), filepath.Join(dir, "mine-key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, der
}

func TestHTTPSWithGivenCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, der := selfSigned(t, t.TempDir())
	var banner strings.Builder
	s := newTestServer(t, Config{DataDir: dir, Out: &banner, TLSCert: certFile, TLSKey: keyFile})
	if _, err := os.Stat(filepath.Join(dir, "tls")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a local CA was generated although --tls-cert was given: %v", err)
	}
	tlsLn := listen(t)
	serveBoth(t, s, listen(t), tlsLn)
	resp := get(t, clientTrusting(t, certFile), "https://"+tlsLn.Addr().String()+"/healthz")
	if len(resp.TLS.PeerCertificates) == 0 || !bytes.Equal(resp.TLS.PeerCertificates[0].Raw, der) {
		t.Fatal("the server did not present the --tls-cert certificate")
	}
	if !strings.Contains(banner.String(), "(certificate "+certFile+")") || strings.Contains(banner.String(), "NODE_EXTRA_CA_CERTS") {
		t.Errorf("banner with --tls-cert:\n%s", banner.String())
	}
}

func TestTLSOff(t *testing.T) {
	dir := t.TempDir()
	var banner strings.Builder
	s := newTestServer(t, Config{DataDir: dir, Out: &banner, TLSAddr: "off"})
	if _, err := os.Stat(filepath.Join(dir, "tls")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tls dir with HTTPS off: %v", err)
	}
	if strings.Contains(banner.String(), "https://") || strings.Contains(banner.String(), "ca.pem") {
		t.Errorf("banner with HTTPS off:\n%s", banner.String())
	}
	tlsLn := listen(t)
	defer tlsLn.Close()
	if err := s.Serve(context.Background(), listen(t), tlsLn); err == nil || !strings.Contains(err.Error(), "off") {
		t.Fatalf("HTTPS listener with HTTPS off: %v", err)
	}
	if err := s.Serve(context.Background(), nil, nil); err == nil {
		t.Fatal("Serve without listeners succeeded")
	}
}

func TestTLSConfigErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, t.TempDir())
	for name, tt := range map[string]struct {
		cfg  Config
		want string
	}{
		"cert without key":    {Config{TLSCert: certFile}, "--tls-cert and --tls-key go together"},
		"key without cert":    {Config{TLSKey: keyFile}, "--tls-cert and --tls-key go together"},
		"cert with HTTPS off": {Config{TLSCert: certFile, TLSKey: keyFile, TLSAddr: "off"}, "--tls-addr is off"},
		"missing cert file":   {Config{TLSCert: certFile + ".missing", TLSKey: keyFile}, "--tls-cert " + certFile + ".missing"},
		"key of another cert": {Config{TLSCert: certFile, TLSKey: certFile}, "--tls-cert"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.DataDir, cfg.Out = t.TempDir(), io.Discard
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

// TestServeStopsWhenAListenerFails: a listener that fails takes the
// other down with it, and Serve returns its error without waiting for
// ctx.
func TestServeStopsWhenAListenerFails(t *testing.T) {
	s := newTestServer(t, Config{})
	broken, tlsLn := listen(t), listen(t)
	broken.Close()
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), broken, tlsLn) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Serve on a closed listener returned nil")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return when a listener failed")
	}
	if conn, err := net.Dial("tcp", tlsLn.Addr().String()); err == nil {
		conn.Close()
		t.Fatal("the HTTPS listener still accepts")
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+) scheme=(https?)`)

// listeningAddrs waits for ListenAndServe's "listening" lines in logs.
func listeningAddrs(t *testing.T, logs *syncBuffer, n int) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		addrs := map[string]string{}
		for _, m := range listeningRE.FindAllStringSubmatch(logs.String(), -1) {
			addrs[m[2]] = m[1]
		}
		if len(addrs) >= n {
			return addrs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d listening lines in:\n%s", n, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestListenAndServeBindsBoth(t *testing.T) {
	dir := t.TempDir()
	logs := &syncBuffer{}
	s := newTestServer(t, Config{DataDir: dir, Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	addrs := listeningAddrs(t, logs, 2)
	get(t, http.DefaultClient, "http://"+addrs["http"]+"/healthz")
	get(t, clientTrusting(t, filepath.Join(dir, "tls", "ca.pem")), "https://"+addrs["https"]+"/healthz")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe: %v", err)
	}
}

func TestListenAndServeHTTPOnly(t *testing.T) {
	logs := &syncBuffer{}
	s := newTestServer(t, Config{Addr: "127.0.0.1:0", TLSAddr: "off", MetricsAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.ListenAndServe(ctx) }()
	addrs := listeningAddrs(t, logs, 1)
	get(t, http.DefaultClient, "http://"+addrs["http"]+"/healthz")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe: %v", err)
	}
	if strings.Contains(logs.String(), "scheme=https") {
		t.Fatalf("an HTTPS listener with HTTPS off:\n%s", logs.String())
	}
}

// TestNodeTrustsLocalCA runs the banner's Node.js recipe: Node's fetch
// reaches the HTTPS listener with NODE_EXTRA_CA_CERTS=ca.pem, and not
// without it.
func TestNodeTrustsLocalCA(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: skipping the NODE_EXTRA_CA_CERTS check (install Node.js 18+ to run it)")
	}
	dir := t.TempDir()
	s := newTestServer(t, Config{DataDir: dir})
	tlsLn := listen(t)
	serveBoth(t, s, listen(t), tlsLn)
	port := itoa(tlsLn.Addr().(*net.TCPAddr).Port)
	script := `Promise.all(["https://localhost:` + port + `/healthz", "https://127.0.0.1:` + port + `/healthz"].map(
	  (u) => fetch(u).then(async (r) => u + " " + r.status + " " + (await r.text()).trim())))
	  .then((lines) => console.log(lines.join("\n")), (e) => { console.error("fetch failed:", e.cause?.code ?? e.message); process.exit(3); });`
	run := func(extraCA string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "-e", script)
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "NODE_EXTRA_CA_CERTS=") && !strings.HasPrefix(kv, "NODE_TLS_REJECT_UNAUTHORIZED=") && !strings.HasPrefix(kv, "NODE_OPTIONS=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		if extraCA != "" {
			cmd.Env = append(cmd.Env, "NODE_EXTRA_CA_CERTS="+extraCA)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatalf("node with NODE_EXTRA_CA_CERTS: %v\n%s", err, out)
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if !strings.Contains(out, "https://"+host+":"+port+"/healthz 200 ") {
			t.Errorf("node fetch of %s:\n%s", host, out)
		}
	}
	if out, err := run(""); err == nil || !strings.Contains(out, "fetch failed") {
		t.Fatalf("node without NODE_EXTRA_CA_CERTS trusted the local CA: %v\n%s", err, out)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
