package keys

import (
	"cmp"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// signingKey is one parsed key of a pool. It is immutable once built and
// shared between successive key sets of the pool.
type signingKey struct {
	kid       string
	pool      string
	use       int // index into useNames
	createdAt time.Time
	priv      *rsa.PrivateKey
	pub       *rsa.PublicKey
	// header is base64url(`{"kid":"…","alg":"RS256"}`) followed by ".".
	header string
	jwk    jwk
}

// keySet is a snapshot of a pool's keys. It is immutable: reloads build a
// new one.
type keySet struct {
	poolID   string
	loadedAt time.Time // when the load that built it started
	byKID    map[string]*signingKey
	// current holds the key of each use that signs: the newest one whose
	// activation time (its CreatedAt) has come.
	current [len(useNames)]*signingKey
	// switchAt is when the earliest key scheduled for later becomes
	// current (zero: none is); the set is stale from then on.
	switchAt time.Time
	jwks     []byte
}

// complete reports whether the set has a key for every use.
func (ks *keySet) complete() bool {
	for _, k := range ks.current {
		if k == nil {
			return false
		}
	}
	return true
}

// jwk is one entry of a JWKS, with Cognito's member order.
type jwk struct {
	Alg string `json:"alg"`
	E   string `json:"e"`
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	N   string `json:"n"`
	Use string `json:"use"`
}

// fetch reads the pool's keys from storage and builds a key set, reusing
// the parsed keys of prev (may be nil). Records it cannot use are logged
// and skipped, so that one bad record does not take a pool down.
func (m *Manager) fetch(ctx context.Context, poolID string, prev *keySet) (*keySet, error) {
	poolID = strings.Clone(poolID) // kept by the keys: do not pin a caller's buffer
	started := m.now()
	recs, err := m.store.ListSigningKeys(ctx, poolID)
	if err != nil {
		return nil, err
	}
	ks := &keySet{poolID: poolID, loadedAt: started, byKID: make(map[string]*signingKey, len(recs))}
	list := make([]*signingKey, 0, len(recs))
	for _, r := range recs {
		if _, dup := ks.byKID[r.ID]; dup {
			m.log.WarnContext(ctx, "keys: duplicate kid skipped", "pool", poolID, "kid", r.ID)
			continue
		}
		var k *signingKey
		if prev != nil {
			if p := prev.byKID[r.ID]; p != nil && useNames[p.use] == r.Use {
				k = p
			}
		}
		if k == nil {
			k, err = parseKey(r, poolID)
			if err != nil {
				m.log.WarnContext(ctx, "keys: unusable key skipped", "pool", poolID, "kid", r.ID, "err", err)
				continue
			}
		}
		ks.byKID[k.kid] = k
		list = append(list, k)
	}
	// Newest first; equal times are ordered by kid so that every node
	// picks the same current key.
	slices.SortFunc(list, func(a, b *signingKey) int {
		if c := b.createdAt.Compare(a.createdAt); c != 0 {
			return c
		}
		return cmp.Compare(b.kid, a.kid)
	})
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: make([]jwk, 0, len(list))}
	// Keys scheduled for later are published at once, so that every
	// verifier knows them before any node signs with them.
	for _, k := range list {
		if k.createdAt.After(started.Add(scheduleSlack)) {
			ks.switchAt = k.createdAt
		} else if ks.current[k.use] == nil {
			ks.current[k.use] = k
		}
		set.Keys = append(set.Keys, k.jwk)
	}
	// A use whose every key is scheduled for later signs with the
	// earliest of them rather than not at all.
	for i := len(list) - 1; i >= 0; i-- {
		if k := list[i]; ks.current[k.use] == nil {
			ks.current[k.use] = k
		}
	}
	ks.jwks, err = json.Marshal(set)
	if err != nil {
		return nil, err
	}
	return ks, nil
}

// scheduleSlack is how far ahead of the loading node's clock a key's
// activation time must be for the key to count as scheduled: closer than
// that is clock coarseness (Rotate moves a key 1 ms past the current one)
// or skew between nodes, and the key signs at once.
const scheduleSlack = time.Second

// parseKey turns a storage record into a signingKey.
func parseKey(r storage.SigningKey, poolID string) (*signingKey, error) {
	idx, err := useIndex(r.Use)
	if err != nil {
		return nil, err
	}
	if r.Algorithm != Algorithm {
		return nil, fmt.Errorf("algorithm %q is not %s", r.Algorithm, Algorithm)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("empty kid")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(r.PrivateKeyDER)
	if err != nil {
		return nil, fmt.Errorf("parse PKCS #8: %w", err)
	}
	priv, ok := parsed.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is a %T, not RSA", parsed)
	}
	priv.Precompute()
	header, err := json.Marshal(struct {
		Kid string `json:"kid"`
		Alg string `json:"alg"`
	}{r.ID, Algorithm})
	if err != nil {
		return nil, err
	}
	return &signingKey{
		kid:       r.ID,
		pool:      poolID,
		use:       idx,
		createdAt: r.CreatedAt,
		priv:      priv,
		pub:       &priv.PublicKey,
		header:    b64.EncodeToString(header) + ".",
		jwk: jwk{
			Alg: Algorithm,
			E:   b64.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
			Kid: r.ID,
			Kty: "RSA",
			N:   b64.EncodeToString(priv.N.Bytes()),
			Use: "sig",
		},
	}, nil
}

// b64 is the strict unpadded base64url encoding of JWS.
var b64 = base64.RawURLEncoding.Strict()

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA
// public key: the hash of {"e":…,"kty":"RSA","n":…} with members in
// lexicographic order and no whitespace.
func thumbprint(pub *rsa.PublicKey) string {
	e := b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	n := b64.EncodeToString(pub.N.Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return b64.EncodeToString(sum[:])
}
