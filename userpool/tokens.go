package userpool

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/storage"
)

// ScopeSignInUserAdmin is the scope of tokens from the JSON API sign-in.
const ScopeSignInUserAdmin = "aws.cognito.signin.user.admin"

// Default token lifetimes (Cognito's).
const (
	defaultAccessValidity  = time.Hour
	defaultIDValidity      = time.Hour
	defaultRefreshValidity = 30 * 24 * time.Hour
)

func validity(n int64, unit, defUnit string, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	if unit == "" {
		unit = defUnit
	}
	switch unit {
	case "seconds":
		return time.Duration(n) * time.Second
	case "minutes":
		return time.Duration(n) * time.Minute
	case "hours":
		return time.Duration(n) * time.Hour
	default: // days
		return time.Duration(n) * 24 * time.Hour
	}
}

func accessTTL(c storage.Client) time.Duration {
	return validity(c.Settings.AccessTokenValidity, c.Settings.TokenValidityUnits.AccessToken, "hours", defaultAccessValidity)
}

func idTTL(c storage.Client) time.Duration {
	return validity(c.Settings.IDTokenValidity, c.Settings.TokenValidityUnits.IDToken, "hours", defaultIDValidity)
}

// issuedAccessTTL and issuedIDTTL are the lives of tokens being minted:
// the client's settings unless Options.TokenLifetime overrides them.
func (s *Service) issuedAccessTTL(c storage.Client) time.Duration {
	if s.tokenLife > 0 {
		return s.tokenLife
	}
	return accessTTL(c)
}

func (s *Service) issuedIDTTL(c storage.Client) time.Duration {
	if s.tokenLife > 0 {
		return s.tokenLife
	}
	return idTTL(c)
}

func refreshTTL(c storage.Client) time.Duration {
	return validity(c.Settings.RefreshTokenValidity, c.Settings.TokenValidityUnits.RefreshToken, "days", defaultRefreshValidity)
}

// AccessClaims are the claims of an access token, in Cognito's order.
type AccessClaims struct {
	Sub       string   `json:"sub"`
	DeviceKey string   `json:"device_key,omitempty"`
	Groups    []string `json:"cognito:groups,omitempty"`
	Iss       string   `json:"iss"`
	ClientID  string   `json:"client_id"`
	OriginJTI string   `json:"origin_jti"`
	EventID   string   `json:"event_id"`
	TokenUse  string   `json:"token_use"`
	Scope     string   `json:"scope"`
	AuthTime  int64    `json:"auth_time"`
	Exp       int64    `json:"exp"`
	Iat       int64    `json:"iat"`
	JTI       string   `json:"jti"`
	Username  string   `json:"username"`
}

// newRefreshToken returns an opaque refresh token and the hash it is
// stored under. 48 random bytes: guessing is hopeless, so a plain SHA-256
// is a sufficient at-rest form.
func newRefreshToken() (string, []byte, error) {
	b := make([]byte, 48)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return "", nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok), nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// grant is what a sign-in was granted and how its tokens are shaped.
type grant struct {
	scope string
	// authTime is when the user proved who they are (a hosted-UI session
	// may be older than this authorization); zero means now.
	authTime time.Time
	// familyID names the sign-in in advance (an authorization code records
	// it before the tokens exist); empty means a new id.
	familyID string
	nonce    string
	// noRefresh issues no refresh token (the implicit grant).
	noRefresh bool
	// oauth marks a sign-in through the OAuth endpoints.
	oauth bool
	// source is the pre token generation trigger's triggerSource; empty
	// means TokenGeneration_Authentication, or _HostedAuth for oauth.
	source string
	// claim, when set, is made in the transaction that starts the
	// sign-in: a proof that may be used once (an SRP answer) and its
	// tokens commit together, and a second use gets errReplayed.
	claim oneTimeClaim
	// deviceKey is the device the sign-in was made on (device_key in the
	// access token); newDevice names a new one (NewDeviceMetadata).
	deviceKey string
	newDevice bool
}

// oneTimeClaim is a key that storage lets one caller claim
// (storage.OneTimeClaims), kept until until; a nil key claims nothing.
type oneTimeClaim struct {
	key   []byte
	until time.Time
}

