package tokenverify

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// maxJWKSBytes bounds a JWKS or discovery document.
	maxJWKSBytes = 256 << 10
	// unknownKidInterval: a token naming a kid the JWKS lacks triggers a
	// refetch at most this often, so forged kids cannot make the
	// verifier hammer the issuer.
	unknownKidInterval = 30 * time.Second
	// retryInterval is the wait after a failed fetch before the next.
	retryInterval = time.Second
	// keysMaxAge: an older key set is refetched when next used (keys the
	// issuer withdrew stop verifying); the old one serves if that fails.
	keysMaxAge = time.Hour
	// fetchTimeout bounds one fetch, whoever waits for it.
	fetchTimeout = 30 * time.Second
	// minRSABits is the smallest RSA modulus accepted.
	minRSABits = 2048
)

// b64 is the strict unpadded base64url of JWK members.
var b64 = base64.RawURLEncoding.Strict()

// keySet is one fetched JWKS: its usable RSA keys by kid.
type keySet struct {
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// jwks fetches and caches one JWKS URL. Fetches are de-duplicated: one
// runs at a time, and callers arriving meanwhile share its result.
type jwks struct {
	url  string
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	cur atomic.Pointer[keySet]

	mu          sync.Mutex
	inflight    *fetchCall
	lastAttempt time.Time
	lastErr     error // of the last attempt; nil if it succeeded
}

type fetchCall struct {
	done chan struct{}
	ks   *keySet
	err  error
}

// key returns the public key for kid, fetching the JWKS when it has none
// yet, when kid is unknown (at most once per unknownKidInterval) or when
// the key set is older than keysMaxAge (then the old key serves while the
// issuer cannot be reached).
func (j *jwks) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ks := j.cur.Load()
	var stale *rsa.PublicKey
	if ks != nil {
		if k := ks.keys[kid]; k != nil {
			if j.now().Sub(ks.fetched) < keysMaxAge {
				return k, nil
			}
			stale = k
		}
	}
	interval := unknownKidInterval
	if stale != nil {
		interval = retryInterval
	}
	fresh, err := j.refresh(ctx, interval)
	if fresh != nil && fresh.keys[kid] != nil {
		return fresh.keys[kid], nil
	}
	if stale != nil && (fresh == nil || fresh == ks) {
		// No new key set: the refresh failed or was not due yet.
		return stale, nil
	}
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: unknown kid %.64q", ErrInvalid, kid)
}

// refresh fetches the JWKS unless the last fetch began less than
// minInterval ago (retryInterval after a failure); then it returns the
// current keys and the last fetch's error. A fetch under way is joined.
// The key set returned is the newest one there is, even with an error.
func (j *jwks) refresh(ctx context.Context, minInterval time.Duration) (*keySet, error) {
	j.mu.Lock()
	call := j.inflight
	if call == nil {
		now := j.now()
		wait := minInterval
		if j.lastErr != nil {
			wait = retryInterval
		}
		if !j.lastAttempt.IsZero() && now.Sub(j.lastAttempt) < wait {
			ks, err := j.cur.Load(), j.lastErr
			j.mu.Unlock()
			if ks == nil && err == nil {
				err = fmt.Errorf("%w: no keys fetched yet", ErrUnavailable)
			}
			return ks, err
		}
		j.lastAttempt = now
		call = &fetchCall{done: make(chan struct{})}
		j.inflight = call
		go j.run(context.WithoutCancel(ctx), call)
	}
	j.mu.Unlock()
	select {
	case <-call.done:
		return call.ks, call.err
	case <-ctx.Done():
		return j.cur.Load(), fmt.Errorf("%w: waiting for the JWKS: %w", ErrUnavailable, ctx.Err())
	}
}

// run performs one fetch for everyone waiting on call.
func (j *jwks) run(ctx context.Context, call *fetchCall) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	ks, err := j.fetch(ctx)
	j.mu.Lock()
	if err == nil {
		j.cur.Store(ks)
	}
	j.lastErr = err
	j.inflight = nil
	j.mu.Unlock()
	if err != nil {
		j.log.WarnContext(ctx, "tokenverify: JWKS fetch failed", "url", j.url, "err", err)
		// Callers may still use the previous keys; they get them from cur.
		if prev := j.cur.Load(); prev != nil {
			ks = prev
		}
	} else {
		j.log.DebugContext(ctx, "tokenverify: JWKS fetched", "url", j.url, "keys", len(ks.keys))
	}
	call.ks, call.err = ks, err
	close(call.done)
}

