package userpool

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cognate-auth/cognate/storage"
)

// OAuth 2.0 errors (RFC 6749 §5.2). Their Type is the protocol's error
// code; transports send it as "error".
var (
	ErrInvalidRequest       = newErr("invalid_request", "The request is missing a required parameter or is malformed.")
	ErrInvalidClient        = newErr("invalid_client", "Client authentication failed.")
	ErrInvalidGrant         = newErr("invalid_grant", "The authorization grant is invalid, expired, revoked or was issued to another client.")
	ErrUnauthorizedClient   = newErr("unauthorized_client", "The client is not allowed to use this grant type.")
	ErrUnsupportedGrantType = newErr("unsupported_grant_type", "The grant type is not supported.")
	ErrInvalidScope         = newErr("invalid_scope", "The requested scope is invalid or not allowed for this client.")
)

// Lifetimes of OAuth artefacts, as Cognito sets them.
const (
	authCodeTTL     = 5 * time.Minute
	loginSessionTTL = time.Hour
)

// StandardScopes are the scopes every pool understands; others are
// resource-server scopes ("server/scope").
var StandardScopes = []string{"openid", "email", "phone", "profile", ScopeSignInUserAdmin}

// OAuthClient is what the OAuth endpoints and hosted pages need to know
// about an app client and its pool.
type OAuthClient struct {
	ClientID      string
	Name          string
	PoolID        string
	PoolName      string
	Confidential  bool
	OAuthEnabled  bool // AllowedOAuthFlowsUserPoolClient
	Flows         []string
	Scopes        []string
	CallbackURLs  []string
	LogoutURLs    []string
	DefaultURI    string
	Providers     []string
	EmailSignIn   bool
	SignUpAllowed bool
	Policy        storage.PasswordPolicy
}

// AllowsFlow reports whether the client may use an OAuth flow ("code",
// "implicit", "client_credentials").
func (c OAuthClient) AllowsFlow(flow string) bool {
	return c.OAuthEnabled && slices.Contains(c.Flows, flow)
}

// OAuthClient describes an app client for the OAuth layer.
func (s *Service) OAuthClient(ctx context.Context, clientID string) (OAuthClient, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return OAuthClient{}, err
	}
	st := c.Settings
	return OAuthClient{
		ClientID: c.ClientID, Name: c.Name, PoolID: p.ID, PoolName: p.Name, Confidential: c.Secret != "",
		OAuthEnabled: st.AllowedOAuthFlowsUserPoolClient, Flows: st.AllowedOAuthFlows, Scopes: st.AllowedOAuthScopes,
		CallbackURLs: st.CallbackURLs, LogoutURLs: st.LogoutURLs, DefaultURI: st.DefaultRedirectURI,
		Providers: st.SupportedIdentityProviders, EmailSignIn: signsInByEmail(p),
		SignUpAllowed: !p.Settings.AllowAdminCreateUserOnly, Policy: p.Settings.PasswordPolicy,
	}, nil
}

// GrantScopes resolves a requested scope string against the client: an
// empty request gets every allowed scope (Cognito's behaviour); asking for
// one not allowed is ErrInvalidScope.
func (c OAuthClient) GrantScopes(requested string) (string, error) {
	req := strings.Fields(requested)
	if len(req) == 0 {
		return strings.Join(c.Scopes, " "), nil
	}
	for _, sc := range req {
		if !slices.Contains(c.Scopes, sc) {
			return "", errorf(ErrInvalidScope, "Scope %.64q is not allowed for this client.", sc)
		}
	}
	return strings.Join(slices.Compact(req), " "), nil
}

// LoginResult is the outcome of a hosted-UI password sign-in.
type LoginResult struct {
	Username string
	// NewPasswordSession is set when the user must replace a temporary
	// password first (pass it to CompleteNewPassword).
	NewPasswordSession string
	// Step is set when the user must pass a further step (MFA) first
	// (answer it with LoginRespond).
	Step *LoginStep
}

// PasswordLogin checks a password for the hosted pages, with the same
// lockout and existence rules as the API. Account-state errors
// (ErrUserNotConfirmed, ErrPasswordResetRequired) come back with the
// username filled in, so the page can continue the right flow.
func (s *Service) PasswordLogin(ctx context.Context, clientID, username, password string) (LoginResult, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return LoginResult{}, err
	}
	u, err := s.verifyPassword(ctx, c, p, username, password)
	if err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{Username: u.Username}
	switch err := s.gate(u); {
	case errors.Is(err, errNewPasswordRequired):
		out, err := s.newPasswordChallenge(c, p, u)
		res.NewPasswordSession = out.Session
		return res, err
	case err != nil:
		return res, err
	}
	// The same order as the API's sign-in: the password, then
	// post authentication, then the MFA step.
	if err := s.postAuthentication(ctx, p, c.ClientID, u); err != nil {
		return res, err
	}
	return s.loginNext(ctx, c, p, u)
}

