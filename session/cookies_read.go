package session

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Cookie keys, after CognitoIdentityServiceProvider.<clientId>.<username>.
const (
	keyAccess  = "accessToken"
	keyID      = "idToken"
	keyRefresh = "refreshToken"
	keyDrift   = "clockDrift"
	keyDetails = "signInDetails"
	keyDevice  = "deviceKey"
	keyOAuth   = "oauthMetadata"
	lastAuth   = "LastAuthUser"
)

// userKeys are the per-user keys read; clearKeys are the ones a sign-out
// or a dead session removes (Amplify's clearTokens list: device keys
// outlive a session).
var (
	userKeys  = []string{keyAccess, keyID, keyRefresh, keyDrift, keyDetails, keyDevice, keyOAuth, "deviceGroupKey", "randomPasswordKey"}
	clearKeys = []string{keyAccess, keyID, keyRefresh, keyDrift, keyDetails, keyOAuth}
)

// Limits on what a request may carry.
const (
	maxCookieBytes = 4096     // name + value of one cookie, as browsers store them
	maxTotalBytes  = 64 << 10 // all of this client's cookies together
	maxEntries     = 256      // this client's cookies in one request
	maxChunks      = 16       // chunks of one token
	maxCandidates  = 4        // distinct values of one name that are tried
	// chunkMarker starts the value of a chunked token's base cookie. No
	// encoded value starts with it: encodeValue writes '%' only before
	// two upper-case hex digits.
	chunkMarker = "%chunks:"
)

// entry is one cookie of this app client from the request.
type entry struct {
	name  string // decoded name
	user  string // "" for LastAuthUser
	key   string
	chunk int // -1: not a chunk
	raw   string
}

// jar is the request's cookies that belong to this app client. Values
// stay raw (encoded) until they are needed; duplicates are all kept.
type jar struct {
	entries []entry
	// bad names were oversized or undecodable: they are expired.
	bad []string
	// overflow: too many or too large cookies; the session is dropped
	// and every name here is expired.
	overflow bool
	total    int
	buf      [8]entry // entries' first backing array: one allocation
	// last backs lastAuthUsers' result.
	last [maxCandidates]string
}

// readJar collects this client's cookies from r's Cookie headers; nil
// when there are none.
func (m *Manager) readJar(r *http.Request) *jar { return m.readJarLines(r.Header["Cookie"]) }

// readJarLines is readJar from the Cookie header lines.
func (m *Manager) readJarLines(lines []string) *jar {
	if len(lines) == 0 {
		return nil
	}
	var j *jar
	eachCookie(lines, func(rawName, rawValue string) {
		if !strings.HasPrefix(rawName, m.prefix) && strings.IndexByte(rawName, '%') < 0 {
			return
		}
		name, ok := decodeName(rawName)
		if !ok || !strings.HasPrefix(name, m.prefix) {
			return
		}
		if j == nil {
			j = &jar{}
			j.entries = j.buf[:0]
		}
		j.add(name, rawName, rawValue, len(m.prefix))
	})
	if j != nil && (j.total > maxTotalBytes || len(j.entries) > maxEntries) {
		j.overflow = true
	}
	return j
}

// eachCookie calls fn with every name=value pair of the Cookie header
// lines, in order, duplicates included. It is deliberately tolerant (no
// RFC 6265 token checks, unlike net/http, which drops names and values
// js-cookie writes): pairs are split on ';', trimmed, and cut at the first
// '='; pieces with no '=' or an empty name are skipped.
func eachCookie(lines []string, fn func(name, value string)) {
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			name, value, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			name = trimSpace(name)
			if name == "" {
				continue
			}
			fn(name, trimSpace(value))
		}
	}
}

// trimSpace trims spaces and tabs (strings.Trim with a cutset costs more
// on this path, which every request takes).
func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func (j *jar) add(name, rawName, rawValue string, prefixLen int) {
	size := len(rawName) + len(rawValue)
	j.total += size
	if len(j.entries) >= maxEntries {
		j.overflow = true
		return
	}
	e, ok := splitName(name, prefixLen)
	if !ok {
		return
	}
	if size > maxCookieBytes {
		j.bad = append(j.bad, name)
		return
	}
	e.raw = rawValue
	j.entries = append(j.entries, e)
}

// splitName parses <prefix>LastAuthUser and <prefix><user>.<key>[.<n>].
func splitName(name string, prefixLen int) (entry, bool) {
	rest := name[prefixLen:]
	e := entry{name: name, chunk: -1}
	if rest == lastAuth {
		e.key = lastAuth
		return e, true
	}
	if i := strings.LastIndexByte(rest, '.'); i > 0 && len(rest)-i-1 <= 2 {
		if n, err := strconv.Atoi(rest[i+1:]); err == nil && n >= 0 && n < maxChunks && strconv.Itoa(n) == rest[i+1:] {
			e.chunk, rest = n, rest[:i]
		}
	}
	i := strings.LastIndexByte(rest, '.')
	if i <= 0 {
		return e, false
	}
	e.user, e.key = rest[:i], rest[i+1:]
	for _, k := range userKeys {
		if k == e.key {
			return e, true
		}
	}
	return e, false
}

