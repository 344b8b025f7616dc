package server

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/cognate-auth/cognate/cognitoapi"
	"github.com/cognate-auth/cognate/internal/atomicfile"
	"github.com/cognate-auth/cognate/internal/trustedproxy"
)

// # Who is "this machine"
//
// Development conveniences (the outbox of live codes, the guess-limit
// exemption) are for the person running `cognate serve`. A TCP peer on
// loopback is not enough to tell: a reverse proxy on the same host makes
// every client look local, and other accounts on a shared machine reach
// loopback too. So a request is local only when it came straight from
// loopback (no forwarding header, not from a declared proxy), and the
// outbox also wants a key that only the data directory's owner can read.

// forwardingHeaders are set by proxies; a request carrying any of them
// came through one (or pretends to), so it is never local.
var forwardingHeaders = []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host", "X-Forwarded-Proto", "Via"}

// directLocal reports whether r came straight from this machine: a
// loopback peer that is not a trusted proxy, with no forwarding headers.
func directLocal(r *http.Request, trusted []netip.Prefix) bool {
	peer, err := netip.ParseAddr(cognitoapi.PeerIP(r))
	if err != nil || !peer.Unmap().IsLoopback() || trustedproxy.List(trusted).Contains(peer) {
		return false
	}
	for _, h := range forwardingHeaders {
		if _, ok := r.Header[h]; ok {
			return false
		}
	}
	return true
}

// localHost reports whether the Host header names this machine, so that a
// page from another site that rebinds its name to 127.0.0.1 (DNS
// rebinding) is not served.
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.Unmap().IsLoopback()
}

// outboxKeyFile holds the key the development outbox asks for. The data
// directory is 0700 and the file 0600, so reading it proves being the
// account that runs the server.
const outboxKeyFile = "dev-outbox-key"

// outboxKeyHeader carries the key for scripts; browsers use ?key=.
const outboxKeyHeader = "X-Cognate-Outbox-Key"

// loadOutboxKey returns the outbox key of dataDir, creating it on first
// start.
func loadOutboxKey(dataDir string) (string, error) {
	path := filepath.Join(dataDir, outboxKeyFile)
	raw, err := os.ReadFile(path)
	if key := strings.TrimSpace(string(raw)); err == nil && len(key) >= 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("outbox key: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("outbox key: %w", err)
	}
	key := base64.RawURLEncoding.EncodeToString(b)
	if err := atomicfile.Write(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("outbox key: %w", err)
	}
	return key, nil
}

// devOnly serves h to this machine's own user only: a direct loopback
// request, addressed to a local name, that presents the outbox key.
// Anything else gets the 404 of a page that does not exist.
func (s *Server) devOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(outboxKeyHeader)
		if key == "" {
			key = r.URL.Query().Get("key")
		}
		if !directLocal(r, s.trusted) || !localHost(r.Host) ||
			subtle.ConstantTimeCompare([]byte(key), []byte(s.outboxKey)) != 1 {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		// The key is in the page's URL: never send it on.
		w.Header().Set("Referrer-Policy", "no-referrer")
		h(w, r)
	}
}
