// Package devcert makes and keeps the certificates Cognate serves HTTPS
// with on a developer's machine: a local certificate authority, generated
// once, and a short-lived server certificate for localhost, 127.0.0.1 and
// ::1 that the authority signs and that is renewed when needed.
//
// The authority's private key never leaves the directory it is generated
// in; trusting its certificate (ca.pem) makes every certificate devcert
// issues from it trusted, which is why the authority is name-constrained
// to the hosts it was made for (see Ensure).
package devcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/atomicfile"
)

// File names inside the directory given to Ensure.
const (
	CAFile    = "ca.pem"     // the authority's certificate: what clients trust
	CAKeyFile = "ca-key.pem" // the authority's private key (mode 0600)
	CertFile  = "cert.pem"   // the server certificate
	KeyFile   = "key.pem"    // the server certificate's private key (mode 0600)
)

// Lifetimes.
const (
	// CAValidity is how long a new authority is valid.
	CAValidity = 10 * 365 * 24 * time.Hour
	// LeafValidity is how long a server certificate is valid. Browsers
	// refuse server certificates valid for 398 days or more.
	LeafValidity = 365 * 24 * time.Hour
	// RenewBefore is how close to its expiry a server certificate is
	// replaced.
	RenewBefore = 30 * 24 * time.Hour
	// backdate allows for clocks that are a little behind.
	backdate = time.Hour
)