// fetch GETs and parses the JWKS. Every failure wraps ErrUnavailable:
// without keys no token can be judged.
func (j *jwks) fetch(ctx context.Context) (*keySet, error) {
	body, err := getJSON(ctx, j.http, j.url)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: JWKS %s: %w", ErrUnavailable, j.url, err)
	}
	keys := make(map[string]*rsa.PublicKey, len(doc.Keys))
	dup := map[string]bool{}
	for _, k := range doc.Keys {
		pub, err := k.rsaKey()
		if err != nil {
			j.log.DebugContext(ctx, "tokenverify: JWKS key skipped", "kid", k.Kid, "err", err)
			continue
		}
		if _, seen := keys[k.Kid]; seen || dup[k.Kid] {
			// Two keys under one kid: neither can be trusted to be the one.
			delete(keys, k.Kid)
			dup[k.Kid] = true
			continue
		}
		keys[k.Kid] = pub
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: JWKS %s has no usable RS256 key", ErrUnavailable, j.url)
	}
	return &keySet{keys: keys, fetched: j.now()}, nil
}

// jwk is one JSON Web Key (RFC 7517), the members an RSA signing key has.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

func (k jwk) rsaKey() (*rsa.PublicKey, error) {
	switch {
	case k.Kty != "RSA":
		return nil, fmt.Errorf("kty %q", k.Kty)
	case k.Kid == "":
		return nil, errors.New("no kid")
	case k.Use != "" && k.Use != "sig":
		return nil, fmt.Errorf("use %q", k.Use)
	case k.Alg != "" && k.Alg != algorithm:
		return nil, fmt.Errorf("alg %q", k.Alg)
	}
	nb, err := b64.DecodeString(k.N)
	if err != nil {
		return nil, fmt.Errorf("n: %w", err)
	}
	eb, err := b64.DecodeString(k.E)
	if err != nil || len(eb) == 0 || len(eb) > 4 {
		return nil, errors.New("e is not a base64url integer of at most 32 bits")
	}
	n := new(big.Int).SetBytes(nb)
	if n.BitLen() < minRSABits {
		return nil, fmt.Errorf("modulus of %d bits, want at least %d", n.BitLen(), minRSABits)
	}
	e := 0
	for _, b := range eb {
		e = e<<8 | int(b)
	}
	if e < 3 || e%2 == 0 {
		return nil, fmt.Errorf("exponent %d", e)
	}
	return &rsa.PublicKey{N: n, E: e}, nil
}

// getJSON GETs a bounded JSON document; any failure wraps ErrUnavailable.
func getJSON(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: HTTP %d", ErrUnavailable, url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: GET %s: %w", ErrUnavailable, url, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("%w: GET %s: document larger than %d bytes", ErrUnavailable, url, maxJWKSBytes)
	}
	return body, nil
}

// Discover reads <issuer>/.well-known/openid-configuration and returns its
// jwks_uri, after checking that the document's issuer is exactly issuer
// (OpenID Connect Discovery §4.3). Transport failures wrap ErrUnavailable.
// A nil client means one with a 10 s timeout.
func Discover(ctx context.Context, client *http.Client, issuer string) (jwksURL string, err error) {
	if client == nil {
		client = &http.Client{Timeout: defaultTimeout}
	}
	if !httpURL(issuer) {
		return "", fmt.Errorf("tokenverify: issuer %q is not an http(s) URL", issuer)
	}
	body, err := getJSON(ctx, client, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration")
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("%w: discovery document: %w", ErrUnavailable, err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("tokenverify: discovery names issuer %.200q, not %q", doc.Issuer, issuer)
	}
	if !httpURL(doc.JWKSURI) {
		return "", fmt.Errorf("tokenverify: discovery jwks_uri %.200q is not an http(s) URL", doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}
