package userpool

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// ErrTokenExpired is the cause of the NotAuthorizedException VerifyToken
// returns for a token that is genuine but past its exp: callers that
// answer an expired token differently from a refused one (the events API
// asks for a new token) branch on it with errors.Is.
var ErrTokenExpired = errors.New("userpool: token expired")

// TokenInfo is what a verified token says about its holder.
type TokenInfo struct {
	PoolID   string
	ClientID string
	TokenUse string // "access" or "id"
	Sub      string
	Username string
	Groups   []string
	// Claims holds every claim of the token.
	Claims  map[string]any
	Expires time.Time
}

// VerifyToken accepts an access or id token issued by one of this
// service's pools: signature, issuer, token_use and expiry, then that the
// sign-in it belongs to is still live (RevokeToken, GlobalSignOut) and its
// user still there and enabled. It is how other parts of the server (the
// events API) accept pool tokens; failures are ErrNotAuthorized, which
// also matches ErrTokenExpired when the token has expired.
func (s *Service) VerifyToken(ctx context.Context, token string) (TokenInfo, error) {
	poolID, ok := s.poolOfToken(token)
	if !ok {
		return TokenInfo{}, errInvalidAccessToken
	}
	if _, err := s.pool(ctx, poolID); err != nil {
		if e := unreachable("get pool", err); e != nil {
			return TokenInfo{}, e
		}
		return TokenInfo{}, errInvalidAccessToken
	}
	info, originJTI, err := s.verifiedClaims(ctx, poolID, token)
	if err != nil {
		return TokenInfo{}, err
	}
	if !s.now().Before(info.Expires) {
		return TokenInfo{}, &Error{Type: ErrNotAuthorized.Type, Message: "Token has expired", cause: ErrTokenExpired}
	}
	if originJTI != "" {
		if live, err := s.familyLive(ctx, originJTI); err != nil {
			return TokenInfo{}, err
		} else if !live {
			return TokenInfo{}, errorf(ErrNotAuthorized, "Token has been revoked")
		}
	}
	u, err := s.cachedUser(ctx, poolID, info.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return TokenInfo{}, errorf(ErrNotAuthorized, "Token has been revoked")
	}
	if err != nil {
		return TokenInfo{}, internal("get user", err)
	}
	if !u.Enabled {
		return TokenInfo{}, errorf(ErrNotAuthorized, "User is disabled.")
	}
	return info, nil
}

// verifiedClaims checks the signature with the key of the use the token
// claims, then the claims themselves.
func (s *Service) verifiedClaims(ctx context.Context, poolID, token string) (TokenInfo, string, error) {
	bad := errInvalidAccessToken
	use := "access"
	if unverifiedUse(token) == "id" {
		use = "id"
	}
	payload, err := s.keys.Verify(ctx, poolID, use, token)
	if err != nil {
		if e := unreachable("verify token", err); e != nil {
			return TokenInfo{}, "", e
		}
		return TokenInfo{}, "", bad
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return TokenInfo{}, "", bad
	}
	str := func(k string) string { v, _ := claims[k].(string); return v }
	exp, _ := claims["exp"].(float64)
	if str("token_use") != use || str("iss") != s.Issuer(poolID) || exp == 0 {
		return TokenInfo{}, "", bad
	}
	info := TokenInfo{
		PoolID: poolID, TokenUse: use, Sub: str("sub"), Claims: claims,
		Expires: time.Unix(int64(exp), 0),
	}
	if use == "access" {
		info.ClientID, info.Username = str("client_id"), str("username")
	} else {
		info.ClientID, info.Username = str("aud"), str("cognito:username")
	}
	if gs, ok := claims["cognito:groups"].([]any); ok {
		for _, g := range gs {
			if name, ok := g.(string); ok {
				info.Groups = append(info.Groups, name)
			}
		}
	}
	if info.Username == "" || info.Sub == "" {
		return TokenInfo{}, "", bad
	}
	return info, str("origin_jti"), nil
}

// unverifiedUse reads token_use before verification, only to pick which
// key set to verify against; the verified claims are checked again.
func unverifiedUse(token string) string {
	var c struct {
		TokenUse string `json:"token_use"`
	}
	if payload, ok := unverifiedPayload(token); ok && json.Unmarshal(payload, &c) == nil {
		return c.TokenUse
	}
	return ""
}