// errReplayed is the answer to a proof that was already used.
var errReplayed = errorf(ErrNotAuthorized, "Invalid session for the user, session is expired.")

// claimAlone makes c in a write of its own, for a proof that completes
// without a sign-in (a new-password challenge).
func (s *Service) claimAlone(ctx context.Context, c oneTimeClaim) error {
	if c.key == nil {
		return nil
	}
	won, err := s.store.ClaimOnce(ctx, c.key, c.until)
	switch {
	case err != nil:
		return internal("claim", err)
	case !won:
		return errReplayed
	}
	return nil
}

func hasScope(scope, want string) bool {
	for _, s := range strings.Fields(scope) {
		if s == want {
			return true
		}
	}
	return false
}

// signIn starts a refresh family for a fresh sign-in and issues its
// tokens.
func (s *Service) signIn(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, g grant) (*AuthenticationResult, error) {
	now := s.now()
	if g.authTime.IsZero() {
		g.authTime = now
	}
	if g.familyID == "" {
		g.familyID = uuid.NewString()
	}
	source := g.source
	switch {
	case source != "":
	case g.oauth:
		source = sourceTokenHosted
	default:
		source = sourceTokenAuthentication
	}
	// The pre token generation trigger runs before anything is written.
	tc, err := s.planTokens(ctx, c, p, u, source, g.scope)
	if err != nil {
		return nil, err
	}
	fam := storage.RefreshFamily{
		ID: g.familyID, PoolID: p.ID, ClientID: c.ClientID, Username: u.Username,
		EventID: uuid.NewString(), Scope: g.scope, OAuth: g.oauth, AuthTime: g.authTime, CreatedAt: now,
		ExpiresAt: now.Add(refreshTTL(c)),
	}
	var refresh string
	var hash []byte
	if !g.noRefresh {
		if refresh, hash, err = newRefreshToken(); err != nil {
			return nil, internal("refresh token", err)
		}
	}
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		if g.claim.key != nil {
			won, err := tx.ClaimOnce(ctx, g.claim.key, g.claim.until)
			if err != nil {
				return err
			}
			if !won {
				return errReplayed
			}
		}
		if err := tx.CreateRefreshFamily(ctx, fam); err != nil || g.noRefresh {
			return err
		}
		return tx.CreateRefreshToken(ctx, storage.RefreshToken{
			Hash: hash, FamilyID: fam.ID, PoolID: p.ID, ClientID: c.ClientID, CreatedAt: now, ExpiresAt: fam.ExpiresAt,
		})
	})
	if errors.Is(err, errReplayed) {
		return nil, errReplayed
	}
	if err != nil {
		return nil, internal("create refresh family", err)
	}
	var device *NewDeviceMetadata
	if g.newDevice {
		device = s.newDeviceMetadata(p)
		g.deviceKey = device.DeviceKey
	}
	res, err := s.mintTokens(ctx, c, p, u, fam, g.nonce, g.deviceKey, tc)
	if err != nil {
		return nil, err
	}
	res.RefreshToken = refresh
	res.NewDeviceMetadata = device
	return res, nil
}

