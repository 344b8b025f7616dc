// Package csrf issues and checks the tokens that protect HTML form posts
// from cross-site request forgery.
//
// A post must pass two independent layers:
//
//   - A signed double-submit token. The browser holds a random value in an
//     HttpOnly, SameSite=Strict cookie, and every form carries
//     HMAC(key, value) in a hidden field. A page of another site can
//     neither read the cookie nor compute the MAC. The field is a MAC
//     rather than a copy of the cookie so that planting a cookie (from a
//     sibling subdomain, or over plain HTTP) does not help an attacker
//     either: without the key they cannot produce the field that goes
//     with the value they planted.
//   - An origin check. A post whose Sec-Fetch-Site says another site
//     started it, or whose Origin (or, without Origin, Referer) names an
//     origin that is not trusted, is refused whatever its token. A browser
//     that sends none of these leaves the decision to the token.
//
// SameSite=Strict already keeps the cookie off cross-site posts in
// current browsers; the two layers cover the browsers and the same-site
// attackers it does not.
package csrf

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Refusal reasons of Check, and the key error of Token and Check.
var (
	// ErrCrossOrigin: Sec-Fetch-Site, Origin or Referer says the post came
	// from a page of another origin.
	ErrCrossOrigin = errors.New("csrf: cross-origin request")
	// ErrNoCookie: the request has no valid token cookie (the browser
	// never loaded a form, or dropped the cookie).
	ErrNoCookie = errors.New("csrf: no token cookie")
	// ErrNoToken: the form has no token field.
	ErrNoToken = errors.New("csrf: no token in the form")
	// ErrBadToken: the form's token is not the MAC of this browser's
	// cookie under the key (forged, another browser's, another key's, or
	// given more than once).
	ErrBadToken = errors.New("csrf: invalid token")
	// ErrKeyUnavailable: Options.KeyFunc failed or returned an empty key.
	// This is a server fault, not a refusal.
	ErrKeyUnavailable = errors.New("csrf: key unavailable")
)

// Options configure a Protector. The zero value is usable: cookie "csrf"
// at Path=/, field "csrf_token", a random key per Protector, Secure on
// TLS requests, and the request's own origin trusted.
type Options struct {
	// CookieName names the cookie holding the browser's random value;
	// default "csrf". Give it the __Host- prefix only when Secure is
	// always true and CookiePath is "/".
	CookieName string
	// CookiePath is the cookie's Path; default "/". A narrower path keeps
	// the cookie off the rest of the site.
	CookiePath string
	// FieldName is the hidden form field carrying the token; default
	// "csrf_token".
	FieldName string
	// Key is the HMAC key. Nodes that serve the same forms need the same
	// key; nil means a random key per Protector, which is fine on one node
	// (a restart only makes an open form ask to be submitted again).
	Key []byte
	// KeyFunc, when set, replaces Key: it loads the key on first use (for
	// keys kept in storage, which a constructor without a context cannot
	// read). A failure is retried on the next call; a key, once loaded, is
	// kept.
	KeyFunc func(context.Context) ([]byte, error)
	// Secure reports whether the cookie gets the Secure attribute; nil
	// means "the request came over TLS".
	Secure func(*http.Request) bool
	// Origins are origins (scheme://host[:port], as browsers send them in
	// Origin) whose pages may post the forms, such as the public origin
	// behind a TLS-terminating proxy. They are compared case-insensitively.
	Origins []string
	// OriginsOnly trusts Origins alone. By default the request's own
	// origin (https when it came over TLS, else http, and its Host) is
	// trusted too.
	OriginsOnly bool
}

// Protector issues and checks form tokens. It is safe for concurrent use.
type Protector struct {
	cookie, path, field string
	secure              func(*http.Request) bool
	origins             []string
	originsOnly         bool
	keyFunc             func(context.Context) ([]byte, error)

	mu  sync.Mutex
	key []byte
}

// New returns a Protector for opts.
func New(opts Options) *Protector {
	p := &Protector{
		cookie: opts.CookieName, path: opts.CookiePath, field: opts.FieldName,
		secure: opts.Secure, originsOnly: opts.OriginsOnly, keyFunc: opts.KeyFunc,
	}
	if p.cookie == "" {
		p.cookie = "csrf"
	}
	if p.path == "" {
		p.path = "/"
	}
	if p.field == "" {
		p.field = "csrf_token"
	}
	if p.secure == nil {
		p.secure = func(r *http.Request) bool { return r.TLS != nil }
	}
	for _, o := range opts.Origins {
		p.origins = append(p.origins, strings.ToLower(strings.TrimSuffix(o, "/")))
	}
	switch {
	case p.keyFunc != nil:
	case len(opts.Key) > 0:
		p.key = append([]byte(nil), opts.Key...)
	default:
		p.key = make([]byte, 32)
		rand.Read(p.key)
	}
	return p
}

