package session

import (
	"net/http"
	"strconv"
	"strings"
)

// Chunking (ModeServer only). A token whose cookie would pass
// chunkLimit bytes (name + value) is stored as
//
//	<name>   = %chunks:<n>
//	<name>.0 … <name>.<n-1> = consecutive slices of the encoded value
//
// and joined on read. The marker, which no encoded value can equal,
// makes a read exact: chunks left over
// from an older, longer token are ignored (and expired on the next
// write), never glued on.
const chunkLimit = 4000

// op is one pending cookie change.
type op struct {
	name, value string
	del         bool
	encoded     bool // value is already encoded (a chunk)
}

// batch collects the cookie changes of one response and writes them as
// Set-Cookie headers through the policy: a name is written with the
// policy's attributes and expired under every other variant; a delete
// expires every variant. The last change of a name wins.
type batch struct {
	m   *Manager
	j   *jar // the request's cookies, for stale chunks; may be nil
	ops []op
	// tokens: a token cookie changed, so the response must not be cached.
	tokens bool
}

func (m *Manager) newBatch(j *jar) *batch { return &batch{m: m, j: j} }

func (b *batch) put(o op) {
	b.tokens = true
	for i := range b.ops {
		if b.ops[i].name == o.name {
			b.ops[i] = o
			return
		}
	}
	b.ops = append(b.ops, o)
}

func (b *batch) set(name, value string) { b.put(op{name: name, value: value}) }
func (b *batch) del(name string)        { b.put(op{name: name, del: true}) }

// setToken writes a token cookie, in chunks when it is too big for one
// cookie and the policy allows chunks, and expires stale chunks.
func (b *batch) setToken(user, key, value string) {
	name := b.m.prefix + user + "." + key
	enc := encodeValue(value)
	n := 1
	if b.m.pol.chunk && len(encodeName(name))+len(enc) > chunkLimit {
		per := chunkLimit - len(encodeName(name)) - 3
		n = (len(enc) + per - 1) / per
		if n > maxChunks {
			b.m.log.Warn("session: token too large for cookies, not stored", "key", key, "bytes", len(value))
			return
		}
		b.putEncoded(name, chunkMarker+strconv.Itoa(n))
		for i := range n {
			end := min((i+1)*per, len(enc))
			b.putEncoded(name+"."+strconv.Itoa(i), enc[i*per:end])
		}
	} else {
		if len(encodeName(name))+len(enc) > maxCookieBytes {
			b.m.log.Warn("session: token cookie larger than browsers store", "key", key, "bytes", len(enc))
		}
		b.set(name, value)
		n = 0
	}
	if b.j == nil {
		return
	}
	for _, c := range b.j.names(user, key) {
		if e, ok := splitName(c, len(b.m.prefix)); ok && e.chunk >= n {
			b.del(c)
		}
	}
}

// putEncoded queues a value that is already encoded (a chunk).
func (b *batch) putEncoded(name, enc string) {
	b.put(op{name: name, value: enc, encoded: true})
}

// delUser expires every cookie of user that ends a session, chunks
// included, and LastAuthUser.
func (b *batch) delUser(user string) {
	for _, k := range clearKeys {
		b.del(b.m.prefix + user + "." + k)
		if b.j != nil {
			for _, c := range b.j.names(user, k) {
				b.del(c)
			}
		}
	}
	b.del(b.m.prefix + lastAuth)
}

// delAll expires every cookie of this client the request carried (and
// LastAuthUser).
func (b *batch) delAll() {
	if b.j != nil {
		for _, u := range b.j.users() {
			b.delUser(u)
		}
		for _, n := range b.j.allNames() {
			b.del(n)
		}
	}
	b.del(b.m.prefix + lastAuth)
}