// CompleteNewPassword replaces a temporary password during a hosted-UI
// sign-in: the result names the user, and the MFA step that follows
// when the pool asks for one (answer it with LoginRespond).
func (s *Service) CompleteNewPassword(ctx context.Context, clientID, session, newPassword string) (LoginResult, error) {
	c, p, err := s.client(ctx, clientID)
	if err != nil {
		return LoginResult{}, err
	}
	u, err := s.setNewPassword(ctx, c, p, session, newPassword, nil)
	if err != nil {
		return LoginResult{}, err
	}
	return s.loginNext(ctx, c, p, u)
}

// LoginSessionInfo is a live hosted-UI session.
type LoginSessionInfo struct {
	Username string
	AuthTime time.Time
}

// StartLoginSession records that a browser signed in to a pool's pages.
// The returned value goes in a cookie; only its hash is stored.
func (s *Service) StartLoginSession(ctx context.Context, poolID, username string) (string, time.Time, error) {
	tok, hash, err := newRefreshToken()
	if err != nil {
		return "", time.Time{}, internal("session token", err)
	}
	now := s.now()
	ls := storage.LoginSession{Hash: hash, PoolID: poolID, Username: username, AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(loginSessionTTL)}
	if err := s.store.CreateLoginSession(ctx, ls); err != nil {
		return "", time.Time{}, internal("create login session", err)
	}
	return tok, ls.ExpiresAt, nil
}

// LoginSession returns the live session a cookie value names in a pool,
// or ErrNotAuthorized. A session of a user since deleted or disabled is
// not live.
func (s *Service) LoginSession(ctx context.Context, poolID, value string) (LoginSessionInfo, error) {
	if value == "" || len(value) > 256 {
		return LoginSessionInfo{}, ErrNotAuthorized
	}
	ls, err := s.store.GetLoginSession(ctx, hashToken(value))
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (ls.PoolID != poolID || !s.now().Before(ls.ExpiresAt))) {
		return LoginSessionInfo{}, ErrNotAuthorized
	}
	if err != nil {
		return LoginSessionInfo{}, internal("get login session", err)
	}
	u, err := s.store.GetUser(ctx, poolID, ls.Username)
	// A user created after the session is a different user who took the
	// name (non-email pools); the session is not theirs.
	if errors.Is(err, storage.ErrNotFound) || (err == nil && (!u.Enabled || !signsInWithSession(u) || u.CreatedAt.After(ls.CreatedAt))) {
		return LoginSessionInfo{}, ErrNotAuthorized
	}
	if err != nil {
		return LoginSessionInfo{}, internal("get user", err)
	}
	return LoginSessionInfo{Username: ls.Username, AuthTime: ls.AuthTime}, nil
}

// EndLoginSession forgets a hosted-UI session (sign-out). Unknown values
// are ignored.
func (s *Service) EndLoginSession(ctx context.Context, value string) error {
	if value == "" || len(value) > 256 {
		return nil
	}
	if err := s.store.DeleteLoginSession(ctx, hashToken(value)); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return internal("delete login session", err)
	}
	return nil
}

// Authorization is a validated authorization request for a signed-in
// user: the OAuth layer has checked the client, redirect URI and scopes.
type Authorization struct {
	ClientID      string
	Username      string
	RedirectURI   string
	Scope         string
	Nonce         string
	CodeChallenge string // S256
	AuthTime      time.Time
}

// IssueAuthCode returns a single-use authorization code (5 minutes).
func (s *Service) IssueAuthCode(ctx context.Context, a Authorization) (string, error) {
	oc, err := s.OAuthClient(ctx, a.ClientID)
	if err != nil {
		return "", err
	}
	if !oc.AllowsFlow("code") {
		return "", ErrUnauthorizedClient
	}
	code, hash, err := newRefreshToken()
	if err != nil {
		return "", internal("auth code", err)
	}
	now := s.now()
	err = s.store.CreateAuthCode(ctx, storage.AuthCode{
		Hash: hash, PoolID: oc.PoolID, ClientID: a.ClientID, Username: a.Username, RedirectURI: a.RedirectURI,
		Scope: a.Scope, Nonce: a.Nonce, CodeChallenge: a.CodeChallenge, AuthTime: a.AuthTime,
		CreatedAt: now, ExpiresAt: now.Add(authCodeTTL),
	})
	if err != nil {
		return "", internal("create auth code", err)
	}
	return code, nil
}

// OAuthTokens are the token endpoint's answer.
type OAuthTokens struct {
	AccessToken  string
	IDToken      string
	RefreshToken string
	ExpiresIn    int64
}

