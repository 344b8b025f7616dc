package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/cognate-auth/cognate/cognitoapi"
)

// parseCIDRs parses a comma-separated list of CIDRs or addresses.
func parseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("--trusted-proxies: %w", err)
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// clientAddr names the client a request comes from, for per-address
// limits. Behind trusted proxies it is the right-most X-Forwarded-For
// address that is not a trusted proxy (a client can prepend anything, but
// cannot forge what our own proxies append). In development, requests
// straight from this machine (see directLocal; never one that came
// through a proxy) are exempt (""), so local tests and benchmarks are not
// throttled; in production nobody is.
func clientAddr(trusted []netip.Prefix, production bool) func(*http.Request) string {
	return func(r *http.Request) string {
		peer, err := netip.ParseAddr(cognitoapi.PeerIP(r))
		if err != nil {
			return r.RemoteAddr
		}
		if !production && directLocal(r, trusted) {
			return ""
		}
		addr := peer.Unmap()
		if isTrusted(trusted, addr) {
			hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
			for i := len(hops) - 1; i >= 0; i-- {
				a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
				if err != nil {
					break
				}
				addr = a.Unmap()
				if !isTrusted(trusted, addr) {
					break
				}
			}
		}
		return addr.String()
	}
}