// writeTokens queues a whole token set under cur.user (Amplify's
// storeTokens), removing the cookies of oldUser when the name changed.
func (m *Manager) writeTokens(b *batch, oldUser string, cur *current) {
	if oldUser != "" && oldUser != cur.user {
		b.delUser(oldUser)
	}
	b.set(m.prefix+lastAuth, cur.user)
	b.setToken(cur.user, keyAccess, cur.access)
	if cur.id != "" {
		b.setToken(cur.user, keyID, cur.id)
	} else {
		b.del(m.prefix + cur.user + "." + keyID)
	}
	if len(cur.refresh) > 0 && cur.refresh[0] != "" {
		b.setToken(cur.user, keyRefresh, cur.refresh[0])
	}
	b.set(m.prefix+cur.user+"."+keyDrift, strconv.FormatInt(cur.drift.Milliseconds(), 10))
	if cur.details != "" {
		b.set(m.prefix+cur.user+"."+keyDetails, cur.details)
	}
}

// flush writes the batch into h.
func (b *batch) flush(h http.Header) {
	if len(b.ops) == 0 {
		return
	}
	p := &b.m.pol
	expired := p.cookieAttrs
	expired.maxAge = 0
	for _, o := range b.ops {
		name := encodeName(o.name)
		if !cookieHeaderSafe(name) {
			continue
		}
		for _, v := range p.variants {
			a := expired
			a.domain, a.path = v.domain, v.path
			h.Add("Set-Cookie", setCookieLine(name, "", a))
		}
		if o.del {
			h.Add("Set-Cookie", setCookieLine(name, "", expired))
			continue
		}
		value := o.value
		if !o.encoded {
			value = encodeValue(value)
		}
		if !cookieHeaderSafe(value) {
			continue
		}
		h.Add("Set-Cookie", setCookieLine(name, value, p.cookieAttrs))
	}
	if b.tokens {
		h.Set("Cache-Control", "private, no-store")
	}
	b.ops = b.ops[:0]
}

// cookieHeaderSafe reports whether s can be a Set-Cookie name or value
// as it is: js-cookie's encodings (encodeName, encodeValue) guarantee it
// for what this package writes, and this check keeps a bug from turning
// into header injection.
func cookieHeaderSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// cookieAttrs are the attributes of one Set-Cookie line, as
// net/http.Cookie names them. setCookieLine serializes them rather than
// http.Cookie.String so that the bytes on the wire stay exactly these: a
// delete carries an Expires in the past as well as Max-Age=0, and nothing
// is quoted or dropped (cookieHeaderSafe guards the values instead).
type cookieAttrs struct {
	domain, path string // domain "": host-only
	// maxAge is in seconds: 0 expires the cookie, a negative one makes
	// it a browser-session cookie.
	maxAge           int
	httpOnly, secure bool
	sameSite         string // Strict, Lax, None, or "" for no attribute
}

// setCookieLine serializes one Set-Cookie header.
func setCookieLine(name, value string, a cookieAttrs) string {
	var b strings.Builder
	b.Grow(len(name) + len(value) + 120)
	b.WriteString(name)
	b.WriteByte('=')
	b.WriteString(value)
	b.WriteString("; Path=")
	b.WriteString(a.path)
	if a.domain != "" {
		b.WriteString("; Domain=")
		b.WriteString(a.domain)
	}
	switch {
	case a.maxAge > 0:
		b.WriteString("; Max-Age=")
		b.WriteString(strconv.Itoa(a.maxAge))
	case a.maxAge == 0:
		b.WriteString("; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
	}
	if a.httpOnly {
		b.WriteString("; HttpOnly")
	}
	if a.secure {
		b.WriteString("; Secure")
	}
	if a.sameSite != "" {
		b.WriteString("; SameSite=")
		b.WriteString(a.sameSite)
	}
	return b.String()
}

// auxCookie is a cookie of the route handlers (flow state, CSRF token,
// pending challenge): host-only, Path=/, HttpOnly, Secure on secure
// origins (with the __Host- prefix then). maxAge 0 expires it.
func (m *Manager) auxCookie(h http.Header, name, value string, maxAge int, sameSite string) {
	h.Add("Set-Cookie", setCookieLine(m.auxName+name, value, cookieAttrs{
		path: "/", maxAge: maxAge, httpOnly: true, secure: m.pol.secure, sameSite: sameSite,
	}))
}
