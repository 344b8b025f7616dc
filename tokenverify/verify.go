// Package tokenverify verifies JWTs (Cognito and Cognate access and id
// tokens, or any OIDC issuer's RS256 tokens) against the issuer's JWKS.
//
// Only RS256 is accepted. The JWKS is fetched once and cached; a token
// naming an unknown kid triggers one de-duplicated refetch, at most every
// 30 seconds. Verified tokens are cached until they expire, so a request
// carrying a token already seen costs one fast hash of the token, one map
// lookup with a comparison, and a clock read.
package tokenverify

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/internal/tokencache"
)

const (
	defaultSkew    = 60 * time.Second
	defaultTimeout = 10 * time.Second
	// cacheEntries bounds a Verifier's cache of verified tokens. An entry
	// holds a token and its claims, about 3 KiB for a Cognito token: some
	// 100 MiB at most.
	cacheEntries = 1 << 15
)

var (
	// ErrExpired: the token is genuine and valid but for its exp. Verify
	// returns its claims along with this error.
	ErrExpired = errors.New("tokenverify: token expired")
	// ErrInvalid: the token is not to be trusted (malformed, forged, for
	// another issuer, client or use, or not yet valid).
	ErrInvalid = errors.New("tokenverify: invalid token")
	// ErrUnavailable: the JWKS could not be fetched, so the token could
	// not be judged.
	ErrUnavailable = errors.New("tokenverify: JWKS unavailable")
)

// Config says which tokens a Verifier accepts.
type Config struct {
	// Issuer is the exact iss tokens must carry.
	Issuer string
	// JWKSURL is where the keys are; "" means Issuer +
	// "/.well-known/jwks.json" (right for Cognito and Cognate; use
	// Discover for other issuers).
	JWKSURL string
	// ClientIDs are the accepted client_id (access tokens) or aud (id
	// tokens); empty accepts any.
	ClientIDs []string
	// TokenUse is "access", "id", or "" for either (tokens without
	// token_use, as other OIDC issuers mint, are then accepted too).
	TokenUse string
	// ClockSkew is the tolerance on exp, nbf and iat: 0 means 60 s, a
	// negative value none.
	ClockSkew time.Duration
	// HTTPClient fetches the JWKS; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets JWKS fetches and failures; nil discards.
	Logger *slog.Logger
}

// Verifier verifies tokens of one issuer. It is safe for concurrent use.
type Verifier struct {
	cfg   Config
	skew  time.Duration
	now   func() time.Time
	log   *slog.Logger
	keys  *jwks
	cache *tokencache.Cache[*Claims]
}

// New checks cfg and returns a Verifier. It fetches nothing: the JWKS is
// fetched by the first Verify.
func New(cfg Config) (*Verifier, error) {
	if !httpURL(cfg.Issuer) {
		return nil, fmt.Errorf("tokenverify: Issuer %q is not an http(s) URL", cfg.Issuer)
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/jwks.json"
	}
	if !httpURL(cfg.JWKSURL) {
		return nil, fmt.Errorf("tokenverify: JWKSURL %q is not an http(s) URL", cfg.JWKSURL)
	}
	switch cfg.TokenUse {
	case "", "access", "id":
	default:
		return nil, fmt.Errorf("tokenverify: TokenUse %q is not access, id or empty", cfg.TokenUse)
	}
	cfg.ClientIDs = append([]string(nil), cfg.ClientIDs...)
	skew := cfg.ClockSkew
	switch {
	case skew == 0:
		skew = defaultSkew
	case skew < 0:
		skew = 0
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{
		cfg: cfg, skew: skew, now: cfg.Now, log: cfg.Logger,
		keys:  &jwks{url: cfg.JWKSURL, http: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now},
		cache: tokencache.New[*Claims](cacheEntries),
	}, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Verify checks a token: RS256 signature against the JWKS, iss, token_use,
// client_id or aud, nbf and iat, and exp, each time claim with the clock
// skew. A token verified before is found in a cache until it expires.
//
// An expired but otherwise valid token returns its claims and ErrExpired.
// When the JWKS cannot be fetched the error wraps ErrUnavailable. Any
// other failure returns nil claims and an error wrapping ErrInvalid.
//
// The returned Claims are shared with other callers verifying the same
// token: they must not be modified.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if len(raw) > maxTokenSize {
		return nil, fmt.Errorf("%w: token of %d bytes exceeds %d", ErrInvalid, len(raw), maxTokenSize)
	}
	now := v.now()
	if c, found, expired := v.cache.Get(raw, now.UnixNano()); found {
		if expired {
			return c, ErrExpired
		}
		return c, nil
	}
	c, err := v.verify(ctx, raw, now)
	if err != nil {
		return c, err
	}
	v.cache.Put(raw, c, c.Expires.Add(v.skew).UnixNano(), now.UnixNano())
	return c, nil
}

// verify does the work of Verify for a token not in the cache.
func (v *Verifier) verify(ctx context.Context, raw string, now time.Time) (*Claims, error) {
	t, payload, err := parseJWS(raw)
	if err != nil {
		return nil, err
	}
	key, err := v.keys.key(ctx, t.KID)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte(t.SigningInput))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, digest[:], t.Signature); err != nil {
		return nil, fmt.Errorf("%w: signature: %w", ErrInvalid, err)
	}
	c, aud, err := parseClaims(payload)
	if err != nil {
		return nil, err
	}
	expired, err := v.check(c, aud, now)
	if err != nil {
		return nil, err
	}
	if expired {
		return c, ErrExpired
	}
	return c, nil
}
