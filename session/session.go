package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

// Errors callers branch on.
var (
	// ErrHeadersWritten: tokens were to be refreshed after the response's
	// headers went out, so the new cookies could not be set. Nothing was
	// refreshed.
	ErrHeadersWritten = errors.New("session: response headers already written")
	// ErrNoSession: the request has no signed-in user.
	ErrNoSession = errors.New("session: not signed in")
	// ErrChallengeExpired: the pending sign-in challenge is missing,
	// expired or was tampered with; sign in again.
	ErrChallengeExpired = errors.New("session: sign-in challenge expired")
)

// Session is the signed-in user of a request, from verified tokens. One
// Session is shared by every request that carries the same tokens: treat
// it as read-only.
type Session struct {
	// Username is the access token's username (the pool's name for the
	// user: the sub in email-as-username pools).
	Username, Sub, Email string
	// Groups are the user's cognito:groups.
	Groups []string
	// Attributes are every claim of the id token.
	Attributes map[string]any
	// AccessToken and IDToken are the raw JWTs.
	AccessToken, IDToken string
	// ExpiresAt is the access token's exp.
	ExpiresAt time.Time
	// IssuedAt is the access token's iat; AuthTime its auth_time.
	IssuedAt time.Time
	AuthTime time.Time
}

// InGroup reports whether the user is in group g.
func (s *Session) InGroup(g string) bool {
	return s != nil && slices.Contains(s.Groups, g)
}

func newSession(ac, ic *tokenverify.Claims, access, id string) *Session {
	s := &Session{
		Username: ac.Username, Sub: ac.Subject, Groups: ac.Groups,
		AccessToken: access, IDToken: id,
		ExpiresAt: ac.Expires, IssuedAt: ac.IssuedAt, AuthTime: ac.AuthTime,
	}
	if ic != nil {
		s.Email, s.Attributes = ic.Email, ic.Raw
		if s.Username == "" {
			s.Username = ic.Username
		}
		if len(s.Groups) == 0 {
			s.Groups = ic.Groups
		}
	}
	if s.Username == "" {
		s.Username = oidcUsername(ac, ic)
	}
	return s
}

// oidcUsername names users of issuers without Cognito's username claims.
func oidcUsername(ac, ic *tokenverify.Claims) string {
	for _, c := range []*tokenverify.Claims{ic, ac} {
		if c == nil {
			continue
		}
		if u, ok := c.Raw["preferred_username"].(string); ok && u != "" {
			return u
		}
	}
	return ac.Subject
}

// FromContext returns the request's signed-in user, or nil when signed
// out, under WithoutSession, or outside the Middleware.
func FromContext(ctx context.Context) *Session {
	if st := stateFrom(ctx); st != nil {
		return st.sess.Load()
	}
	return nil
}

// WithoutSession returns a context that explicitly has no user, for
// rendering outside a request (static pages, background jobs):
// FromContext gives nil, Transport refuses, and a Middleware under it
// does not look at cookies.
func WithoutSession(ctx context.Context) context.Context {
	return context.WithValue(ctx, ctxKey{}, &reqState{})
}

// FetchUserAttributes returns the user's attributes as the issuer has
// them now (GetUser with the access token of ctx's session; the token
// needs the aws.cognito.signin.user.admin scope when it came from hosted
// sign-in). Without a user it returns ErrNoSession.
func (m *Manager) FetchUserAttributes(ctx context.Context) (map[string]string, error) {
	st := stateFrom(ctx)
	if st == nil || st.m != m || st.sess.Load() == nil {
		return nil, ErrNoSession
	}
	u, err := m.iss.GetUser(ctx, st.sess.Load().AccessToken)
	if err != nil {
		return nil, fmt.Errorf("session: GetUser: %w", err)
	}
	return u.Attributes, nil
}

// accountOperations are the JSON API operations a signed-in user may make
// through Account: the ones Amplify's account functions call with the
// access token alone.
var accountOperations = map[string]bool{
	"AssociateSoftwareToken": true, "VerifySoftwareToken": true, "SetUserMFAPreference": true,
	"GetUserAuthFactors": true, "ListDevices": true, "GetDevice": true, "UpdateDeviceStatus": true,
	"ForgetDevice": true, "StartWebAuthnRegistration": true, "CompleteWebAuthnRegistration": true,
	"ListWebAuthnCredentials": true, "DeleteWebAuthnCredential": true, "GetUser": true,
}

// ErrNotAccountOperation is Account's answer to an operation it does not
// make for users.
var ErrNotAccountOperation = errors.New("session: not an account operation")

// Account makes one of the issuer's account operations for ctx's signed-in
// user, with the session's access token: setting up an authenticator app
// (AssociateSoftwareToken, VerifySoftwareToken, SetUserMFAPreference),
// remembered devices (ListDevices, ForgetDevice, …) and passkeys
// (StartWebAuthnRegistration, CompleteWebAuthnRegistration,
// ListWebAuthnCredentials, DeleteWebAuthnCredential). in holds the
// operation's other fields; the answer is decoded into out (nil to drop
// it). Without a user it returns ErrNoSession; the issuer's refusals are
// *issuerclient.Error.
func (m *Manager) Account(ctx context.Context, op string, in map[string]any, out any) error {
	if !accountOperations[op] {
		return fmt.Errorf("%w: %s", ErrNotAccountOperation, op)
	}
	st := stateFrom(ctx)
	if st == nil || st.m != m || st.sess.Load() == nil {
		return ErrNoSession
	}
	if err := m.iss.CallAsUser(ctx, op, st.sess.Load().AccessToken, in, out); err != nil {
		return fmt.Errorf("session: %s: %w", op, err)
	}
	return nil
}
