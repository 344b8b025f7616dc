package session

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// CookiePolicy holds the attributes of every token cookie. Server-written
// and server-deleted cookies use the same values, and deletes also expire
// the host-only variant and every LegacyDomains × LegacyPaths variant.
type CookiePolicy struct {
	// Domain is the Domain attribute; "" writes host-only cookies.
	Domain string
	// Path is the Path attribute; default "/".
	Path string
	// SameSite defaults to Strict in ModeServer and Lax in ModeClient
	// (what aws-amplify's CookieStorage writes).
	SameSite http.SameSite
	// MaxAge is the cookies' lifetime; default 365 days.
	MaxAge time.Duration
	// Secure overrides the Secure flag; nil means "the Origin is https".
	Secure *bool
	// LegacyDomains and LegacyPaths name attributes that an older
	// deployment or a client-side CookieStorage used: every delete (and
	// every write) expires those variants too.
	LegacyDomains, LegacyPaths []string
}

// variant is one (Domain, Path) a cookie may live under.
type variant struct{ domain, path string }

// policy is a CookiePolicy resolved against the Config.
type policy struct {
	// cookieAttrs are what every token cookie is written with (its
	// deletes differ only in maxAge 0).
	cookieAttrs
	chunk    bool      // split oversized token cookies (ModeServer)
	variants []variant // every variant but the policy's own
}

func resolvePolicy(cfg Config) (policy, error) {
	cp := cfg.Cookies
	p := policy{
		cookieAttrs: cookieAttrs{
			domain:   strings.TrimPrefix(strings.ToLower(cp.Domain), "."),
			path:     cp.Path,
			maxAge:   int(cp.MaxAge / time.Second),
			secure:   strings.HasPrefix(cfg.Origin, "https://"),
			httpOnly: cfg.Mode == ModeServer,
		},
		chunk: cfg.Mode == ModeServer,
	}
	if p.path == "" {
		p.path = "/"
	}
	if p.maxAge <= 0 {
		p.maxAge = int(DefaultMaxAge / time.Second)
	}
	if cp.Secure != nil {
		p.secure = *cp.Secure
	}
	switch cp.SameSite {
	case 0, http.SameSiteDefaultMode:
		p.sameSite = "Strict"
		if cfg.Mode == ModeClient {
			p.sameSite = "Lax"
		}
	case http.SameSiteStrictMode:
		p.sameSite = "Strict"
	case http.SameSiteLaxMode:
		p.sameSite = "Lax"
	case http.SameSiteNoneMode:
		p.sameSite = "None"
		if !p.secure {
			return p, errors.New("session: SameSite=None cookies must be Secure")
		}
	default:
		return p, fmt.Errorf("session: unknown SameSite %d", cp.SameSite)
	}
	for _, v := range append([]string{p.path}, cp.LegacyPaths...) {
		if !strings.HasPrefix(v, "/") || strings.ContainsAny(v, ";, \t\r\n\x00") {
			return p, fmt.Errorf("session: cookie path %q must be a path without separators", v)
		}
	}
	domains := uniq(append([]string{p.domain, ""}, trimDots(cp.LegacyDomains)...))
	paths := uniq(append([]string{p.path}, cp.LegacyPaths...))
	for _, d := range domains {
		if strings.ContainsAny(d, ";, \t\r\n\x00/") {
			return p, fmt.Errorf("session: cookie domain %q has a forbidden character", d)
		}
		for _, pa := range paths {
			if d == p.domain && pa == p.path {
				continue
			}
			p.variants = append(p.variants, variant{d, pa})
		}
	}
	return p, nil
}

func trimDots(ds []string) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = strings.TrimPrefix(strings.ToLower(d), ".")
	}
	return out
}

func uniq(s []string) []string {
	var out []string
	for _, v := range s {
		dup := false
		for _, o := range out {
			dup = dup || o == v
		}
		if !dup {
			out = append(out, v)
		}
	}
	return out
}
