package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/events"
	"github.com/cognate-auth/cognate/events/apikeys"
	"github.com/cognate-auth/cognate/storage"
	"github.com/cognate-auth/cognate/tokenverify"
	"github.com/cognate-auth/cognate/userpool"
)

// The events API's credentials, checked against this server's API keys,
// its own pools, and external issuers. Each adapter maps its answers to
// the events package's sentinels: refused (ErrUnauthorized), expired
// (ErrTokenExpired) or not checkable now (ErrUnavailable).

func apiKeyAuth(keys *apikeys.Manager) func(context.Context, string) (time.Time, error) {
	return func(ctx context.Context, key string) (time.Time, error) {
		rec, err := keys.Lookup(ctx, key)
		switch {
		case errors.Is(err, apikeys.ErrUnknown):
			return time.Time{}, fmt.Errorf("%w: unknown API key", events.ErrUnauthorized)
		case errors.Is(err, apikeys.ErrExpired):
			return rec.ExpiresAt, fmt.Errorf("%w: API key expired", events.ErrTokenExpired)
		case err != nil:
			return time.Time{}, fmt.Errorf("%w: %w", events.ErrUnavailable, err)
		}
		return rec.ExpiresAt, nil
	}
}

func userPoolAuth(svc *userpool.Service) func(context.Context, string) (events.Identity, error) {
	return func(ctx context.Context, token string) (events.Identity, error) {
		info, err := svc.VerifyToken(ctx, token)
		if err != nil {
			var ue *userpool.Error
			switch {
			case errors.As(err, &ue) && ue.Internal:
				return events.Identity{}, fmt.Errorf("%w: %w", events.ErrUnavailable, err)
			case errors.Is(err, userpool.ErrTokenExpired):
				return events.Identity{}, fmt.Errorf("%w: %w", events.ErrTokenExpired, err)
			}
			return events.Identity{}, fmt.Errorf("%w: %w", events.ErrUnauthorized, err)
		}
		return events.Identity{
			Sub: info.Sub, Username: info.Username, Groups: info.Groups, Claims: info.Claims,
			Expires: info.Expires, AuthType: events.AuthUserPools,
		}, nil
	}
}

// externalVerifier builds verifiers for providers outside this server: a
// Cognito pool by its regional JWKS, an OIDC issuer by discovery. A
// Cognito pool this server holds is verified locally instead.
func externalVerifier(store storage.Pools, client *http.Client) func(context.Context, events.AuthProvider) (events.TokenVerifier, error) {
	return func(ctx context.Context, p events.AuthProvider) (events.TokenVerifier, error) {
		cfg := tokenverify.Config{HTTPClient: client}
		switch {
		case p.CognitoConfig != nil:
			cc := p.CognitoConfig
			if _, err := store.GetPool(ctx, cc.UserPoolID); err == nil {
				return nil, events.ErrLocalProvider
			}
			region := cc.AWSRegion
			if region == "" {
				region, _, _ = strings.Cut(cc.UserPoolID, "_")
			}
			cfg.Issuer = "https://cognito-idp." + region + ".amazonaws.com/" + cc.UserPoolID
		case p.OpenIDConnectConfig != nil:
			oc := p.OpenIDConnectConfig
			jwks, err := tokenverify.Discover(ctx, client, oc.Issuer)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", events.ErrUnavailable, err)
			}
			cfg.Issuer, cfg.JWKSURL = oc.Issuer, jwks
			if oc.ClientID != "" {
				cfg.ClientIDs = []string{oc.ClientID}
			}
		default:
			return nil, fmt.Errorf("events: provider %s has no configuration", p.AuthType)
		}
		v, err := tokenverify.New(cfg)
		if err != nil {
			return nil, err
		}
		return jwtVerifier{v: v, authType: p.AuthType}, nil
	}
}

type jwtVerifier struct {
	v        *tokenverify.Verifier
	authType string
}

func (j jwtVerifier) Verify(ctx context.Context, token string) (events.Identity, error) {
	c, err := j.v.Verify(ctx, token)
	switch {
	case errors.Is(err, tokenverify.ErrExpired):
		return events.Identity{}, fmt.Errorf("%w: %w", events.ErrTokenExpired, err)
	case errors.Is(err, tokenverify.ErrUnavailable):
		return events.Identity{}, fmt.Errorf("%w: %w", events.ErrUnavailable, err)
	case err != nil:
		return events.Identity{}, fmt.Errorf("%w: %w", events.ErrUnauthorized, err)
	}
	return events.Identity{
		Sub: c.Subject, Username: c.Username, Groups: c.Groups, Claims: c.Raw,
		Expires: c.Expires, AuthType: j.authType,
	}, nil
}