// mintTokens signs an access token and, unless an OAuth sign-in lacks the
// openid scope, an id token for a family. OAuth id tokens carry at_hash
// and, on the first issue, the authorization's nonce; an access token
// issued on a device carries its key. tc (from planTokens) holds the
// groups and the pre token generation trigger's changes.
func (s *Service) mintTokens(ctx context.Context, c storage.Client, p storage.Pool, u storage.User, fam storage.RefreshFamily, nonce, deviceKey string, tc tokenChanges) (*AuthenticationResult, error) {
	names := tc.groups
	now := s.now()
	iss := s.Issuer(p.ID)
	ac := AccessClaims{
		Sub: u.Sub, DeviceKey: deviceKey, Groups: names, Iss: iss, ClientID: c.ClientID, OriginJTI: fam.ID, EventID: fam.EventID,
		TokenUse: "access", Scope: tc.scope(fam.Scope), AuthTime: fam.AuthTime.Unix(),
		Exp: now.Add(s.issuedAccessTTL(c)).Unix(), Iat: now.Unix(), JTI: uuid.NewString(), Username: u.Username,
	}
	var acPayload any = ac
	if tc.access.changed() {
		m, err := claimMap(ac)
		if err != nil {
			return nil, internal("access claims", err)
		}
		tc.access.apply(m)
		acPayload = m
	}
	access, err := s.keys.Sign(ctx, p.ID, "access", acPayload)
	if err != nil {
		return nil, internal("sign access token", err)
	}
	res := &AuthenticationResult{AccessToken: access, ExpiresIn: int64(s.issuedAccessTTL(c) / time.Second), TokenType: "Bearer"}
	oauth := fam.OAuth
	if oauth && !hasScope(fam.Scope, "openid") {
		return res, nil
	}
	idc := map[string]any{}
	attrs := readableAttributes(c, u)
	if oauth {
		attrs = scopedAttributes(fam.Scope, attrs)
		idc["at_hash"] = atHash(access)
		if nonce != "" {
			idc["nonce"] = nonce
		}
	}
	for k, v := range attrs {
		idc[k] = attributeClaim(k, v)
	}
	if len(names) > 0 {
		idc["cognito:groups"] = names
	}
	idc["sub"] = u.Sub
	idc["iss"] = iss
	idc["cognito:username"] = u.Username
	idc["origin_jti"] = fam.ID
	idc["aud"] = c.ClientID
	idc["event_id"] = fam.EventID
	idc["token_use"] = "id"
	idc["auth_time"] = fam.AuthTime.Unix()
	idc["exp"] = now.Add(s.issuedIDTTL(c)).Unix()
	idc["iat"] = now.Unix()
	idc["jti"] = uuid.NewString()
	tc.id.apply(idc)
	if res.IdToken, err = s.keys.Sign(ctx, p.ID, "id", idc); err != nil {
		return nil, internal("sign id token", err)
	}
	return res, nil
}

