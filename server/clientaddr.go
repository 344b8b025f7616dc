package server

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/cognate-auth/cognate/internal/trustedproxy"
)

// parseCIDRs parses --trusted-proxies.
func parseCIDRs(list string) ([]netip.Prefix, error) {
	l, err := trustedproxy.Parse(list)
	if err != nil {
		return nil, fmt.Errorf("--trusted-proxies: %w", err)
	}
	return l, nil
}

// clientAddr names the client a request comes from, for per-address
// limits: trustedproxy.List.Client. In development, requests
// straight from this machine (see directLocal; never one that came
// through a proxy) are exempt (""), so local tests and benchmarks are not
// throttled; in production nobody is.
func clientAddr(trusted []netip.Prefix, production bool) func(*http.Request) string {
	return func(r *http.Request) string {
		if !production && directLocal(r, trusted) {
			return ""
		}
		addr, _, ok := trustedproxy.List(trusted).Client(r)
		if !ok {
			return r.RemoteAddr
		}
		return addr.String()
	}
}
