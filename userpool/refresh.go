package userpool

import (
	"context"
	"errors"
	"strings"

	"github.com/cognate-auth/cognate/storage"
)

// maxRefreshTokenLen bounds lookups: Cognate's tokens are 64 characters,
// Cognito's JWE ones under 2 KiB.
const maxRefreshTokenLen = 4096

// GetTokensFromRefreshToken refreshes tokens; with rotation on it also
// returns a new refresh token and retires the old one after the client's
// grace period.
func (s *Service) GetTokensFromRefreshToken(ctx context.Context, in GetTokensFromRefreshTokenInput) (TokensOutput, error) {
	c, p, err := s.client(ctx, in.ClientId)
	if err != nil {
		return TokensOutput{}, err
	}
	if err := checkClientSecret(c, in.ClientSecret); err != nil {
		return TokensOutput{}, err
	}
	res, err := s.refresh(ctx, c, p, in.RefreshToken, in.DeviceKey, nil)
	return TokensOutput{AuthenticationResult: res}, err
}

// refresh redeems a refresh token as refreshPolicy decides. check, if
// set, vets the token's user before anything is issued (SECRET_HASH for
// REFRESH_TOKEN_AUTH). A device key, if given, must be one of the user's
// devices; the access token then carries it.
func (s *Service) refresh(ctx context.Context, c storage.Client, p storage.Pool, token, deviceKey string, check func(storage.User) error) (*AuthenticationResult, error) {
	if token == "" {
		return nil, invalidParam("Missing required parameter REFRESH_TOKEN")
	}
	if len(token) > maxRefreshTokenLen {
		return nil, errRefreshInvalid
	}
	hash := hashToken(token)
	rt, err := s.store.GetRefreshToken(ctx, hash)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errRefreshInvalid
	}
	if err != nil {
		return nil, internal("get refresh token", err)
	}
	now := s.now()
	pol := refreshPolicyOf(c)
	facts := refreshFacts{foreign: rt.ClientID != c.ClientID || rt.PoolID != p.ID, expiresAt: rt.ExpiresAt, rotatedAt: rt.RotatedAt}
	// A foreign or expired token is refused before its family is read.
	if err := pol.decide(facts, now).refusal(); err != nil {
		return nil, err
	}
	fam, err := s.store.GetRefreshFamily(ctx, rt.FamilyID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, internal("get refresh family", err)
	}
	// A family that is gone (err is ErrNotFound) is as ended as a revoked one.
	facts.familyRevoked = err != nil || !fam.RevokedAt.IsZero()
	d := pol.decide(facts, now)
	if err := d.refusal(); err != nil {
		return nil, err
	}
	u, err := s.store.GetUser(ctx, p.ID, fam.Username)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errRefreshRevoked
	}
	if err != nil {
		return nil, internal("get user", err)
	}
	if check != nil {
		if err := check(u); err != nil {
			return nil, err
		}
	}
	switch {
	case !u.Enabled:
		return nil, errorf(ErrNotAuthorized, "User is disabled.")
	case u.Status == storage.StatusResetRequired:
		return nil, ErrPasswordResetRequired
	}
	if deviceKey != "" {
		if _, err := s.userDevice(ctx, p.ID, u.Username, deviceKey); err != nil {
			return nil, err
		}
	}
	// The user's own refusals go before reuse, which ends the sign-in.
	if d == refuseReused {
		return nil, s.reuse(ctx, fam)
	}
	// The pre token generation trigger runs before rotation, so that its
	// failure leaves the presented token usable.
	tc, err := s.planTokens(ctx, c, p, u, sourceTokenRefresh, fam.Scope)
	if err != nil {
		return nil, err
	}
	var next string
	if d.issuesSuccessor() {
		if next, err = s.rotate(ctx, c, pol, rt, fam); err != nil {
			return nil, err
		}
	}
	res, err := s.mintTokens(ctx, c, p, u, fam, "", deviceKey, tc)
	if err != nil {
		return nil, err
	}
	res.RefreshToken = next
	return res, nil
}

