package session

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/cognate-auth/cognate/issuerclient"
	"github.com/cognate-auth/cognate/tokenverify"
)

const (
	// memoTTL is how long a refresh's outcome is remembered per refresh
	// token: requests that were already on their way with the old cookies
	// get the same new tokens (or the same verdict) without another issuer
	// call, which with rotation would spend the old token again.
	memoTTL = 30 * time.Second
	// refreshTimeout bounds one issuer call, whoever waits for it.
	refreshTimeout = 30 * time.Second
	// maxRefreshTokens bounds the duplicate refresh tokens tried.
	maxRefreshTokens = 3
)

var (
	// errNoRefreshToken: an expiring session without a refresh token.
	errNoRefreshToken = errors.New("session: no refresh token")
	// errBadRefresh: the issuer answered a refresh with tokens that do not
	// verify (a misconfiguration, not the user's fault).
	errBadRefresh = errors.New("session: refreshed tokens do not verify")
)

// terminalError: the issuer says the session is over.
type terminalError struct{ err error }

func (e *terminalError) Error() string { return "session ended: " + e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }

// needsRefresh is Amplify's rule: a token expires within RefreshBefore
// (+ clockDrift) of now.
func (m *Manager) needsRefresh(c *current, now time.Time) bool {
	limit := now.Add(m.before + c.drift)
	if c.accessExpired || !c.ac.Expires.After(limit) {
		return true
	}
	return c.ic != nil && (c.idExpired || !c.ic.Expires.After(limit))
}

// settle applies the refresh rule and the failure policy to cur and
// returns what the request may use (nil: signed out).
//   - not due: cur as it is;
//   - refreshed: the new session (cookies queued);
//   - terminal answer: signed out, cookies cleared (queued by
//     refreshCurrent);
//   - no refresh token: served until expiry, then cleared;
//   - outage or any other failure: cookies kept, served until the tokens
//     really expire, retried on the next request.
func (m *Manager) settle(ctx context.Context, cur *current, b *batch, force bool) *current {
	now := m.now()
	if !force && !m.needsRefresh(cur, now) {
		return cur
	}
	next, err := m.refreshCurrent(ctx, cur, b, force)
	if err == nil {
		return next
	}
	var te *terminalError
	switch {
	case errors.As(err, &te):
		m.log.InfoContext(ctx, "session: refresh refused, signing out", "err", err)
		return nil
	case cur.usable(now):
		if !errors.Is(err, errNoRefreshToken) {
			m.log.WarnContext(ctx, "session: refresh failed, serving the session until it expires", "err", err)
		}
		cur.refreshFailed = true
		return cur
	case errors.Is(err, errNoRefreshToken):
		b.delUser(cur.user)
		return nil
	}
	m.log.WarnContext(ctx, "session: refresh failed and the session expired; keeping the cookies", "err", err)
	return nil
}

// Refresh refreshes the request's tokens now, even when they are not
// due, sets the new cookies on w and updates FromContext. Call it before
// writing the response: once headers are out it returns
// ErrHeadersWritten and refreshes nothing. Without a signed-in user it
// returns ErrNoSession; a refused refresh signs the user out (its cookies
// are cleared) and returns an error. Outside the Middleware it cannot
// tell whether headers were written, and FromContext is not updated.
func (m *Manager) Refresh(w http.ResponseWriter, r *http.Request) error {
	st := stateFrom(r.Context())
	if st == nil || st.m != m {
		st = m.newState(w)
		m.loadState(r, st).flush(w.Header())
	}
	return st.refresh(r.Context(), w, true)
}

// refresh refreshes the state's session (when force, or when due) and
// writes the cookies on w.
func (st *reqState) refresh(ctx context.Context, w http.ResponseWriter, force bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.m
	if m == nil || st.cur == nil {
		return ErrNoSession
	}
	now := m.now()
	if !force && (!m.needsRefresh(st.cur, now) || (st.cur.refreshFailed && st.cur.usable(now))) {
		return nil
	}
	if rw := findWriter(w, st.w); rw != nil && rw.wrote.Load() {
		return ErrHeadersWritten
	}
	b := m.newBatch(st.jar())
	next, err := m.refreshCurrent(ctx, st.cur, b, force)
	var te *terminalError
	if err == nil || errors.As(err, &te) {
		st.setCurrent(next)
	}
	if w != nil {
		b.flush(w.Header())
	}
	return err
}

// refreshCurrent refreshes cur with its refresh token(s) and queues the
// new cookies on b. A *terminalError means the session is over (its
// cookies are queued for deletion); other errors leave the cookies alone.
func (m *Manager) refreshCurrent(ctx context.Context, cur *current, b *batch, force bool) (*current, error) {
	rts := cur.refreshTokens()
	if len(rts) == 0 {
		return nil, errNoRefreshToken
	}
	var terminal error
	for i, rt := range rts {
		if i == maxRefreshTokens {
			break
		}
		res, err := m.refreshToken(ctx, rt, cur.device, force)
		if err == nil {
			return m.store(cur, res, b), nil
		}
		if !issuerclient.IsTerminal(err) {
			return nil, err
		}
		terminal = err
	}
	b.delUser(cur.user)
	return nil, &terminalError{terminal}
}

// refreshTokens are the candidate refresh tokens, decoded on first use
// (most requests never need them).
func (c *current) refreshTokens() []string {
	if c.refresh == nil && c.j != nil {
		c.refresh, _ = c.j.values(c.user, keyRefresh)
	}
	return c.refresh
}