// DefaultHosts are the names every server certificate covers.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Options tune Ensure. The zero value is ready to use.
type Options struct {
	// Hosts are DNS names or IP addresses the server certificate must
	// cover besides DefaultHosts. A new authority is constrained to
	// DefaultHosts and the Hosts given when it is made.
	Hosts []string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Paths names the files Ensure keeps and says what it generated.
type Paths struct {
	Dir     string // the directory given to Ensure
	CA      string // Dir/ca.pem
	CAKey   string // Dir/ca-key.pem
	Cert    string // Dir/cert.pem
	Key     string // Dir/key.pem
	NewCA   bool   // this call generated the authority
	NewCert bool   // this call generated the server certificate
}

// Ensure makes sure dir holds a local certificate authority and a server
// certificate from it that covers DefaultHosts and opts.Hosts, and returns
// the files' paths.
//
// The first call generates both, as ECDSA P-256 keys: the authority
// "Cognate Local CA <random>", valid for CAValidity, that may sign only
// end-entity certificates (MaxPathLen 0) and only for the hosts named
// (critical name constraints: Go, OpenSSL and so Node.js and curl, and
// Chromium 156 were checked to accept its certificates and to refuse one
// it signs for another name); and the server certificate, valid for
// LeafValidity. Later calls reuse the files as they are, except that the
// server certificate (never the authority) is replaced when it is missing
// or unreadable, expires within RenewBefore, does not cover every host
// asked for, or no longer verifies against the authority.
//
// An existing authority is never overwritten: if ca.pem or ca-key.pem is
// present but the pair cannot be used (one is missing or damaged, the
// authority has expired, or its name constraints do not permit a host in
// opts.Hosts), Ensure returns an error saying which files to remove.
// Every file is written to a temporary file first and renamed into place;
// the private keys get mode 0600.
func Ensure(dir string, opts Options) (Paths, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	p := Paths{
		Dir:   dir,
		CA:    filepath.Join(dir, CAFile),
		CAKey: filepath.Join(dir, CAKeyFile),
		Cert:  filepath.Join(dir, CertFile),
		Key:   filepath.Join(dir, KeyFile),
	}
	hosts, err := normalizeHosts(append(append([]string(nil), DefaultHosts...), opts.Hosts...))
	if err != nil {
		return p, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, fmt.Errorf("devcert: %w", err)
	}
	ca, caKey, err := loadCA(p)
	switch {
	case errors.Is(err, errNoCA):
		if ca, caKey, err = newCA(p, hosts, now()); err != nil {
			return p, err
		}
		p.NewCA = true
	case err != nil:
		return p, err
	}
	t := now()
	if !t.Before(ca.NotAfter) {
		return p, fmt.Errorf("devcert: the local CA %s expired on %s; remove %s and %s to make a new one (and trust the new ca.pem)",
			p.CA, ca.NotAfter.Format(time.DateOnly), p.CA, p.CAKey)
	}
	if leafUsable(p, ca, hosts, t) {
		return p, nil
	}
	if err := newLeaf(p, ca, caKey, hosts, t); err != nil {
		return p, err
	}
	p.NewCert = true
	return p, nil
}

// host is one name a certificate is for.
type host struct {
	name string // as given to VerifyHostname
	ip   net.IP // nil for a DNS name
}

// normalizeHosts lower-cases names, strips IPv6 brackets, drops
// duplicates and rejects what cannot be a certificate name.
func normalizeHosts(in []string) ([]host, error) {
	var out []host
	seen := map[string]bool{}
	for _, h := range in {
		h = strings.ToLower(strings.TrimSpace(h))
		h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
		var e host
		if ip := net.ParseIP(h); ip != nil {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			e = host{name: ip.String(), ip: ip}
		} else {
			if !validDNSName(h) {
				return nil, fmt.Errorf("devcert: host %q is neither a DNS name nor an IP address", h)
			}
			e = host{name: h}
		}
		if !seen[e.name] {
			seen[e.name] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// validDNSName accepts letters, digits, hyphens and underscores in
// dot-separated labels, with an optional leading "*." wildcard.
func validDNSName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// errNoCA is loadCA's answer when neither of the authority's files exists.
var errNoCA = errors.New("devcert: no local CA yet")

// loadCA reads the authority, or returns errNoCA.
func loadCA(p Paths) (*x509.Certificate, crypto.Signer, error) {
	certPEM, certErr := os.ReadFile(p.CA)
	keyPEM, keyErr := os.ReadFile(p.CAKey)
	if errors.Is(certErr, fs.ErrNotExist) && errors.Is(keyErr, fs.ErrNotExist) {
		return nil, nil, errNoCA
	}
	remove := fmt.Sprintf("remove %s and %s to make a new CA (and trust the new ca.pem)", p.CA, p.CAKey)
	for _, err := range []error{certErr, keyErr} {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil, fmt.Errorf("devcert: the local CA is incomplete (%w); %s", err, remove)
		case err != nil:
			return nil, nil, fmt.Errorf("devcert: read the local CA: %w", err)
		}
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: the local CA in %s is unusable (%w); %s", p.Dir, err, remove)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok || !pair.Leaf.IsCA {
		return nil, nil, fmt.Errorf("devcert: %s is not a certificate authority; %s", p.CA, remove)
	}
	return pair.Leaf, signer, nil
}

// newCA generates the authority and writes its key, then its certificate.
func newCA(p Paths, hosts []host, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	tag := make([]byte, 4)
	if _, err := rand.Read(tag); err != nil {
		return nil, nil, fmt.Errorf("devcert: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			Organization: []string{"Cognate"},
			CommonName:   "Cognate Local CA " + hex.EncodeToString(tag),
		},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		// RFC 5280 asks for the extension to be critical; every
		// verifier devcert targets understands it.
		PermittedDNSDomainsCritical: true,
	}
	for _, h := range hosts {
		if h.ip != nil {
			tmpl.PermittedIPRanges = append(tmpl.PermittedIPRanges, &net.IPNet{IP: h.ip, Mask: net.CIDRMask(len(h.ip)*8, len(h.ip)*8)})
		} else {
			// "localhost" permits localhost and its subdomains.
			tmpl.PermittedDNSDomains = append(tmpl.PermittedDNSDomains, strings.TrimPrefix(h.name, "*."))
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("devcert: %w", err)
	}
	// Key first: ca.pem is what marks the authority as made, and a key
	// without it is refused rather than replaced.
	if err := writeKey(p.CAKey, key); err != nil {
		return nil, nil, err
	}
	if err := atomicfile.Write(p.CA, pemBlock("CERTIFICATE", der), 0o644); err != nil {
		return nil, nil, fmt.Errorf("devcert: %w", err)
	}
	return cert, key, nil
}

// leafUsable reports whether the server certificate on disk can be kept.
func leafUsable(p Paths, ca *x509.Certificate, hosts []host, now time.Time) bool {
	pair, err := tls.LoadX509KeyPair(p.Cert, p.Key)
	if err != nil {
		return false
	}
	leaf := pair.Leaf
	if now.Add(RenewBefore).After(leaf.NotAfter) {
		return false
	}
	return verifyLeaf(leaf, ca, hosts, now) == nil
}

// verifyLeaf checks leaf against ca alone, for every host.
func verifyLeaf(leaf, ca *x509.Certificate, hosts []host, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, h := range hosts {
		name := h.name
		if strings.HasPrefix(name, "*.") {
			name = "x" + name[1:]
		}
		if _, err := leaf.Verify(x509.VerifyOptions{
			DNSName:     name,
			Roots:       roots,
			CurrentTime: now,
			KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}); err != nil {
			return err
		}
	}
	return nil
}

// newLeaf issues a server certificate for hosts and writes its key, then
// the certificate: a crash in between leaves a pair that does not match,
// which the next call replaces.
func newLeaf(p Paths, ca *x509.Certificate, caKey crypto.Signer, hosts []host, now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("devcert: generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	notAfter := now.Add(LeafValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"Cognate"}, CommonName: hosts[0].name},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if h.ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, h.ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h.name)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("devcert: create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	if err := verifyLeaf(leaf, ca, hosts, now); err != nil {
		return fmt.Errorf("devcert: the local CA %s cannot issue a certificate for these hosts (%w); to add hosts, remove %s and %s to make a new CA (and trust the new ca.pem)",
			p.CA, err, p.CA, p.CAKey)
	}
	if err := writeKey(p.Key, key); err != nil {
		return err
	}
	if err := atomicfile.Write(p.Cert, pemBlock("CERTIFICATE", der), 0o644); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("devcert: serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

// writeKey writes key as PKCS #8 PEM with mode 0600.
func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	if err := atomicfile.Write(path, pemBlock("PRIVATE KEY", der), 0o600); err != nil {
		return fmt.Errorf("devcert: %w", err)
	}
	return nil
}
