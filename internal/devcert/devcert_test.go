package devcert

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func ensure(t *testing.T, dir string, opts Options) Paths {
	t.Helper()
	p, err := Ensure(dir, opts)
	if err != nil {
		t.Fatalf("Ensure: %v", err)
	}
	return p
}

func load(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair.Leaf
}

func read(t *testing.T, paths ...string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// verify checks leaf against ca alone, as a client trusting only ca.pem.
func verify(leaf, ca *x509.Certificate, name string, at time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: at})
	return err
}

func TestFirstRunCreatesCAAndCertificate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	p := ensure(t, dir, Options{})
	if !p.NewCA || !p.NewCert {
		t.Fatalf("first run: NewCA=%v NewCert=%v", p.NewCA, p.NewCert)
	}
	if p.CA != filepath.Join(dir, "ca.pem") || p.CAKey != filepath.Join(dir, "ca-key.pem") ||
		p.Cert != filepath.Join(dir, "cert.pem") || p.Key != filepath.Join(dir, "key.pem") {
		t.Fatalf("paths = %+v", p)
	}
	for path, want := range map[string]os.FileMode{p.CAKey: 0o600, p.Key: 0o600, p.CA: 0o644, p.Cert: 0o644, dir: 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("dir holds %d entries, want the 4 files (no temporary files left)", len(entries))
	}

	ca := load(t, p.CA, p.CAKey)
	if !ca.IsCA || !ca.BasicConstraintsValid || ca.MaxPathLen != 0 || !ca.MaxPathLenZero || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA constraints: IsCA=%v MaxPathLen=%d zero=%v KeyUsage=%v", ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero, ca.KeyUsage)
	}
	if !strings.HasPrefix(ca.Subject.CommonName, "Cognate Local CA ") || len(ca.Subject.CommonName) <= len("Cognate Local CA ") {
		t.Errorf("CA name %q", ca.Subject.CommonName)
	}
	if _, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("CA key %T, want ECDSA", ca.PublicKey)
	}
	if life := ca.NotAfter.Sub(ca.NotBefore); life < 9*365*24*time.Hour || life > 11*365*24*time.Hour {
		t.Errorf("CA valid for %v, want about 10 years", life)
	}
	if !ca.PermittedDNSDomainsCritical || strings.Join(ca.PermittedDNSDomains, ",") != "localhost" || len(ca.PermittedIPRanges) != 2 {
		t.Errorf("CA name constraints: DNS %v (critical %v) IP %v", ca.PermittedDNSDomains, ca.PermittedDNSDomainsCritical, ca.PermittedIPRanges)
	}

	leaf := load(t, p.Cert, p.Key)
	if leaf.IsCA || len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("leaf IsCA=%v ExtKeyUsage=%v", leaf.IsCA, leaf.ExtKeyUsage)
	}
	if strings.Join(leaf.DNSNames, ",") != "localhost" || len(leaf.IPAddresses) != 2 ||
		!leaf.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) || !leaf.IPAddresses[1].Equal(net.IPv6loopback) {
		t.Errorf("leaf names: DNS %v IP %v", leaf.DNSNames, leaf.IPAddresses)
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life >= 398*24*time.Hour || life < 300*24*time.Hour {
		t.Errorf("leaf valid for %v, want under 398 days", life)
	}
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := verify(leaf, ca, name, time.Now()); err != nil {
			t.Errorf("leaf does not verify against ca.pem for %s: %v", name, err)
		}
	}
	if err := verify(leaf, ca, "example.com", time.Now()); err == nil {
		t.Error("leaf verifies for example.com")
	}
}

func TestSecondRunReusesFiles(t *testing.T) {
	dir := t.TempDir()
	p := ensure(t, dir, Options{})
	before := read(t, p.CA, p.CAKey, p.Cert, p.Key)
	again := ensure(t, dir, Options{Hosts: []string{"LOCALHOST", "[::1]"}})
	if again.NewCA || again.NewCert {
		t.Fatalf("second run: NewCA=%v NewCert=%v", again.NewCA, again.NewCert)
	}
	for i, b := range read(t, p.CA, p.CAKey, p.Cert, p.Key) {
		if !bytes.Equal(b, before[i]) {
			t.Errorf("file %d changed on the second run", i)
		}
	}
}

