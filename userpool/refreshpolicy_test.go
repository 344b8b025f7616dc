package userpool

import (
	"errors"
	"testing"
	"time"

	"github.com/cognate-auth/cognate/storage"
)

// String names a decision in test failures.
func (d refreshDecision) String() string {
	return [...]string{
		refuseForeign:  "refuseForeign",
		refuseExpired:  "refuseExpired",
		refuseRevoked:  "refuseRevoked",
		issueSameToken: "issueSameToken",
		rotateToken:    "rotateToken",
		honourInGrace:  "honourInGrace",
		refuseReused:   "refuseReused",
	}[d]
}

// TestRefreshPolicy is the policy alone, with the clock as an argument:
// each scenario is what refresh (or rotate's updaters) would know of the
// presented token at the moment of deciding.
func TestRefreshPolicy(t *testing.T) {
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	const day = 24 * time.Hour
	rotating := refreshPolicy{rotation: true, grace: 5 * time.Second}
	off := refreshPolicy{grace: 5 * time.Second}
	live := refreshFacts{expiresAt: t0.Add(30 * day)}
	retired := func(at time.Time) refreshFacts { f := live; f.rotatedAt = at; return f }
	revoked := func(f refreshFacts) refreshFacts { f.familyRevoked = true; return f }
	for _, tc := range []struct {
		name  string
		pol   refreshPolicy
		facts refreshFacts
		now   time.Time
		want  refreshDecision
	}{
		{"first refresh with rotation on", rotating, live, t0, rotateToken},
		{"refresh with rotation off", off, live, t0, issueSameToken},
		{"rotation off, the same token a day later", off, live, t0.Add(day), issueSameToken},
		{"reuse inside the grace period", rotating, retired(t0), t0.Add(3 * time.Second), honourInGrace},
		{"reuse at the end of the grace period", rotating, retired(t0), t0.Add(5 * time.Second), honourInGrace},
		{"reuse just after the grace period", rotating, retired(t0), t0.Add(5*time.Second + time.Nanosecond), refuseReused},
		{"reuse long after the grace period", rotating, retired(t0), t0.Add(day), refuseReused},
		{"grace 0, a concurrent refresh at the same instant", refreshPolicy{rotation: true}, retired(t0), t0, honourInGrace},
		{"grace 0, a nanosecond later", refreshPolicy{rotation: true}, retired(t0), t0.Add(time.Nanosecond), refuseReused},
		{"grace 60 s, at 60 s", refreshPolicy{rotation: true, grace: time.Minute}, retired(t0), t0.Add(time.Minute), honourInGrace},
		{"retired by a refresh that read the clock later", rotating, retired(t0.Add(time.Millisecond)), t0, honourInGrace},
		{"rotation switched off mid-family, the replaced token", off, retired(t0), t0.Add(time.Second), refuseReused},
		{"rotation switched off mid-family, the current token", off, live, t0.Add(time.Second), issueSameToken},
		{"rotation switched on mid-family", rotating, live, t0.Add(day), rotateToken},
		{"family revoked by global sign-out", rotating, revoked(live), t0, refuseRevoked},
		{"family revoked, rotation off", off, revoked(live), t0, refuseRevoked},
		{"family revoked, retired token past the grace period", rotating, revoked(retired(t0)), t0.Add(time.Minute), refuseRevoked},
		{"RevokeToken then refresh", rotating, revoked(live), t0.Add(time.Second), refuseRevoked},
		{"expires at this instant", rotating, live, live.expiresAt, rotateToken},
		{"expired but never used", rotating, live, live.expiresAt.Add(time.Nanosecond), refuseExpired},
		{"expired but never used, rotation off", off, live, t0.Add(31 * day), refuseExpired},
		{"expired and rotated", rotating, retired(t0), t0.Add(31 * day), refuseExpired},
		{"expired and revoked", rotating, revoked(live), t0.Add(31 * day), refuseExpired},
		{"a token of another client or pool", rotating, refreshFacts{foreign: true, expiresAt: live.expiresAt}, t0, refuseForeign},
		{"another client's token, expired, retired and revoked", off, refreshFacts{foreign: true, expiresAt: t0, rotatedAt: t0, familyRevoked: true}, t0.Add(day), refuseForeign},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.pol.decide(tc.facts, tc.now); got != tc.want {
				t.Errorf("decide = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRefreshDecisionEffects: what refresh does with each decision.
func TestRefreshDecisionEffects(t *testing.T) {
	for _, tc := range []struct {
		d         refreshDecision
		refusal   string // the error's message; "" for none
		successor bool
	}{
		{refuseForeign, "Invalid Refresh Token", false},
		{refuseExpired, "Refresh Token has expired", false},
		{refuseRevoked, "Refresh Token has been revoked", false},
		{issueSameToken, "", false},
		{rotateToken, "", true},
		{honourInGrace, "", true},
		// Reuse's error comes with revoking the family, not from refusal.
		{refuseReused, "", false},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			err := tc.d.refusal()
			var e *Error
			switch {
			case tc.refusal == "" && err != nil:
				t.Errorf("refusal = %v, want none", err)
			case tc.refusal != "" && !(errors.As(err, &e) && e.Type == ErrNotAuthorized.Type && e.Message == tc.refusal):
				t.Errorf("refusal = %v, want %s %q", err, ErrNotAuthorized.Type, tc.refusal)
			}
			if got := tc.d.issuesSuccessor(); got != tc.successor {
				t.Errorf("issuesSuccessor = %v, want %v", got, tc.successor)
			}
		})
	}
}

// TestRefreshPolicyOf: the policy is the client's rotation settings.
func TestRefreshPolicyOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  storage.ClientSettings
		want refreshPolicy
	}{
		{"rotation off", storage.ClientSettings{RetryGracePeriodSeconds: 10}, refreshPolicy{grace: 10 * time.Second}},
		{"rotation on, grace 0", storage.ClientSettings{RefreshTokenRotation: true}, refreshPolicy{rotation: true}},
		{"rotation on, grace 60", storage.ClientSettings{RefreshTokenRotation: true, RetryGracePeriodSeconds: 60}, refreshPolicy{rotation: true, grace: time.Minute}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshPolicyOf(storage.Client{Settings: tc.set}); got != tc.want {
				t.Errorf("refreshPolicyOf = %+v, want %+v", got, tc.want)
			}
		})
	}
}