// atHash is OIDC's at_hash for RS256: the left half of SHA-256 of the
// access token, base64url.
func atHash(access string) string {
	h := sha256.Sum256([]byte(access))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// scopedAttributes keeps the attributes an OAuth scope set releases: email
// for "email", phone for "phone", the rest for "profile" (OIDC's standard
// claim groups).
func scopedAttributes(scope string, attrs map[string]string) map[string]string {
	out := map[string]string{}
	email, phone, profile := hasScope(scope, "email"), hasScope(scope, "phone"), hasScope(scope, "profile")
	for k, v := range attrs {
		switch k {
		case "sub":
		case identitiesAttribute:
			out[k] = v
		case "email", "email_verified":
			if email {
				out[k] = v
			}
		case "phone_number", "phone_number_verified":
			if phone {
				out[k] = v
			}
		default:
			if profile {
				out[k] = v
			}
		}
	}
	return out
}

// attributeClaim types the attributes Cognito puts in tokens as booleans.
func attributeClaim(name, v string) any {
	switch name {
	case "email_verified", "phone_number_verified":
		return v == "true"
	case identitiesAttribute:
		var list []any
		if json.Unmarshal([]byte(v), &list) == nil {
			return list
		}
	}
	return v
}

// readableAttributes filters a user's attributes by the client's
// ReadAttributes (all when unset).
func readableAttributes(c storage.Client, u storage.User) map[string]string {
	if len(c.Settings.ReadAttributes) == 0 {
		return u.Attributes
	}
	out := make(map[string]string, len(c.Settings.ReadAttributes))
	for _, a := range c.Settings.ReadAttributes {
		if v, ok := u.Attributes[a]; ok {
			out[a] = v
		}
	}
	return out
}

// tokenSubject is the verified identity behind an access token.
type tokenSubject struct {
	pool   storage.Pool
	user   storage.User
	claims AccessClaims
}

// authorize verifies an access token the way every token-authorised
// operation needs: signature, issuer, use, expiry, the sign-in it belongs
// to still live (RevokeToken, GlobalSignOut), and the user still there
// and enabled.
func (s *Service) authorize(ctx context.Context, token string) (tokenSubject, error) {
	return s.authorizeScope(ctx, token, ScopeSignInUserAdmin)
}

// authorizeScope is authorize for a token that must carry scope.
func (s *Service) authorizeScope(ctx context.Context, token, scope string) (tokenSubject, error) {
	var ts tokenSubject
	if token == "" {
		return ts, invalidParam("1 validation error detected: Value at 'accessToken' failed to satisfy constraint: Member must not be null")
	}
	poolID, claims, err := s.verifyAccessToken(ctx, token)
	if err != nil {
		return ts, err
	}
	ts.claims = claims
	c := ts.claims
	if s.now().Unix() >= c.Exp {
		return ts, errorf(ErrNotAuthorized, "Access Token has expired")
	}
	if !hasScope(c.Scope, scope) {
		return ts, errorf(ErrNotAuthorized, "Access Token does not have required scopes")
	}
	if live, err := s.familyLive(ctx, c.OriginJTI); err != nil {
		return ts, err
	} else if !live {
		return ts, errorf(ErrNotAuthorized, "Access Token has been revoked")
	}
	if ts.pool, err = s.pool(ctx, poolID); err != nil {
		if e := unreachable("get pool", err); e != nil {
			return ts, e
		}
		return ts, errorf(ErrNotAuthorized, "Invalid Access Token")
	}
	ts.user, err = s.cachedUser(ctx, poolID, c.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return ts, errorf(ErrNotAuthorized, "Access Token has been revoked")
	}
	if err != nil {
		return ts, internal("get user", err)
	}
	if !ts.user.Enabled {
		return ts, errorf(ErrNotAuthorized, "User is disabled.")
	}
	return ts, nil
}

var errInvalidAccessToken = errorf(ErrNotAuthorized, "Invalid Access Token")

// verifiedToken is a verified access token's pool and claims.
type verifiedToken struct {
	poolID string
	claims AccessClaims
}

// verifyAccessToken checks an access token's signature, issuer and use,
// and remembers the result until the token expires, so a token presented
// again costs one hash and a map lookup.
func (s *Service) verifyAccessToken(ctx context.Context, token string) (string, AccessClaims, error) {
	bad := errInvalidAccessToken
	if len(token) > 16<<10 {
		return "", AccessClaims{}, bad
	}
	now := s.now()
	if v, ok := s.tokenCache.get(token, now); ok {
		return v.poolID, v.claims, nil
	}
	poolID, ok := s.poolOfToken(token)
	if !ok {
		return "", AccessClaims{}, bad
	}
	payload, err := s.keys.Verify(ctx, poolID, "access", token)
	if err != nil {
		if e := unreachable("verify token", err); e != nil {
			return "", AccessClaims{}, e
		}
		return "", AccessClaims{}, bad
	}
	var c AccessClaims
	if err := json.Unmarshal(payload, &c); err != nil || c.TokenUse != "access" || c.Iss != s.Issuer(poolID) {
		return "", AccessClaims{}, bad
	}
	s.tokenCache.put(token, verifiedToken{poolID, c}, now, time.Unix(c.Exp, 0))
	return poolID, c, nil
}

// familyLive reports whether the sign-in an access token belongs to is
// still live. Live answers are cached briefly; revocations through this
// Service drop them at once.
func (s *Service) familyLive(ctx context.Context, id string) (bool, error) {
	now := s.now()
	if _, ok := s.familyCache.get(id, now); ok {
		return true, nil
	}
	fam, err := s.store.GetRefreshFamily(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, internal("get refresh family", err)
	}
	if !fam.RevokedAt.IsZero() {
		return false, nil
	}
	s.familyCache.put(id, struct{}{}, now, fam.ExpiresAt)
	return true, nil
}

// unverifiedPayload decodes a compact JWT's payload without checking
// anything: callers only route on it, never trust it.
func unverifiedPayload(token string) ([]byte, bool) {
	if len(token) > 16<<10 {
		return nil, false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	return raw, err == nil
}

// poolOfToken reads the pool from an unverified token's issuer; the
// signature check that follows uses that pool's keys only.
func (s *Service) poolOfToken(token string) (string, bool) {
	raw, ok := unverifiedPayload(token)
	if !ok {
		return "", false
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return "", false
	}
	poolID, ok := strings.CutPrefix(c.Iss, s.issuerBase+"/")
	return poolID, ok && poolID != "" && !strings.Contains(poolID, "/")
}

const (
	minute = time.Minute
	hour   = time.Hour
	day    = 24 * time.Hour
)