func oauthTokens(r *AuthenticationResult) *OAuthTokens {
	return &OAuthTokens{AccessToken: r.AccessToken, IDToken: r.IdToken, RefreshToken: r.RefreshToken, ExpiresIn: r.ExpiresIn}
}

// ImplicitTokens issues tokens straight to the browser (response_type
// token): no refresh token.
func (s *Service) ImplicitTokens(ctx context.Context, a Authorization) (*OAuthTokens, error) {
	c, p, err := s.client(ctx, a.ClientID)
	if err != nil {
		return nil, err
	}
	u, err := s.oauthUser(ctx, p, a.Username)
	if err != nil {
		return nil, err
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: a.Scope, authTime: a.AuthTime, nonce: a.Nonce, noRefresh: true, oauth: true})
	if err != nil {
		return nil, err
	}
	return oauthTokens(res), nil
}

// oauthUser loads the user an OAuth grant is for; a user deleted or
// disabled since the authorization gets nothing.
func (s *Service) oauthUser(ctx context.Context, p storage.Pool, username string) (storage.User, error) {
	u, err := s.store.GetUser(ctx, p.ID, username)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && !u.Enabled) {
		return u, errorf(ErrInvalidGrant, "The user no longer exists or is disabled.")
	}
	if err != nil {
		return u, internal("get user", err)
	}
	return u, nil
}

// authenticateClient applies client_secret_basic/post rules: a
// confidential client must present its secret; a public one must not
// claim one.
func (s *Service) authenticateClient(ctx context.Context, clientID, secret string) (storage.Client, storage.Pool, error) {
	c, p, err := s.client(ctx, clientID)
	if errors.As(err, new(*Error)) && !errors.Is(err, ErrInternal) {
		return c, p, errorf(ErrInvalidClient, "Unknown client.")
	}
	if err != nil {
		return c, p, err
	}
	if c.Secret == "" && secret == "" {
		return c, p, nil
	}
	if subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		return c, p, ErrInvalidClient
	}
	return c, p, nil
}

// ExchangeCode redeems an authorization code (grant_type
// authorization_code). A code works once: redeeming it again revokes the
// sign-in the first redemption started, in case the first was an
// attacker's.
func (s *Service) ExchangeCode(ctx context.Context, clientID, secret, code, redirectURI, verifier string) (*OAuthTokens, error) {
	c, p, err := s.authenticateClient(ctx, clientID, secret)
	if err != nil {
		return nil, err
	}
	if code == "" || len(code) > 256 {
		return nil, errorf(ErrInvalidGrant, "Invalid authorization code.")
	}
	hash := hashToken(code)
	ac, err := s.store.GetAuthCode(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errorf(ErrInvalidGrant, "Invalid authorization code.")
	}
	if err != nil {
		return nil, internal("get auth code", err)
	}
	now := s.now()
	switch {
	case ac.ClientID != c.ClientID:
		return nil, errorf(ErrInvalidGrant, "The authorization code was issued to another client.")
	case !now.Before(ac.ExpiresAt):
		return nil, errorf(ErrInvalidGrant, "The authorization code has expired.")
	case ac.RedirectURI != redirectURI:
		return nil, errorf(ErrInvalidGrant, "redirect_uri does not match the authorization request.")
	}
	if err := checkPKCE(ac.CodeChallenge, verifier); err != nil {
		return nil, err
	}
	familyID := uuid.NewString()
	var replayOf string
	err = s.store.UpdateAuthCode(ctx, hash, func(a storage.AuthCode) (storage.AuthCode, error) {
		replayOf = ""
		if !a.RedeemedAt.IsZero() {
			replayOf = a.FamilyID
			return a, nil
		}
		a.RedeemedAt, a.FamilyID = now, familyID
		return a, nil
	})
	if err != nil {
		return nil, internal("redeem auth code", err)
	}
	if replayOf != "" {
		if err := s.revokeFamily(ctx, replayOf); err != nil {
			return nil, err
		}
		s.log.WarnContext(ctx, "authorization code replayed; its sign-in revoked", "pool", p.ID, "client", c.ClientID)
		return nil, errorf(ErrInvalidGrant, "The authorization code was already used.")
	}
	u, err := s.oauthUser(ctx, p, ac.Username)
	if err != nil {
		return nil, err
	}
	if u.CreatedAt.After(ac.CreatedAt) {
		return nil, errorf(ErrInvalidGrant, "The user no longer exists.")
	}
	res, err := s.signIn(ctx, c, p, u, grant{scope: ac.Scope, authTime: ac.AuthTime, nonce: ac.Nonce, familyID: familyID, oauth: true})
	if err != nil {
		return nil, err
	}
	return oauthTokens(res), nil
}

