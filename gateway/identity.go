package gateway

import (
	"net/http"
	"strings"

	"github.com/cognate-auth/cognate/session"
)

// strippedPrefixes and strippedNames are identity headers of other auth
// proxies (oauth2-proxy, ALB, web servers' REMOTE_USER), removed from
// every forwarded request along with the gateway's own prefix, so an app
// configured for any of them cannot be fed a forged identity. Compared
// lower-cased with '_' read as '-': CGI-style servers (Rack, WSGI, PHP)
// turn both into the same variable.
var (
	strippedPrefixes = []string{"x-amzn-oidc-", "x-auth-request-"}
	strippedNames    = []string{
		"x-forwarded-user", "x-forwarded-email", "x-forwarded-groups",
		"x-forwarded-preferred-username", "x-forwarded-access-token",
		"remote-user", "x-remote-user", "x-real-ip",
	}
)

// The ALB's headers.
const (
	albData     = "X-Amzn-Oidc-Data"
	albAccess   = "X-Amzn-Oidc-Accesstoken"
	albIdentity = "X-Amzn-Oidc-Identity"
)

// identity strips and sets the identity headers of forwarded requests.
type identity struct {
	prefix     string // as configured
	lower      string // lower-cased, for stripping
	passTokens bool
	alb        *albSigner // nil: no ALB headers
}

func newIdentity(cfg *Config, alb *albSigner) *identity {
	return &identity{prefix: cfg.IdentityPrefix, lower: strings.ToLower(cfg.IdentityPrefix), passTokens: cfg.PassTokens, alb: alb}
}

// strip removes every header a client may have sent to pose as someone.
func (id *identity) strip(h http.Header) {
	for k := range h {
		if id.forged(k) {
			delete(h, k)
		}
	}
}

func (id *identity) forged(name string) bool {
	n := strings.ReplaceAll(strings.ToLower(name), "_", "-")
	if strings.HasPrefix(n, id.lower) {
		return true
	}
	for _, p := range strippedPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, s := range strippedNames {
		if n == s {
			return true
		}
	}
	return false
}

// set adds the headers of s (nil: signed out, nothing) to h, which
// strip has cleaned.
func (id *identity) set(h http.Header, s *session.Session, csrf string) {
	if csrf != "" {
		h.Set(id.prefix+"Csrf-Token", csrf)
	}
	if s == nil {
		return
	}
	put := func(name, v string) {
		if v != "" && headerSafe(v) {
			h.Set(name, v)
		}
	}
	put(id.prefix+"User", s.Username)
	put(id.prefix+"Sub", s.Sub)
	put(id.prefix+"Email", s.Email)
	if len(s.Groups) > 0 {
		gs := make([]string, 0, len(s.Groups))
		for _, g := range s.Groups {
			gs = append(gs, groupEscaper.Replace(g))
		}
		put(id.prefix+"Groups", strings.Join(gs, ","))
	}
	if id.passTokens {
		put(id.prefix+"Access-Token", s.AccessToken)
		put(id.prefix+"Id-Token", s.IDToken)
	}
	if id.alb != nil {
		put(albAccess, s.AccessToken)
		put(albIdentity, s.Sub)
		put(albData, id.alb.sign(s))
	}
}

// groupEscaper keeps the comma a separator: a group name's own '%' and
// ',' are percent-escaped.
var groupEscaper = strings.NewReplacer("%", "%25", ",", "%2C")

// headerSafe: no control characters (a header value cannot carry them,
// and a claim that holds one is not passed on).
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
