// Package trustedproxy names the client of a request that may have come
// through reverse proxies: only proxies the operator declared are
// believed about who they forward for.
package trustedproxy

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// List is a set of proxy addresses and networks.
type List []netip.Prefix

// Parse reads a comma-separated list of CIDRs or single addresses.
func Parse(s string) (List, error) {
	var out List
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Contains reports whether a is one of the proxies.
func (l List) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range l {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer is the address of r's TCP peer.
func Peer(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Client is the address r comes from: its peer, or, when the peer is a
// trusted proxy, the right-most X-Forwarded-For address that is not one
// (a client can prepend anything, but cannot forge what trusted proxies
// append). fromProxy reports that the peer is a trusted proxy.
func (l List) Client(r *http.Request) (addr netip.Addr, fromProxy, ok bool) {
	peer, ok := Peer(r)
	if !ok {
		return netip.Addr{}, false, false
	}
	if !l.Contains(peer) {
		return peer, false, true
	}
	addr = peer
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = a.Unmap()
		if !l.Contains(addr) {
			break
		}
	}
	return addr, true, true
}
