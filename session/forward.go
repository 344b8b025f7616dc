package session

import (
	"net/http"
	"strconv"
	"strings"
)

// ForwardCookieHeader is the Cookie header that an app behind a reverse
// proxy should receive for r, which passed this Manager's Middleware:
// r's cookies as sent, except this app client's token cookies, which are
// replaced by the request's session as the Middleware left it (refreshed
// tokens included; unchunked, in Amplify's names and encodings) or
// dropped when the request is signed out. An Amplify adapter in the app
// then reads tokens that verify and are not due for refresh, so it never
// refreshes itself, and never holds a refresh token that rotation has
// already spent. Device keys pass through. "" means no cookie is left.
//
// Outside the Middleware the request counts as signed out.
func (m *Manager) ForwardCookieHeader(r *http.Request) (out string) {
	var cur *current
	if st := stateFrom(r.Context()); st != nil && st.m == m {
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.cur != nil {
			if memo := st.cur.forwarded; memo != nil {
				// A header-cache hit, still on the session it was cached
				// with: r carries exactly the header of that entry.
				if s := memo.Load(); s != nil {
					return *s
				}
				defer func() { memo.Store(&out) }()
			}
			st.jar() // refreshTokens reads the jar, which a header-cache hit has not read yet
			cur = st.cur
		}
	}
	var b strings.Builder
	add := func(name, value string) {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(value)
	}
	eachCookie(r.Header["Cookie"], func(rawName, rawValue string) {
		if !m.forwardAsSent(rawName, cur) {
			return
		}
		add(rawName, rawValue)
	})
	if cur == nil {
		return b.String()
	}
	token := func(key, value string) {
		if value != "" {
			add(encodeName(m.prefix+cur.user+"."+key), encodeValue(value))
		}
	}
	add(encodeName(m.prefix+lastAuth), encodeValue(cur.user))
	token(keyAccess, cur.access)
	token(keyID, cur.id)
	if rts := cur.refreshTokens(); len(rts) > 0 {
		token(keyRefresh, rts[0])
	}
	token(keyDrift, strconv.FormatInt(cur.drift.Milliseconds(), 10))
	token(keyDetails, cur.details)
	return b.String()
}

// forwardAsSent reports whether a cookie goes to the app as the browser
// sent it: every cookie of other apps, this client's device keys, and the
// signed-in user's oauthMetadata. The token set itself is rewritten.
func (m *Manager) forwardAsSent(rawName string, cur *current) bool {
	if !strings.HasPrefix(rawName, m.prefix) && strings.IndexByte(rawName, '%') < 0 {
		return true
	}
	name, ok := decodeName(rawName)
	if !ok {
		// Undecodable here means undecodable for the adapter too, but a
		// name that could be this client's is not worth the doubt.
		return !strings.HasPrefix(rawName, m.prefix)
	}
	if !strings.HasPrefix(name, m.prefix) {
		return true
	}
	e, ok := splitName(name, len(m.prefix))
	if !ok || e.chunk >= 0 {
		return false
	}
	switch e.key {
	case keyDevice, "deviceGroupKey", "randomPasswordKey":
		return true
	case keyOAuth:
		return cur != nil && e.user == cur.user
	}
	return false
}