// store queues the cookies of a refreshed session and returns it.
func (m *Manager) store(old *current, res *refreshed, b *batch) *current {
	now := m.now()
	sess := newSession(res.ac, res.ic, res.access, res.id)
	cur := &current{
		user: sess.Username, access: res.access, id: res.id, ac: res.ac, ic: res.ic,
		refresh: []string{res.refresh}, device: old.device, details: old.details, sess: sess,
		drift: min(max(res.ac.IssuedAt.Sub(now), -maxDrift), maxDrift),
	}
	m.writeTokens(b, old.user, cur)
	if res.ic != nil && now.Before(res.ac.Expires) && now.Before(res.ic.Expires) {
		m.sessions.put(cur.access, &cacheEntry{id: cur.id, ac: cur.ac, ic: cur.ic, sess: sess})
	}
	return cur
}

// refreshed is the outcome of one refresh.
type refreshed struct {
	access, id, refresh string // refresh: the rotated token, or the one used
	ac, ic              *tokenverify.Claims
	rotated             bool
}

type flight struct {
	done chan struct{}
	res  *refreshed
	err  error
}

type memoEntry struct {
	res   *refreshed
	err   error
	until time.Time
}

// flights single-flights refreshes per refresh token and remembers their
// outcomes for memoTTL. Keys are SHA-256 digests of the refresh tokens.
type flights struct {
	mu    sync.Mutex
	calls map[[32]byte]*flight
	memo  map[[32]byte]memoEntry
}

func (f *flights) init() {
	f.calls = map[[32]byte]*flight{}
	f.memo = map[[32]byte]memoEntry{}
}

// refreshToken redeems rt once per process at a time: concurrent callers
// wait for the one issuer call. Success and terminal answers are
// remembered for memoTTL; a forced refresh skips a remembered success
// unless it rotated rt (which is then spent).
func (m *Manager) refreshToken(ctx context.Context, rt, device string, force bool) (*refreshed, error) {
	key := sha256.Sum256([]byte(rt))
	f := &m.flights
	f.mu.Lock()
	if e, ok := f.memo[key]; ok {
		switch {
		case !m.now().Before(e.until):
			delete(f.memo, key)
		case !force || e.err != nil || e.res.rotated:
			f.mu.Unlock()
			return e.res, e.err
		}
	}
	c, ok := f.calls[key]
	if !ok {
		c = &flight{done: make(chan struct{})}
		f.calls[key] = c
		go m.fly(context.WithoutCancel(ctx), key, c, rt, device)
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.res, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", issuerclient.ErrUnavailable, ctx.Err())
	}
}

// fly makes the issuer call of one flight. It runs detached from the
// request that started it, so that the others waiting are not failed by
// that request's cancellation.
func (m *Manager) fly(ctx context.Context, key [32]byte, c *flight, rt, device string) {
	ctx, cancel := context.WithTimeout(ctx, refreshTimeout)
	defer cancel()
	res, err := m.redeem(ctx, rt, device)
	f := &m.flights
	f.mu.Lock()
	delete(f.calls, key)
	if err == nil || issuerclient.IsTerminal(err) {
		now := m.now()
		if len(f.memo) >= 1024 {
			for k, e := range f.memo {
				if !now.Before(e.until) {
					delete(f.memo, k)
				}
			}
		}
		f.memo[key] = memoEntry{res: res, err: err, until: now.Add(memoTTL)}
	}
	c.res, c.err = res, err
	f.mu.Unlock()
	close(c.done)
}

// forget drops what is remembered about rt (it was revoked).
func (f *flights) forget(rt string) {
	key := sha256.Sum256([]byte(rt))
	f.mu.Lock()
	delete(f.memo, key)
	f.mu.Unlock()
}

// redeem calls the issuer and verifies what it answers.
func (m *Manager) redeem(ctx context.Context, rt, device string) (*refreshed, error) {
	var tok issuerclient.Tokens
	var err error
	if m.oidc {
		tok, err = m.iss.RefreshOAuth(ctx, rt)
	} else {
		tok, err = m.iss.Refresh(ctx, rt, device)
		var ie *issuerclient.Error
		if device != "" && errors.As(err, &ie) && ie.Type == "ResourceNotFoundException" {
			// The device was forgotten (or the cookie names none of the
			// user's): the refresh token still holds without it.
			m.log.InfoContext(ctx, "session: refresh without an unknown device key", "err", err)
			tok, err = m.iss.Refresh(ctx, rt, "")
		}
	}
	if err != nil {
		return nil, err
	}
	res := &refreshed{access: tok.AccessToken, id: tok.IDToken, refresh: tok.RefreshToken}
	if res.refresh == "" {
		res.refresh = rt
	}
	res.rotated = res.refresh != rt
	if res.ac, err = m.access.Verify(ctx, res.access); err != nil {
		return nil, fmt.Errorf("%w: access token: %w", errBadRefresh, err)
	}
	if res.id != "" {
		if res.ic, err = m.id.Verify(ctx, res.id); err != nil {
			return nil, fmt.Errorf("%w: id token: %w", errBadRefresh, err)
		}
		if res.ic.Subject != res.ac.Subject {
			return nil, fmt.Errorf("%w: id and access tokens name other subjects", errBadRefresh)
		}
	}
	return res, nil
}
