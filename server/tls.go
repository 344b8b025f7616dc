package server

import (
	"crypto/tls"
	"fmt"
	"path/filepath"

	"github.com/cognate-auth/cognate/internal/devcert"
)

// tlsSetup is how the server answers HTTPS.
type tlsSetup struct {
	config *tls.Config
	// certFile is the certificate served.
	certFile string
	// caFile is the absolute path of the local CA's certificate, the file
	// clients trust; empty when Config.TLSCert names a certificate.
	caFile string
}

// setupTLS loads Config.TLSCert and TLSKey, or else makes sure the local
// CA and its certificate for localhost exist under <DataDir>/tls. It
// returns nil when TLSAddr is TLSOff.
func setupTLS(cfg *Config) (*tlsSetup, error) {
	if cfg.TLSAddr == TLSOff {
		return nil, nil
	}
	ts := &tlsSetup{certFile: cfg.TLSCert}
	keyFile := cfg.TLSKey
	if cfg.TLSCert == "" {
		dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "tls"))
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		p, err := devcert.Ensure(dir, devcert.Options{})
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		if p.NewCA {
			cfg.Logger.Info("generated a local certificate authority", "ca", p.CA)
		}
		if p.NewCert {
			cfg.Logger.Info("generated a certificate for localhost", "cert", p.Cert)
		}
		ts.certFile, keyFile, ts.caFile = p.Cert, p.Key, p.CA
	}
	cert, err := tls.LoadX509KeyPair(ts.certFile, keyFile)
	if err != nil {
		if cfg.TLSCert != "" {
			return nil, fmt.Errorf("--tls-cert %s, --tls-key %s: %w", cfg.TLSCert, cfg.TLSKey, err)
		}
		return nil, fmt.Errorf("tls: %w", err)
	}
	ts.config = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
	return ts, nil
}
