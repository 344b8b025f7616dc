package session

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cognate-auth/cognate/tokenverify"
)

// maxDrift bounds the clockDrift cookie the server honours, so that a
// browser with a wildly wrong clock cannot make every request refresh.
const maxDrift = 5 * time.Minute

// current is the verified token set of the request's user.
type current struct {
	user       string // the cookie names' username
	access, id string
	ac, ic     *tokenverify.Claims // ic nil: no id token
	// accessExpired / idExpired: Verify said ErrExpired (signature and
	// claims are good).
	accessExpired, idExpired bool
	refresh                  []string // candidate refresh tokens; nil: read from j
	j                        *jar
	device, details          string
	drift                    time.Duration
	sess                     *Session
	// refreshFailed: a refresh failed during this request (the issuer
	// is down); it is not tried again before the next request.
	refreshFailed bool
	// forwarded remembers ForwardCookieHeader's answer for the Cookie
	// header this session was cached under (nil: not from the header
	// cache): the same header and the same session give the same answer,
	// and re-encoding kilobytes of tokens is most of a gateway's work.
	forwarded *atomic.Pointer[string]
}

// usable: both tokens are unexpired by the clock, without any skew.
func (c *current) usable(now time.Time) bool {
	if c.accessExpired || !now.Before(c.ac.Expires) {
		return false
	}
	return c.ic == nil || (!c.idExpired && now.Before(c.ic.Expires))
}

// verdict is what one user's cookies amount to.
type verdict int

const (
	verdictNone        verdict = iota // no access token
	verdictOK                         // verified (maybe expired, to refresh)
	verdictBad                        // forged, malformed or mismatched: clear
	verdictUnavailable                // the keys could not be fetched: keep
)

// load picks the request's user from the cookies and verifies the
// tokens into cur. Bad cookies and duplicates are fixed through b. It
// returns nil when no user has verifiable tokens, else cur.
func (m *Manager) load(ctx context.Context, j *jar, b *batch, cur *current) *current {
	if j.overflow {
		m.log.WarnContext(ctx, "session: cookies over the size limits, clearing them", "bytes", j.total)
		b.delAll()
		return nil
	}
	for _, n := range j.bad {
		b.del(n)
	}
	users := j.lastAuthUsers()
	fromLast := len(users) > 0
	if !fromLast {
		users = j.users()
	}
	for i, u := range users {
		if i == maxCandidates {
			break
		}
		switch m.loadUser(ctx, j, b, u, cur) {
		case verdictOK:
			if j.dupLastAuth() || !fromLast {
				b.set(m.prefix+lastAuth, u)
			}
			return cur
		case verdictBad:
			m.log.InfoContext(ctx, "session: token cookies failed verification, clearing them")
			b.delUser(u)
		}
	}
	return nil
}

// loadUser verifies user's tokens into cur; among duplicates the valid
// one with the latest expiry wins and is rewritten through the policy
// (which expires the other copies).
func (m *Manager) loadUser(ctx context.Context, j *jar, b *batch, user string, cur *current) verdict {
	*cur = current{user: user, j: j}
	// A cache hit on the values as sent means they are verified tokens
	// themselves (a JWT neither starts with '"' nor holds '%', so it is
	// its own cookie encoding): nothing needs decoding.
	if a, id, ok := j.pair(user); ok {
		if e := m.sessions.get(a, id, m.now()); e != nil {
			cur.access, cur.id, cur.ac, cur.ic, cur.sess = a, id, e.ac, e.ic, e.sess
		}
	}
	if cur.ac == nil {
		if v := m.verifyUser(ctx, j, b, cur); v != verdictOK {
			return v
		}
	}
	cur.device = j.first(user, keyDevice)
	cur.details = j.first(user, keyDetails)
	if ms, err := strconv.ParseInt(j.first(user, keyDrift), 10, 64); err == nil {
		cur.drift = min(max(time.Duration(ms)*time.Millisecond, -maxDrift), maxDrift)
	}
	return verdictOK
}

// verifyUser decodes and verifies cur.user's token cookies, and queues
// the rewrite of duplicated ones.
func (m *Manager) verifyUser(ctx context.Context, j *jar, b *batch, cur *current) verdict {
	user := cur.user
	accs, dupA := j.values(user, keyAccess)
	if len(accs) == 0 {
		return verdictNone
	}
	ids, dupI := j.values(user, keyID)
	if len(accs) == 1 && len(ids) == 1 {
		if e := m.sessions.get(accs[0], ids[0], m.now()); e != nil {
			cur.access, cur.id, cur.ac, cur.ic, cur.sess = accs[0], ids[0], e.ac, e.ic, e.sess
		}
	}
	if cur.ac == nil {
		var v verdict
		if cur.access, cur.ac, cur.accessExpired, v = pick(ctx, m.access, accs, ""); v != verdictOK {
			return v
		}
		if len(ids) > 0 {
			if cur.id, cur.ic, cur.idExpired, v = pick(ctx, m.id, ids, cur.ac.Subject); v != verdictOK {
				return v
			}
		}
		cur.sess = newSession(cur.ac, cur.ic, cur.access, cur.id)
		if !cur.accessExpired && !cur.idExpired && cur.ic != nil {
			m.sessions.put(cur.access, &cacheEntry{id: cur.id, ac: cur.ac, ic: cur.ic, sess: cur.sess})
		}
	}
	if dupA {
		b.setToken(user, keyAccess, cur.access)
	}
	if dupI && cur.id != "" {
		b.setToken(user, keyID, cur.id)
	}
	return verdictOK
}

// pick verifies candidates and returns the best: an unexpired token with
// the latest expiry, else an expired (but genuine) one. sub, when set,
// must be the token's subject.
func pick(ctx context.Context, v *tokenverify.Verifier, cands []string, sub string) (string, *tokenverify.Claims, bool, verdict) {
	var (
		best        *tokenverify.Claims
		bestRaw     string
		bestExpired bool
		unavailable bool
	)
	for _, raw := range cands {
		c, err := v.Verify(ctx, raw)
		expired := errors.Is(err, tokenverify.ErrExpired) && c != nil
		switch {
		case err != nil && !expired:
			unavailable = unavailable || errors.Is(err, tokenverify.ErrUnavailable)
			continue
		case sub != "" && c.Subject != sub:
			continue
		}
		better := best == nil || (bestExpired && !expired) ||
			(bestExpired == expired && c.Expires.After(best.Expires))
		if better {
			best, bestRaw, bestExpired = c, raw, expired
		}
	}
	switch {
	case best != nil:
		return bestRaw, best, bestExpired, verdictOK
	case unavailable:
		return "", nil, false, verdictUnavailable
	}
	return "", nil, false, verdictBad
}