// lastAuthUsers are the first maxCandidates distinct decoded
// LastAuthUser values, in order. The slice is the jar's: valid until the
// next call.
func (j *jar) lastAuthUsers() []string {
	out := j.last[:0]
	for _, e := range j.entries {
		if e.key != lastAuth || len(out) == maxCandidates {
			continue
		}
		v, ok := decodeValue(e.raw)
		if ok && v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// users are the distinct users that have a token cookie, in order.
func (j *jar) users() []string {
	var out []string
	for _, e := range j.entries {
		if e.user != "" && !slices.Contains(out, e.user) {
			out = append(out, e.user)
		}
	}
	return out
}

// values are the distinct decoded values of user's key, chunked ones
// joined, in order (at most maxCandidates). dup reports that the name
// came more than once.
func (j *jar) values(user, key string) (vals []string, dup bool) {
	n := 0
	for _, e := range j.entries {
		if e.user != user || e.key != key || e.chunk >= 0 {
			continue
		}
		n++
		if !strings.HasPrefix(e.raw, chunkMarker) {
			vals = addValue(vals, e.raw)
			continue
		}
		for _, raw := range j.join(e) {
			vals = addValue(vals, raw)
		}
	}
	return vals, n > 1
}

// pair returns user's access and id token cookies as sent, when each
// came exactly once: the common case, which a session cache lookup can
// settle without decoding anything.
func (j *jar) pair(user string) (access, id string, ok bool) {
	na, ni := 0, 0
	for _, e := range j.entries {
		if e.user != user || e.chunk >= 0 {
			continue
		}
		switch e.key {
		case keyAccess:
			access, na = e.raw, na+1
		case keyID:
			id, ni = e.raw, ni+1
		}
	}
	return access, id, na == 1 && ni == 1
}

// addValue appends the decoded raw to vals when it is new and there is
// room.
func addValue(vals []string, raw string) []string {
	v, ok := decodeValue(raw)
	if ok && v != "" && !slices.Contains(vals, v) && len(vals) < maxCandidates {
		vals = append(vals, v)
	}
	return vals
}

// first is the first decodable value of user's key (never chunked).
func (j *jar) first(user, key string) string {
	for _, e := range j.entries {
		if e.user == user && e.key == key && e.chunk < 0 {
			if v, ok := decodeValue(e.raw); ok {
				return v
			}
		}
	}
	return ""
}

// join resolves a chunk marker: the chunks joined, once with the first
// and once with the last copy of each (duplicated chunks come from
// cookies under other paths).
func (j *jar) join(base entry) []string {
	n, err := strconv.Atoi(base.raw[len(chunkMarker):])
	if err != nil || n < 1 || n > maxChunks {
		return nil
	}
	first := make([]string, n)
	last := make([]string, n)
	for _, e := range j.entries {
		if e.user != base.user || e.key != base.key || e.chunk < 0 || e.chunk >= n {
			continue
		}
		if first[e.chunk] == "" {
			first[e.chunk] = e.raw
		}
		last[e.chunk] = e.raw
	}
	var out []string
	for _, parts := range [][]string{first, last} {
		if v, ok := joinChunks(parts); ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// joinChunks concatenates chunks; any missing or empty chunk makes the
// token incomplete.
func joinChunks(parts []string) (string, bool) {
	size := 0
	for _, p := range parts {
		if p == "" {
			return "", false
		}
		size += len(p)
	}
	if size > maxTotalBytes {
		return "", false
	}
	return strings.Join(parts, ""), true
}

// names are the distinct decoded names of user's cookies with key
// (chunks included).
func (j *jar) names(user, key string) []string {
	var out []string
	for _, e := range j.entries {
		if e.user == user && e.key == key && !slices.Contains(out, e.name) {
			out = append(out, e.name)
		}
	}
	return out
}

// allNames are the distinct decoded names of every cookie of this
// client, oversized ones included.
func (j *jar) allNames() []string {
	out := append([]string(nil), j.bad...)
	for _, e := range j.entries {
		if !slices.Contains(out, e.name) {
			out = append(out, e.name)
		}
	}
	return out
}

// dupLastAuth reports whether LastAuthUser came more than once.
func (j *jar) dupLastAuth() bool {
	n := 0
	for _, e := range j.entries {
		if e.key == lastAuth {
			n++
		}
	}
	return n > 1
}

// auxValue reads an auxiliary cookie (the first one).
func (m *Manager) auxValue(r *http.Request, name string) string {
	var out string
	found := false
	eachCookie(r.Header["Cookie"], func(n, v string) {
		if !found && n == m.auxName+name {
			out, found = v, true
		}
	})
	return out
}
