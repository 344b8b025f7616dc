package devcert

// Tests that back claims of docs/SECURITY.md which no other test proves:
// the local CA's name constraints hold in the verifiers other than Go's
// that trust it (TestCAConstraintsBindEveryCertificate is Go's).

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// signedByCA makes a server certificate for names, signed with the CA's
// key as a thief of ca-key.pem could, and writes it (and its key) as PEM.
func signedByCA(t *testing.T, p Paths, file string, dns []string, ips ...string) tls.Certificate {
	t.Helper()
	ca, err := tls.LoadX509KeyPair(p.CA, p.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "test leaf " + strings.TrimSuffix(file, ".pem")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: dns,
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Leaf, key.Public(), ca.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(filepath.Join(p.Dir, file), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(key)
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// serveTLS serves "ok" over HTTPS with cert on loopback and returns the
// URL (https://127.0.0.1:port).
func serveTLS(t *testing.T, cert tls.Certificate) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestCAConstraintsHoldOutsideGo: OpenSSL, curl and Node.js, trusting
// only ca.pem, accept a certificate the CA signs for 127.0.0.1 and refuse
// one that also names example.com: the name constraints, not the host
// name check, refuse it (the connection is to 127.0.0.1, which the
// certificate names). Each tool that is not installed is skipped.
func TestCAConstraintsHoldOutsideGo(t *testing.T) {
	p := ensure(t, t.TempDir(), Options{})
	good := signedByCA(t, p, "good.pem", nil, "127.0.0.1")
	rogue := signedByCA(t, p, "rogue.pem", []string{"example.com"}, "127.0.0.1")
	goodURL, rogueURL := serveTLS(t, good), serveTLS(t, rogue)

	run := func(t *testing.T, name string, args []string, env ...string) (string, error) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	t.Run("openssl", func(t *testing.T) {
		if _, err := exec.LookPath("openssl"); err != nil {
			t.Skip("openssl not installed")
		}
		if out, err := run(t, "openssl", []string{"verify", "-CAfile", p.CA, filepath.Join(p.Dir, "good.pem")}); err != nil {
			t.Fatalf("a certificate within the constraints: %v\n%s", err, out)
		}
		out, err := run(t, "openssl", []string{"verify", "-CAfile", p.CA, filepath.Join(p.Dir, "rogue.pem")})
		if err == nil || !strings.Contains(out, "permitted subtree violation") {
			t.Fatalf("a certificate for example.com: %v\n%s", err, out)
		}
	})
	t.Run("curl", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl not installed")
		}
		args := func(u string) []string {
			return []string{"-sS", "--max-time", "10", "--noproxy", "*", "--cacert", p.CA, u}
		}
		if out, err := run(t, "curl", args(goodURL)); err != nil || out != "ok" {
			t.Fatalf("a certificate within the constraints: %v\n%s", err, out)
		}
		if out, err := run(t, "curl", args(rogueURL)); err == nil || !strings.Contains(out, "permitted subtree violation") {
			t.Fatalf("curl on a certificate for example.com: %v\n%s", err, out)
		}
	})
	t.Run("node", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Skip("node not installed")
		}
		script := `fetch(process.argv[1]).then(r => r.text()).then(b => { process.stdout.write(b) },
  e => { process.stdout.write(String(e.cause && (e.cause.code + ": " + e.cause.message) || e)); process.exit(1) })`
		env := "NODE_EXTRA_CA_CERTS=" + p.CA
		if out, err := run(t, "node", []string{"-e", script, goodURL}, env); err != nil || out != "ok" {
			t.Fatalf("a certificate within the constraints: %v\n%s", err, out)
		}
		out, err := run(t, "node", []string{"-e", script, rogueURL}, env)
		if err == nil || !strings.Contains(out, "permitted subtree violation") {
			t.Fatalf("node on a certificate for example.com: %v\n%s", err, out)
		}
	})
}