func TestCertificateRenewedNearExpiryCAKept(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	p := ensure(t, dir, Options{Now: func() time.Time { return start }})
	before := read(t, p.CA, p.CAKey, p.Cert, p.Key)
	oldLeaf := load(t, p.Cert, p.Key)

	// 31 days before expiry: kept.
	kept := oldLeaf.NotAfter.Add(-RenewBefore - 24*time.Hour)
	if q := ensure(t, dir, Options{Now: func() time.Time { return kept }}); q.NewCert || q.NewCA {
		t.Fatalf("renewed %v before the window: %+v", oldLeaf.NotAfter.Sub(kept), q)
	}
	if !bytes.Equal(read(t, p.Cert)[0], before[2]) {
		t.Fatal("cert.pem changed before the renewal window")
	}

	// 29 days before expiry: replaced, CA untouched.
	later := oldLeaf.NotAfter.Add(-RenewBefore + 24*time.Hour)
	q := ensure(t, dir, Options{Now: func() time.Time { return later }})
	if !q.NewCert || q.NewCA {
		t.Fatalf("near expiry: %+v", q)
	}
	now := read(t, p.CA, p.CAKey, p.Cert, p.Key)
	if !bytes.Equal(now[0], before[0]) || !bytes.Equal(now[1], before[1]) {
		t.Fatal("the CA changed when the certificate was renewed")
	}
	if bytes.Equal(now[2], before[2]) || bytes.Equal(now[3], before[3]) {
		t.Fatal("cert.pem or key.pem kept near expiry")
	}
	leaf, ca := load(t, p.Cert, p.Key), load(t, p.CA, p.CAKey)
	if !leaf.NotAfter.After(oldLeaf.NotAfter) {
		t.Fatalf("renewed certificate ends %v, the old one %v", leaf.NotAfter, oldLeaf.NotAfter)
	}
	if err := verify(leaf, ca, "localhost", later); err != nil {
		t.Fatalf("renewed certificate: %v", err)
	}
}

func TestCertificateNeverOutlivesCA(t *testing.T) {
	dir := t.TempDir()
	ensure(t, dir, Options{})
	ca := load(t, filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile))
	late := ca.NotAfter.Add(-60 * 24 * time.Hour)
	ensure(t, dir, Options{Now: func() time.Time { return late }})
	if leaf := load(t, filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)); leaf.NotAfter.After(ca.NotAfter) {
		t.Fatalf("certificate ends %v after the CA %v", leaf.NotAfter, ca.NotAfter)
	}
	expired := ca.NotAfter.Add(time.Hour)
	if _, err := Ensure(dir, Options{Now: func() time.Time { return expired }}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired CA: %v", err)
	}
}

func TestHosts(t *testing.T) {
	t.Run("first run covers and permits extra hosts", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{Hosts: []string{"cognate.test", "192.0.2.10", "*.apps.test"}})
		leaf, ca := load(t, p.Cert, p.Key), load(t, p.CA, p.CAKey)
		for _, name := range []string{"localhost", "127.0.0.1", "::1", "cognate.test", "192.0.2.10", "x.apps.test"} {
			if err := verify(leaf, ca, name, time.Now()); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
	t.Run("new host inside the constraints renews the certificate only", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{})
		ca := read(t, p.CA, p.CAKey)
		q := ensure(t, dir, Options{Hosts: []string{"app.localhost"}})
		if !q.NewCert || q.NewCA {
			t.Fatalf("new host: %+v", q)
		}
		if now := read(t, p.CA, p.CAKey); !bytes.Equal(now[0], ca[0]) || !bytes.Equal(now[1], ca[1]) {
			t.Fatal("the CA changed")
		}
		if err := verify(load(t, p.Cert, p.Key), load(t, p.CA, p.CAKey), "app.localhost", time.Now()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("new host outside the constraints is an error, nothing replaced", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{})
		before := read(t, p.CA, p.CAKey, p.Cert, p.Key)
		_, err := Ensure(dir, Options{Hosts: []string{"cognate.test"}})
		if err == nil || !strings.Contains(err.Error(), "remove "+p.CA) {
			t.Fatalf("host outside constraints: %v", err)
		}
		var inv x509.CertificateInvalidError
		if !errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
			t.Fatalf("error does not wrap the name-constraint failure: %v", err)
		}
		for i, b := range read(t, p.CA, p.CAKey, p.Cert, p.Key) {
			if !bytes.Equal(b, before[i]) {
				t.Errorf("file %d changed", i)
			}
		}
	})
	t.Run("invalid host", func(t *testing.T) {
		for _, h := range []string{"", "a b", "host:443", "http://x", "a..b"} {
			if _, err := Ensure(t.TempDir(), Options{Hosts: []string{h}}); err == nil {
				t.Errorf("host %q accepted", h)
			}
		}
	})
}

