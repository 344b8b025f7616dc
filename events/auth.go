package events

import (
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Headers are the authorization headers of a connection, subscribe or
// publish: the WebSocket header subprotocol's JSON object, a message's
// "authorization" object, or HTTP request headers. Names are matched
// case-insensitively.
type Headers map[string]string

// Get returns the named header's value, matching the name
// case-insensitively.
func (h Headers) Get(name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Identity is who a credential belongs to. An API key's identity has only
// AuthType and Expires.
type Identity struct {
	Sub, Username string
	Groups        []string
	// Claims are the token's claims (iss, client_id or aud, custom ones).
	Claims map[string]any
	// Expires is when the credential stops being valid; zero means never.
	// A connection is closed when the credential it was opened or
	// subscribed with expires.
	Expires time.Time
	// AuthType is the authorization type that accepted the credential.
	AuthType string
}

// TokenVerifier verifies the JWTs of one external provider. Verify
// returns an error wrapping ErrTokenExpired for an expired token,
// ErrUnavailable when it cannot check now (keys unreachable), and any
// other error for an invalid token.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (Identity, error)
}

// ErrUnavailable, wrapped by an Options function's error, says the
// credential could not be checked now (storage or keys unreachable): the
// client gets a retryable internal failure instead of Unauthorized.
var ErrUnavailable = errors.New("credential check unavailable")

// verifierRetry spaces the attempts to build a failing external verifier.
const verifierRetry = 5 * time.Second

// provider is one configured JWT authority.
type provider struct {
	cfg      AuthProvider
	clientRE *regexp.Regexp
	userPool func(context.Context, string) (Identity, error)
	build    func(context.Context, AuthProvider) (TokenVerifier, error)
	now      func() time.Time

	mu       sync.Mutex
	verifier TokenVerifier
	local    bool
	failedAt time.Time
}

func newProvider(p AuthProvider, opts *Options) (*provider, error) {
	pr := &provider{cfg: p, userPool: opts.UserPool, build: opts.Verifier, now: opts.Now}
	switch {
	case p.AuthType == AuthOIDC && opts.Verifier == nil:
		return nil, errors.New("OPENID_CONNECT needs Options.Verifier")
	case p.AuthType == AuthUserPools && p.CognitoConfig == nil:
		pr.local = true
	case p.AuthType == AuthUserPools && opts.Verifier == nil:
		pr.local = true
	}
	if pr.local && opts.UserPool == nil {
		return nil, errors.New("AMAZON_COGNITO_USER_POOLS needs Options.UserPool (or Options.Verifier for an external pool)")
	}
	if cc := p.CognitoConfig; cc != nil && cc.AppIDClientRegex != "" {
		pr.clientRE = regexp.MustCompile(`^(?:` + cc.AppIDClientRegex + `)$`)
	}
	return pr, nil
}

// verify checks token against this provider.
func (p *provider) verify(ctx context.Context, token string) (Identity, error) {
	v, local, err := p.resolve(ctx)
	if err != nil {
		return Identity{}, err
	}
	var id Identity
	if local {
		id, err = p.userPool(ctx, token)
		if err == nil && p.cfg.CognitoConfig != nil && !strings.HasSuffix(claimString(id.Claims, "iss"), "/"+p.cfg.CognitoConfig.UserPoolID) {
			err = ErrUnauthorized
		}
	} else {
		id, err = v.Verify(ctx, token)
	}
	if err != nil {
		return Identity{}, err
	}
	if p.clientRE != nil && !p.clientRE.MatchString(clientID(id.Claims)) {
		return Identity{}, ErrUnauthorized
	}
	id.AuthType = p.cfg.AuthType
	return id, nil
}

// resolve returns the external verifier, built on first use (and rebuilt
// after a failure, at most every verifierRetry), or local.
func (p *provider) resolve(ctx context.Context) (TokenVerifier, bool, error) {
	if p.local {
		return nil, true, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil || p.local {
		return p.verifier, p.local, nil
	}
	if !p.failedAt.IsZero() && p.now().Sub(p.failedAt) < verifierRetry {
		return nil, false, ErrUnavailable
	}
	v, err := p.build(ctx, p.cfg)
	switch {
	case errors.Is(err, ErrLocalProvider):
		if p.userPool == nil {
			return nil, false, errors.New("Options.Verifier returned ErrLocalProvider but Options.UserPool is nil")
		}
		p.local = true
		return nil, true, nil
	case err != nil:
		p.failedAt = p.now()
		return nil, false, errors.Join(ErrUnavailable, err)
	case v == nil:
		p.failedAt = p.now()
		return nil, false, errors.Join(ErrUnavailable, errors.New("Options.Verifier returned no verifier"))
	}
	p.verifier = v
	return v, false, nil
}

func claimString(c map[string]any, name string) string {
	s, _ := c[name].(string)
	return s
}

// clientID is an access token's client_id or an id token's aud.
func clientID(c map[string]any) string {
	if s := claimString(c, "client_id"); s != "" {
		return s
	}
	switch aud := c["aud"].(type) {
	case string:
		return aud
	case []any:
		if len(aud) == 1 {
			s, _ := aud[0].(string)
			return s
		}
	case []string:
		if len(aud) == 1 {
			return aud[0]
		}
	}
	return ""
}

// bearer strips an optional "Bearer " from an authorization value:
// Amplify sends the raw JWT, other clients the usual scheme.
func bearer(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = strings.TrimSpace(v[7:])
	}
	return v
}

// authenticator checks credentials against auth modes.
type authenticator struct {
	apiKeys   func(context.Context, string) (time.Time, error)
	providers map[string][]*provider
	now       func() time.Time
	log       *slog.Logger
}

// notAuthorized is AppSync's message for refused credentials.
const notAuthorized = "You are not authorized to make this call."

// authenticate returns the identity of the first credential in h that an
// allowed mode accepts.
func (a *authenticator) authenticate(ctx context.Context, h Headers, modes []AuthMode) (Identity, error) {
	key := strings.TrimSpace(h.Get("x-api-key"))
	token := bearer(h.Get("authorization"))
	if key == "" && token == "" {
		return Identity{}, Unauthorized(401, "Missing authorization: send an x-api-key or an authorization header.")
	}
	var expired, unavailable bool
	note := func(err error) {
		switch {
		case errors.Is(err, ErrTokenExpired):
			expired = true
		case errors.Is(err, ErrUnavailable):
			unavailable = true
			a.log.Warn("events: credential check unavailable", "err", err)
		}
	}
	for _, m := range modes {
		switch m.AuthType {
		case AuthAPIKey:
			if key == "" || a.apiKeys == nil {
				continue
			}
			exp, err := a.apiKeys(ctx, key)
			if err == nil && !exp.IsZero() && !a.now().Before(exp) {
				err = ErrTokenExpired
			}
			if err != nil {
				note(err)
				continue
			}
			return Identity{AuthType: AuthAPIKey, Expires: exp}, nil
		case AuthUserPools, AuthOIDC:
			if token == "" {
				continue
			}
			for _, p := range a.providers[m.AuthType] {
				id, err := p.verify(ctx, token)
				if err == nil && !id.Expires.IsZero() && !a.now().Before(id.Expires) {
					err = ErrTokenExpired
				}
				if err != nil {
					note(err)
					continue
				}
				return id, nil
			}
		}
	}
	switch {
	case expired:
		return Identity{}, &Error{Type: TypeUnauthorized, Code: 401, Message: "Token expired", Err: ErrTokenExpired}
	case unavailable:
		return Identity{}, &Error{Type: TypeInternal, Code: 503, Message: "Authorization is unavailable; retry later.", Err: ErrUnavailable}
	}
	return Identity{}, Unauthorized(401, "%s", notAuthorized)
}