// rotate retires rt and issues its successor in the same family. What
// refresh decided on the records it read may no longer hold when the
// write transaction runs: a concurrent refresh may have retired rt (then
// it is honoured only within the grace period) or a sign-out revoked the
// family. So pol decides again inside each updater, on the record the
// updater sees and at the time the transaction starts, and the successor
// is stored only if it still says so.
func (s *Service) rotate(ctx context.Context, c storage.Client, pol refreshPolicy, rt storage.RefreshToken, fam storage.RefreshFamily) (string, error) {
	next, hash, err := newRefreshToken()
	if err != nil {
		return "", internal("refresh token", err)
	}
	now := s.now()
	// seen is what the transaction finds: rt's rotation and its family's
	// revocation as the updaters see them; its expiry does not change,
	// and refresh refused it if foreign. The decision is pol's on seen,
	// asked again where needed rather than kept in a second variable.
	var seen refreshFacts
	err = s.store.Atomic(ctx, func(ctx context.Context, tx storage.Storage) error {
		seen = refreshFacts{expiresAt: rt.ExpiresAt} // afresh on every attempt
		err := tx.UpdateRefreshToken(ctx, rt.Hash, func(t storage.RefreshToken) (storage.RefreshToken, error) {
			seen.rotatedAt = t.RotatedAt
			if pol.decide(seen, now) == rotateToken {
				t.RotatedAt = now
			}
			return t, nil
		})
		if err != nil || !pol.decide(seen, now).issuesSuccessor() {
			return err
		}
		exp := now.Add(refreshTTL(c))
		if err := tx.UpdateRefreshFamily(ctx, fam.ID, func(f storage.RefreshFamily) (storage.RefreshFamily, error) {
			seen.familyRevoked = !f.RevokedAt.IsZero()
			if d := pol.decide(seen, now); !d.issuesSuccessor() {
				return f, d.refusal()
			}
			f.ExpiresAt = exp
			return f, nil
		}); err != nil || !pol.decide(seen, now).issuesSuccessor() {
			return err
		}
		return tx.CreateRefreshToken(ctx, storage.RefreshToken{
			Hash: hash, FamilyID: fam.ID, PoolID: rt.PoolID, ClientID: rt.ClientID, CreatedAt: now, ExpiresAt: exp,
		})
	})
	if err != nil {
		return "", internal("rotate refresh token", err)
	}
	switch d := pol.decide(seen, now); {
	case d == refuseReused:
		return "", s.reuse(ctx, fam)
	case !d.issuesSuccessor():
		return "", d.refusal()
	}
	return next, nil
}

// reuse revokes the family of a replayed refresh token: a retired token
// presented late means it may have been stolen, so the whole sign-in ends.
func (s *Service) reuse(ctx context.Context, fam storage.RefreshFamily) error {
	if err := s.revokeFamily(ctx, fam.ID); err != nil {
		return err
	}
	s.log.WarnContext(ctx, "refresh token reused; sign-in revoked", "pool", fam.PoolID, "family", fam.ID)
	return ErrRefreshTokenReuse
}

func (s *Service) revokeFamily(ctx context.Context, id string) error {
	defer s.familyCache.drop(id)
	err := s.store.UpdateRefreshFamily(ctx, id, func(f storage.RefreshFamily) (storage.RefreshFamily, error) {
		if f.RevokedAt.IsZero() {
			f.RevokedAt = s.now()
		}
		return f, nil
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return internal("revoke family", err)
	}
	return nil
}

// RevokeToken revokes a refresh token and everything issued under the
// same sign-in. Unknown tokens succeed silently (RFC 7009).
func (s *Service) RevokeToken(ctx context.Context, in RevokeTokenInput) (Empty, error) {
	c, _, err := s.client(ctx, in.ClientId)
	if err != nil {
		return Empty{}, err
	}
	if err := checkClientSecret(c, in.ClientSecret); err != nil {
		return Empty{}, err
	}
	if in.Token == "" {
		return Empty{}, invalidParam("1 validation error detected: Value at 'token' failed to satisfy constraint: Member must not be null")
	}
	if !c.Settings.EnableTokenRevocation {
		return Empty{}, errorf(ErrUnsupportedOperation, "Token revocation is not enabled for this client.")
	}
	if strings.Count(in.Token, ".") == 2 {
		return Empty{}, errorf(ErrUnsupportedTokenType, "Only refresh tokens can be revoked.")
	}
	if len(in.Token) > maxRefreshTokenLen {
		return Empty{}, nil
	}
	rt, err := s.store.GetRefreshToken(ctx, hashToken(in.Token))
	if errors.Is(err, storage.ErrNotFound) {
		return Empty{}, nil
	}
	if err != nil {
		return Empty{}, internal("get refresh token", err)
	}
	if rt.ClientID != c.ClientID {
		return Empty{}, errorf(ErrNotAuthorized, "The token was not issued to this client.")
	}
	return Empty{}, s.revokeFamily(ctx, rt.FamilyID)
}

// GlobalSignOut ends every sign-in of the token's user: refresh tokens
// stop working and access tokens are refused from now on.
func (s *Service) GlobalSignOut(ctx context.Context, in AccessTokenInput) (Empty, error) {
	ts, err := s.authorize(ctx, in.AccessToken)
	if err != nil {
		return Empty{}, err
	}
	return Empty{}, s.signOutEverywhere(ctx, ts.pool.ID, ts.user.Username)
}

func (s *Service) signOutEverywhere(ctx context.Context, poolID, username string) error {
	// The cache is keyed by family, not user: forget every live answer.
	defer s.familyCache.clear()
	if _, err := s.store.RevokeUserRefreshFamilies(ctx, poolID, username, s.now()); err != nil {
		return internal("revoke families", err)
	}
	return nil
}
