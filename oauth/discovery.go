package oauth

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/userpool"
)

// A pool's well-known documents are under its issuer, PublicURL/{pool}:
// OpenID Connect Discovery (§4) puts the discovery document there, and
// verifiers written for Cognito look for the key set beside it.
const (
	discoverySuffix  = "/.well-known/openid-configuration"
	jwksSuffix       = "/.well-known/jwks.json"
	discoveryPattern = "GET /{pool}" + discoverySuffix
	jwksPattern      = "GET /{pool}" + jwksSuffix
)

// discoveryDoc is a pool's OpenID Connect discovery document (OpenID
// Connect Discovery 1.0 §3). The fields are in the order of their JSON
// names, which is the order encoding/json gives a map's keys: the
// document was a map once, and clients and caches keep seeing the same
// bytes.
type discoveryDoc struct {
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	ClaimsSupported                   []string `json:"claims_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	Issuer                            string   `json:"issuer"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
}

// encodeDiscovery returns the encoded discovery document of a pool. It
// depends only on the pool's issuer and on PublicURL, not on the pool's
// settings or keys (the key set is behind jwks_uri), so a pool's document
// never needs rebuilding.
func (h *Handler) encodeDiscovery(poolID string) []byte {
	iss := h.svc.Issuer(poolID)
	doc := discoveryDoc{
		Issuer:                            iss,
		JWKSURI:                           iss + jwksSuffix,
		AuthorizationEndpoint:             h.base + AuthorizePath,
		TokenEndpoint:                     h.base + TokenPath,
		UserinfoEndpoint:                  h.base + UserInfoPath,
		RevocationEndpoint:                h.base + RevokePath,
		ResponseTypesSupported:            []string{"code", "token"},
		GrantTypesSupported:               []string{"authorization_code", "implicit", "refresh_token", "client_credentials"},
		ScopesSupported:                   userpool.StandardScopes,
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		ClaimsSupported: []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "cognito:username", "cognito:groups",
			"email", "email_verified", "phone_number", "phone_number_verified", "name",
		},
	}
	var b bytes.Buffer
	// Strings and slices of them always encode. An Encoder, not Marshal,
	// for the newline that ends the document.
	json.NewEncoder(&b).Encode(doc)
	return b.Bytes()
}

// discovery is GET /{pool}/.well-known/openid-configuration. The pool is
// read on every request all the same, so that a deleted pool is a 404
// at once and a storage failure a 500 (503 when it cannot be reached).
func (h *Handler) discovery(w http.ResponseWriter, r *http.Request) {
	id, ok := h.wellKnownPool(w, r)
	if !ok {
		return
	}
	doc, ok := h.discoveryDocs.Load(id)
	if !ok {
		doc, _ = h.discoveryDocs.LoadOrStore(id, h.encodeDiscovery(id))
	}
	setWellKnownHeaders(w)
	w.Write(doc.([]byte))
}

// jwks is GET /{pool}/.well-known/jwks.json. keys.Manager keeps each
// pool's encoded key set, and replaces it when the pool's keys rotate.
func (h *Handler) jwks(w http.ResponseWriter, r *http.Request) {
	id, ok := h.wellKnownPool(w, r)
	if !ok {
		return
	}
	set, err := h.svc.Keys().JWKS(r.Context(), id)
	if err != nil {
		h.serverError(w, r, "jwks", err)
		return
	}
	setWellKnownHeaders(w)
	w.Write(set)
}

// wellKnownPool returns the ID of the pool the path names, or answers 404
// if there is no such pool and 500 (503) if it cannot be read. A missing pool's
// document leaves the cache, which so holds those of live pools only.
func (h *Handler) wellKnownPool(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("pool")
	p, err := h.pools.GetPool(r.Context(), name)
	if errors.Is(err, storage.ErrNotFound) {
		h.discoveryDocs.Delete(name)
		writeMessage(w, http.StatusNotFound, "User pool "+name+" does not exist.")
		return "", false
	}
	if err != nil {
		h.serverError(w, r, "get pool", err)
		return "", false
	}
	return p.ID, true
}

// setWellKnownHeaders sets the headers of a served well-known document:
// any origin may read it (browser apps verify tokens too), and caches may
// keep it for a time short enough that a rotated key reaches verifiers
// quickly.
func setWellKnownHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cache-Control", "public, max-age=300")
}

// writeMessage writes a well-known route's error. Those routes are not
// OAuth endpoints: their errors have the {"message": …} shape of
// Cognito's, as plain application/json.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Message string `json:"message"`
	}{msg})
}

// serverError answers a well-known document's failure: 503 with
// Retry-After when storage could not be reached, else 500.
func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, op string, err error) {
	if unavailable(err) {
		h.log.WarnContext(r.Context(), op+": storage unavailable", "err", err)
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeMessage(w, http.StatusServiceUnavailable, unavailableDesc)
		return
	}
	h.log.ErrorContext(r.Context(), op, "err", err)
	writeMessage(w, http.StatusInternalServerError, "Internal server error.")
}