// TestCAConstraintsBindEveryCertificate shows that the name constraints
// are in the CA certificate itself: a certificate the CA key signs for
// another name fails verification, so a leaked ca-key.pem cannot be used
// to impersonate other sites to a machine that trusts ca.pem.
func TestCAConstraintsBindEveryCertificate(t *testing.T) {
	p := ensure(t, t.TempDir(), Options{})
	caPair, err := tls.LoadX509KeyPair(p.CA, p.CAKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caPair.Leaf, key.Public(), caPair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	rogue, _ := x509.ParseCertificate(der)
	for _, name := range []string{"example.com", "192.0.2.1"} {
		var inv x509.CertificateInvalidError
		if err := verify(rogue, caPair.Leaf, name, time.Now()); !errors.As(err, &inv) || inv.Reason != x509.CANotAuthorizedForThisName {
			t.Errorf("certificate for %s outside the constraints: %v", name, err)
		}
	}
}

func TestDamagedFiles(t *testing.T) {
	t.Run("CA key missing: refused, ca.pem kept", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{})
		ca := read(t, p.CA)[0]
		os.Remove(p.CAKey)
		if _, err := Ensure(dir, Options{}); err == nil || !strings.Contains(err.Error(), "incomplete") {
			t.Fatalf("missing ca-key.pem: %v", err)
		}
		if !bytes.Equal(read(t, p.CA)[0], ca) {
			t.Fatal("ca.pem overwritten")
		}
		if _, err := os.Stat(p.CAKey); err == nil {
			t.Fatal("ca-key.pem recreated")
		}
	})
	t.Run("CA certificate missing: refused, key kept", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{})
		key := read(t, p.CAKey)[0]
		os.Remove(p.CA)
		if _, err := Ensure(dir, Options{}); err == nil || !strings.Contains(err.Error(), "remove") {
			t.Fatalf("missing ca.pem: %v", err)
		}
		if !bytes.Equal(read(t, p.CAKey)[0], key) {
			t.Fatal("ca-key.pem overwritten")
		}
	})
	t.Run("CA files garbage: refused", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{})
		os.WriteFile(p.CA, []byte("garbage"), 0o644)
		if _, err := Ensure(dir, Options{}); err == nil || !strings.Contains(err.Error(), "unusable") {
			t.Fatalf("garbage ca.pem: %v", err)
		}
		if string(read(t, p.CA)[0]) != "garbage" {
			t.Fatal("ca.pem overwritten")
		}
	})
	t.Run("certificate damaged or mismatched: replaced", func(t *testing.T) {
		dir := t.TempDir()
		p := ensure(t, dir, Options{})
		ca := read(t, p.CA)[0]
		// A key that is not the certificate's, as a crash between
		// writing key.pem and cert.pem would leave.
		other := ensure(t, t.TempDir(), Options{})
		os.WriteFile(p.Key, read(t, other.Key)[0], 0o600)
		if q := ensure(t, dir, Options{}); !q.NewCert || q.NewCA {
			t.Fatalf("mismatched key: %+v", q)
		}
		os.WriteFile(p.Cert, []byte("garbage"), 0o644)
		if q := ensure(t, dir, Options{}); !q.NewCert || q.NewCA {
			t.Fatalf("garbage cert.pem: %+v", q)
		}
		// A certificate from another CA.
		os.WriteFile(p.Cert, read(t, other.Cert)[0], 0o644)
		os.WriteFile(p.Key, read(t, other.Key)[0], 0o600)
		if q := ensure(t, dir, Options{}); !q.NewCert || q.NewCA {
			t.Fatalf("certificate from another CA: %+v", q)
		}
		if !bytes.Equal(read(t, p.CA)[0], ca) {
			t.Fatal("ca.pem changed")
		}
		if err := verify(load(t, p.Cert, p.Key), load(t, p.CA, p.CAKey), "localhost", time.Now()); err != nil {
			t.Fatal(err)
		}
	})
}