// checkPKCE verifies an S256 code_verifier (RFC 7636) against the
// challenge the authorization carried.
func checkPKCE(challenge, verifier string) error {
	if challenge == "" {
		if verifier != "" {
			return errorf(ErrInvalidGrant, "code_verifier sent, but the authorization had no code_challenge.")
		}
		return nil
	}
	if len(verifier) < 43 || len(verifier) > 128 || strings.Trim(verifier, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") != "" {
		return errorf(ErrInvalidGrant, "code_verifier must be 43 to 128 unreserved characters.")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return errorf(ErrInvalidGrant, "code_verifier does not match the code_challenge.")
	}
	return nil
}

// RefreshGrant is the token endpoint's refresh_token grant, with the same
// rotation rules as GetTokensFromRefreshToken.
func (s *Service) RefreshGrant(ctx context.Context, clientID, secret, refreshToken string) (*OAuthTokens, error) {
	c, p, err := s.authenticateClient(ctx, clientID, secret)
	if err != nil {
		return nil, err
	}
	if refreshToken == "" {
		return nil, errorf(ErrInvalidRequest, "refresh_token is required.")
	}
	res, err := s.refresh(ctx, c, p, refreshToken, "", nil)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && !e.Internal {
			return nil, errorf(ErrInvalidGrant, "%s", e.Message)
		}
		return nil, err
	}
	return oauthTokens(res), nil
}

// ClientCredentialsClaims are a machine token's claims: the client is
// its own subject.
type ClientCredentialsClaims struct {
	Sub      string `json:"sub"`
	TokenUse string `json:"token_use"`
	Scope    string `json:"scope"`
	AuthTime int64  `json:"auth_time"`
	Iss      string `json:"iss"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Version  int    `json:"version"`
	JTI      string `json:"jti"`
	ClientID string `json:"client_id"`
}

// ClientCredentials issues a machine access token to a confidential client
// for resource-server scopes.
func (s *Service) ClientCredentials(ctx context.Context, clientID, secret, scope string) (*OAuthTokens, error) {
	c, p, err := s.authenticateClient(ctx, clientID, secret)
	if err != nil {
		return nil, err
	}
	oc, err := s.OAuthClient(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	if c.Secret == "" || !oc.AllowsFlow("client_credentials") {
		return nil, ErrUnauthorizedClient
	}
	var custom []string
	for _, sc := range oc.Scopes {
		if !slices.Contains(StandardScopes, sc) {
			custom = append(custom, sc)
		}
	}
	granted := oc
	granted.Scopes = custom
	sc, err := granted.GrantScopes(scope)
	if err != nil {
		return nil, err
	}
	if sc == "" {
		return nil, errorf(ErrInvalidScope, "The client has no resource-server scopes to grant.")
	}
	// Only a V3_0 pre token generation trigger sees machine tokens.
	tc, err := s.preTokenGeneration(ctx, c, p, nil, sourceTokenClientCreds, nil, sc)
	if err != nil {
		return nil, err
	}
	now := s.now()
	ttl := s.issuedAccessTTL(c)
	var claims any = ClientCredentialsClaims{
		Sub: c.ClientID, TokenUse: "access", Scope: tc.scope(sc), AuthTime: now.Unix(), Iss: s.Issuer(p.ID),
		Exp: now.Add(ttl).Unix(), Iat: now.Unix(), Version: 2, JTI: uuid.NewString(), ClientID: c.ClientID,
	}
	if tc.access.changed() {
		m, err := claimMap(claims)
		if err != nil {
			return nil, internal("access claims", err)
		}
		tc.access.apply(m)
		claims = m
	}
	tok, err := s.keys.Sign(ctx, p.ID, "access", claims)
	if err != nil {
		return nil, internal("sign access token", err)
	}
	return &OAuthTokens{AccessToken: tok, ExpiresIn: int64(ttl / time.Second)}, nil
}

// UserInfo answers the OIDC userinfo endpoint: the claims the access
// token's scopes release. It needs the openid scope.
func (s *Service) UserInfo(ctx context.Context, accessToken string) (map[string]any, error) {
	ts, err := s.authorizeScope(ctx, accessToken, "openid")
	if err != nil {
		return nil, err
	}
	c, _, err := s.client(ctx, ts.claims.ClientID)
	if err != nil {
		if e := unreachable("get client", err); e != nil {
			return nil, e
		}
		return nil, ErrNotAuthorized
	}
	out := map[string]any{"sub": ts.user.Sub, "username": ts.user.Username}
	for k, v := range scopedAttributes(ts.claims.Scope, readableAttributes(c, ts.user)) {
		out[k] = attributeClaim(k, v)
	}
	return out, nil
}
