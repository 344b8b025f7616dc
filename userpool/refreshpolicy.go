package userpool

import (
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// refreshPolicy is where refresh-token rotation is decided: whether a
// presented refresh token is honoured, and how. It is a client's
// rotation settings and nothing else, so every rule (rotation, grace
// period, reuse, rotation switched off, revoked sign-in, expiry) can be
// read, and tested, in one pure function; refresh and rotate only apply
// what it decides.
type refreshPolicy struct {
	// rotation is RefreshTokenRotation ENABLED: each refresh returns a
	// new refresh token and retires the one presented.
	rotation bool
	// grace is RetryGracePeriodSeconds: how long a retired token is
	// still honoured, so that several tabs refreshing with the same
	// token at once are not taken for a replay.
	grace time.Duration
}

// refreshPolicyOf is the policy of client c's current settings.
func refreshPolicyOf(c storage.Client) refreshPolicy {
	return refreshPolicy{
		rotation: c.Settings.RefreshTokenRotation,
		grace:    time.Duration(c.Settings.RetryGracePeriodSeconds) * time.Second,
	}
}

// refreshFacts is what is known of a presented refresh token and its
// family (its sign-in) at the moment of deciding.
type refreshFacts struct {
	// foreign: the token was issued to another client or pool.
	foreign   bool
	expiresAt time.Time
	// rotatedAt is when the token's successor was issued; zero while the
	// token is the current one of its family.
	rotatedAt time.Time
	// familyRevoked: the sign-in was ended (sign-out, revocation,
	// disabled user, password reset, an earlier reuse) or is gone.
	familyRevoked bool
}

// refreshDecision is what to do with a presented refresh token.
type refreshDecision uint8

const (
	// refuseForeign: another client's or pool's token is as good as none.
	refuseForeign refreshDecision = iota
	// refuseExpired: past its expiry; the sign-in is left as it is.
	refuseExpired
	// refuseRevoked: the token's sign-in has ended.
	refuseRevoked
	// issueSameToken: rotation off; new access and id tokens, and the
	// same refresh token keeps working.
	issueSameToken
	// rotateToken: retire the token now and issue its successor.
	rotateToken
	// honourInGrace: the token was retired within the grace period, by
	// a concurrent refresh: issue another successor.
	honourInGrace
	// refuseReused: a retired token presented after the grace period,
	// or after rotation was switched off, may have been stolen: refuse
	// it and revoke its whole sign-in.
	refuseReused
)

// decide applies the rules in order. The rules of the token alone come
// first, so a caller that has not read the family yet (familyRevoked
// false) may ask already and read the family only if the token passes.
// Expiry goes before reuse: an expired token, retired or not, is refused
// without ending its sign-in.
func (p refreshPolicy) decide(f refreshFacts, now time.Time) refreshDecision {
	switch {
	case f.foreign:
		return refuseForeign
	case now.After(f.expiresAt):
		return refuseExpired
	case f.familyRevoked:
		return refuseRevoked
	case f.rotatedAt.IsZero() && p.rotation:
		return rotateToken
	case f.rotatedAt.IsZero():
		return issueSameToken
	case !p.rotation:
		// Rotation was switched off after this token was replaced: its
		// successor is the one in use, so this one is a replay.
		return refuseReused
	case now.Sub(f.rotatedAt) > p.grace:
		return refuseReused
	default:
		return honourInGrace
	}
}

var (
	errRefreshInvalid = errorf(ErrNotAuthorized, "Invalid Refresh Token")
	errRefreshExpired = errorf(ErrNotAuthorized, "Refresh Token has expired")
	errRefreshRevoked = errorf(ErrNotAuthorized, "Refresh Token has been revoked")
)

// refusal is the error of a decision that refuses the token and does
// nothing else; nil for the others, refuseReused included, whose error
// comes with revoking the sign-in.
func (d refreshDecision) refusal() error {
	switch d {
	case refuseForeign:
		return errRefreshInvalid
	case refuseExpired:
		return errRefreshExpired
	case refuseRevoked:
		return errRefreshRevoked
	}
	return nil
}

// issuesSuccessor says whether the decision issues a successor
// refresh token with the new access and id tokens.
func (d refreshDecision) issuesSuccessor() bool {
	return d == rotateToken || d == honourInGrace
}