// Token returns the value of the form's hidden field for this browser.
// When the browser has no token cookie yet, Token sets one on w (once per
// response, however often it is called), so call it before writing the
// response. It fails only when the key cannot be loaded (ErrKeyUnavailable).
func (p *Protector) Token(w http.ResponseWriter, r *http.Request) (string, error) {
	key, err := p.loadKey(r.Context())
	if err != nil {
		return "", err
	}
	v := p.cookieValue(r)
	if v == "" {
		v = p.pendingValue(w.Header())
	}
	if v == "" {
		b := make([]byte, valueBytes)
		rand.Read(b)
		v = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{
			Name: p.cookie, Value: v, Path: p.path,
			HttpOnly: true, Secure: p.secure(r), SameSite: http.SameSiteStrictMode,
		})
	}
	return mac(key, v), nil
}

// Check verifies a form post: first its origin, then its token against
// its cookie, in constant time. The form must already be parsed
// (ParseForm, under whatever body limit the caller sets); Check reads
// r.PostForm only. It returns nil, a refusal (errors.Is ErrCrossOrigin,
// ErrNoCookie, ErrNoToken or ErrBadToken), or a wrapped
// ErrKeyUnavailable.
func (p *Protector) Check(r *http.Request) error {
	if err := p.sameOrigin(r); err != nil {
		return err
	}
	v := p.cookieValue(r)
	if v == "" {
		return ErrNoCookie
	}
	got := r.PostForm[p.field]
	switch {
	case len(got) == 0 || got[0] == "":
		return ErrNoToken
	case len(got) > 1:
		return ErrBadToken
	}
	key, err := p.loadKey(r.Context())
	if err != nil {
		return err
	}
	if !hmac.Equal([]byte(mac(key, v)), []byte(got[0])) {
		return ErrBadToken
	}
	return nil
}

// sameOrigin is the origin layer: fetch metadata, then Origin, else
// Referer. A request with none of them passes it.
func (p *Protector) sameOrigin(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return fmt.Errorf("%w (Sec-Fetch-Site)", ErrCrossOrigin)
	}
	if o := r.Header.Get("Origin"); o != "" {
		if !p.trusted(r, o) {
			return fmt.Errorf("%w (Origin)", ErrCrossOrigin)
		}
		return nil
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" || !p.trusted(r, u.Scheme+"://"+u.Host) {
			return fmt.Errorf("%w (Referer)", ErrCrossOrigin)
		}
	}
	return nil
}

// trusted reports whether origin is one whose pages may post. "null"
// (sandboxed frames, data: URLs, some redirects) never is.
func (p *Protector) trusted(r *http.Request, origin string) bool {
	origin = strings.ToLower(origin)
	for _, o := range p.origins {
		if origin == o {
			return true
		}
	}
	if p.originsOnly || r.Host == "" {
		return false
	}
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	return origin == scheme+strings.ToLower(r.Host)
}

// cookieValue is the first well-formed token cookie of r, or "".
func (p *Protector) cookieValue(r *http.Request) string {
	for _, c := range r.CookiesNamed(p.cookie) {
		if validValue(c.Value) {
			return c.Value
		}
	}
	return ""
}

// pendingValue is the value of a token cookie already set on this
// response, so that two forms of one page share one cookie.
func (p *Protector) pendingValue(h http.Header) string {
	for _, line := range h.Values("Set-Cookie") {
		if !strings.HasPrefix(line, p.cookie+"=") {
			continue
		}
		if c, err := http.ParseSetCookie(line); err == nil && c.Path == p.path && c.MaxAge >= 0 && validValue(c.Value) {
			return c.Value
		}
	}
	return ""
}

func (p *Protector) loadKey(ctx context.Context) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		return p.key, nil
	}
	k, err := p.keyFunc(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyUnavailable, err)
	}
	if len(k) == 0 {
		return nil, fmt.Errorf("%w: empty key", ErrKeyUnavailable)
	}
	p.key = k
	return k, nil
}

// valueBytes is the size of the cookie's random value; it is
// base64url-encoded without padding, as 43 characters.
const valueBytes = 32

func validValue(v string) bool {
	if len(v) != 43 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// macLabel separates these MACs from any other use of the key. It is the
// label the hosted pages' tokens have always carried, so tokens stay
// valid across an upgrade of a node sharing the stored key.
const macLabel = "cognate csrf v1\x00"

func mac(key []byte, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macLabel))
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
