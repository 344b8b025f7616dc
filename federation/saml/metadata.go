package saml

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	crewsaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
)

// Bounds of a metadata fetch, and how long a fetched document is used.
const (
	// MetadataTimeout bounds one fetch, connection to last byte.
	MetadataTimeout = 10 * time.Second
	// maxMetadataBytes bounds the document read from a MetadataURL.
	maxMetadataBytes = 1 << 20
	// metadataRefresh is how long a fetched document is used before it is
	// fetched again.
	metadataRefresh = time.Hour
	// metadataStale is how long a fetched document is still used while
	// fetching it again fails, so that an IdP's short outage of its
	// metadata endpoint does not stop every sign-in through it.
	metadataStale = 24 * time.Hour
	maxRedirects  = 3
)

type cachedMetadata struct {
	desc    *crewsaml.EntityDescriptor
	fetched time.Time
}

// metadataClient is the client of metadata fetches: bounded in time,
// following a few redirects, each to a URL checkURL accepts.
func metadataClient(c *http.Client, production bool) *http.Client {
	out := &http.Client{}
	if c != nil {
		*out = *c
	}
	if out.Timeout == 0 {
		out.Timeout = MetadataTimeout
	}
	out.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return errors.New("too many redirects")
		}
		return checkURL(req.URL, production)
	}
	return out
}

// checkURL accepts https URLs, and http ones to a loopback host outside
// production (a local IdP in development and tests).
func checkURL(u *url.URL, production bool) error {
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && !production && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("metadata URL must be https (http only to a loopback host outside --production)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// idpMetadata is the IdP's metadata: MetadataFile parsed, or MetadataURL
// fetched (cached, refreshed after metadataRefresh).
func (s *Service) idpMetadata(ctx context.Context, d details) (*crewsaml.EntityDescriptor, error) {
	if d.metadataFile != "" {
		sum := sha256.Sum256([]byte(d.metadataFile))
		key := "file:" + string(sum[:])
		if e := s.cached(key); e != nil {
			return e.desc, nil
		}
		desc, err := parseMetadata([]byte(d.metadataFile))
		if err != nil {
			return nil, err
		}
		s.remember(key, desc)
		return desc, nil
	}
	key := "url:" + d.metadataURL
	e := s.cached(key)
	if e != nil && s.now().Sub(e.fetched) < metadataRefresh {
		return e.desc, nil
	}
	desc, err := s.fetchMetadata(ctx, d.metadataURL)
	if err != nil {
		if e != nil && s.now().Sub(e.fetched) < metadataStale {
			s.log.WarnContext(ctx, "saml metadata refresh failed; using the copy fetched before", "url", d.metadataURL, "fetched", e.fetched, "err", err)
			return e.desc, nil
		}
		return nil, err
	}
	s.remember(key, desc)
	return desc, nil
}

func (s *Service) cached(key string) *cachedMetadata {
	s.mdMu.Lock()
	defer s.mdMu.Unlock()
	return s.metadata[key]
}

func (s *Service) remember(key string, desc *crewsaml.EntityDescriptor) {
	s.mdMu.Lock()
	defer s.mdMu.Unlock()
	s.metadata[key] = &cachedMetadata{desc: desc, fetched: s.now()}
}

func (s *Service) fetchMetadata(ctx context.Context, raw string) (*crewsaml.EntityDescriptor, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	if err := checkURL(u, s.production); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %d", ErrMetadataUnavailable, u.Redacted(), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadataUnavailable, err)
	}
	if len(body) > maxMetadataBytes {
		return nil, fmt.Errorf("%w: document larger than %d bytes", ErrMetadata, maxMetadataBytes)
	}
	return parseMetadata(body)
}

// parseMetadata reads an IdP's metadata, which must describe an IdP that
// signs (a signing certificate) and takes requests by the HTTP-Redirect
// binding.
func parseMetadata(b []byte) (*crewsaml.EntityDescriptor, error) {
	desc, err := samlsp.ParseMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	if len(desc.IDPSSODescriptors) == 0 {
		return nil, fmt.Errorf("%w: no IDPSSODescriptor", ErrMetadata)
	}
	var sso, signing bool
	for _, d := range desc.IDPSSODescriptors {
		for _, e := range d.SingleSignOnServices {
			sso = sso || e.Binding == crewsaml.HTTPRedirectBinding
		}
		for _, k := range d.KeyDescriptors {
			signing = signing || (k.Use == "" || k.Use == "signing") && len(k.KeyInfo.X509Data.X509Certificates) > 0
		}
	}
	if !sso {
		return nil, fmt.Errorf("%w: no SingleSignOnService with the HTTP-Redirect binding", ErrMetadata)
	}
	if !signing {
		return nil, fmt.Errorf("%w: no signing certificate", ErrMetadata)
	}
	return desc, nil
}
