package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cognate-auth/cognate/gateway/bffstore"
	"github.com/cognate-auth/cognate/session"
)

// BFF mode's defaults and bounds.
const (
	// DefaultBFFMaxAge is Cognito's default refresh token validity.
	DefaultBFFMaxAge = 30 * 24 * time.Hour
	// BFFCookie names the browser's session cookie (with the __Host-
	// prefix on https origins).
	BFFCookie = "cognate.session"

	// bffStoreTimeout bounds one read or write of the store: a request
	// fails with 503 rather than hang on a dead one.
	bffStoreTimeout = 5 * time.Second
	// bffLockTTL outlives the session layer's 30 s bound on one refresh,
	// so a lock ends before its holder's refresh only when the holder
	// died; bffLockWait is how long another request waits for it.
	bffLockTTL  = 40 * time.Second
	bffLockWait = bffLockTTL + 5*time.Second
	// bffDueMargin widens the session layer's refresh rule here, so that
	// whenever the session layer would refresh, this layer has already
	// taken the session's lock (and then forces the refresh itself).
	bffDueMargin = 5 * time.Second
	// maxDrift is the session layer's bound on the clockDrift cookie.
	maxDrift = 5 * time.Minute
)

// BFF configures the backend-for-frontend mode: the browser holds one
// opaque, HttpOnly session cookie (BFFCookie: 256 random bits) and the
// tokens stay in Store, sealed (AES-256-GCM under a key derived from the
// session's SecretKey) under the SHA-256 of that id. The session layer
// runs unchanged: the stored token cookies are put into the Cookie
// header it reads, and the token cookies it writes (sign-in, refresh,
// sign-out) are taken out of the response into the store. A token of any
// size fits, and nodes sharing a store share sessions, refreshing each
// one once: the node that refreshes holds the store's lock for that
// session, and the others, once they have it, read the fresh tokens.
type BFF struct {
	// Store holds the sessions; nil means BFF mode is off.
	Store bffstore.Store
	// MaxAge ends a session that long after its sign-in; 0 means
	// DefaultBFFMaxAge. A pool that refuses the refresh token ends it
	// sooner.
	MaxAge time.Duration
	// IdleTimeout ends a session unused for that long; 0 means never.
	IdleTimeout time.Duration
}

// normalizeBFF checks the BFF settings and fills in their defaults.
func (cfg *Config) normalizeBFF() error {
	b := &cfg.BFF
	if b.Store == nil {
		return nil
	}
	if cfg.Session.Mode == session.ModeClient {
		return fmt.Errorf("%w: BFF mode keeps the tokens from the browser, so it needs the server mode", ErrConfig)
	}
	if b.MaxAge < 0 || b.IdleTimeout < 0 {
		return fmt.Errorf("%w: BFF max age and idle timeout must not be negative", ErrConfig)
	}
	if b.MaxAge == 0 {
		b.MaxAge = DefaultBFFMaxAge
	}
	return nil
}

// bff is the BFF layer around the session Middleware.
type bff struct {
	g      *Gateway
	store  bffstore.Store
	seal   *bffSealer
	maxAge time.Duration
	idle   time.Duration
	cookie string // BFFCookie, with __Host- on https
	secure bool
	mount  string
	before time.Duration // the session layer's RefreshBefore
	now    func() time.Time
	// stripes queue this node's requests for a session's store lock, so
	// that they wait here rather than poll the store.
	stripes [64]chan struct{}
	// normal and forced are the session Middleware around route; forced
	// refreshes whatever the tokens' expiry.
	normal, forced http.Handler
}

// newBFF wraps the session Middleware, itself around route, in the BFF
// layer.
func (g *Gateway) newBFF(route http.Handler) (http.Handler, error) {
	sc := g.m.Config()
	seal, err := newBFFSealer(sc.SecretKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	b := &bff{
		g: g, store: g.cfg.BFF.Store, seal: seal, maxAge: g.cfg.BFF.MaxAge, idle: g.cfg.BFF.IdleTimeout,
		cookie: BFFCookie, secure: strings.HasPrefix(sc.Origin, "https://"), mount: sc.MountPath,
		before: max(sc.RefreshBefore, 0), now: sc.Now,
	}
	if sc.Cookies.Secure != nil {
		b.secure = *sc.Cookies.Secure
	}
	if b.secure {
		b.cookie = "__Host-" + BFFCookie
	}
	if b.now == nil {
		b.now = time.Now
	}
	for i := range b.stripes {
		b.stripes[i] = make(chan struct{}, 1)
	}
	inner := b.after(route)
	b.normal = g.m.Middleware(inner)
	b.forced = g.m.Middleware(inner, session.ForceRefresh())
	return b, nil
}

// bffRecord is what a session's row holds, sealed.
type bffRecord struct {
	// Cookies are this client's token cookies as the session layer last
	// wrote them (raw name and value: chunks and encodings included),
	// sorted by name.
	Cookies [][2]string `json:"c"`
	// Exp is the earliest expiry of the access and id tokens, unix ms;
	// 0: unknown (refresh is taken to be due).
	Exp int64 `json:"x"`
	// Until is the end of the session (sign-in + MaxAge), unix ms.
	Until int64 `json:"u"`
}

type bffKey struct{}

// bffReq is one request's BFF state.
type bffReq struct {
	b   *bff
	r   *http.Request // as the BFF layer got it, for error pages
	key bffstore.Key
	rec *bffRecord // nil: no stored session
	// ctx is the request's context inside the Middleware, where
	// session.FromContext answers.
	ctx context.Context
	// auth: a session route; signIn: one that signs in, whose tokens get
	// a new session id (a planted id never becomes a session); signOut:
	// the sign-out route, which holds the session's lock so that a
	// refresh elsewhere cannot write the row back after it.
	auth, signIn, signOut bool
	force                 bool
	// stale are token cookies the browser sent (left from before BFF
	// mode): not trusted, and expired.
	stale []string
	// out is the session cookie's Set-Cookie line to send, "" none.
	out    string
	unlock func()
	// failed: the store failed; the response is the 503 page.
	failed bool
}

func (b *bff) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &bffReq{b: b, r: r}
	defer rq.release()
	id, others, stale := b.splitCookies(r.Header["Cookie"])
	rq.stale = stale
	if id != "" {
		if key, ok := parseSessionID(id); !ok {
			rq.out = b.deleteLine()
		} else if err := rq.load(r.Context(), key); err != nil {
			b.unavailable(w, r, err)
			return
		}
	}
	if slug, ok := strings.CutPrefix(r.URL.Path, b.mount); ok {
		rq.auth = true
		rq.signIn = slug == "password" || slug == "sign-in-callback" || slug == "challenge"
		rq.signOut = slug == "sign-out"
	}
	if rq.rec != nil && (rq.signOut || b.due(rq.rec)) {
		if err := rq.lock(r.Context()); err != nil {
			b.unavailable(w, r, err)
			return
		}
	}
	var jar [][2]string
	if rq.rec != nil {
		jar = rq.rec.Cookies
	}
	if c := cookieHeader(others, jar); c != "" {
		r.Header["Cookie"] = []string{c}
	} else {
		delete(r.Header, "Cookie")
	}
	bw := &bffWriter{ResponseWriter: w, rq: rq}
	r = r.WithContext(context.WithValue(r.Context(), bffKey{}, rq))
	if rq.force {
		b.forced.ServeHTTP(bw, r)
	} else {
		b.normal.ServeHTTP(bw, r)
	}
	bw.prepare()
}

// after runs inside the Middleware: the token cookies it wrote (a
// refresh, a dead session's deletes) go to the store before the route
// runs, which also ends the refresh lock (a sign-out keeps it until its
// deletes are stored).
func (b *bff) after(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, _ := r.Context().Value(bffKey{}).(*bffReq)
		if rq == nil {
			next.ServeHTTP(w, r)
			return
		}
		rq.ctx = r.Context()
		err := rq.capture(w.Header())
		if !rq.signOut {
			rq.release()
		}
		if err != nil {
			rq.failed = true
			b.unavailable(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// splitCookies reads the Cookie header: the session id, the cookies that
// are neither it nor this client's token cookies ("name=value" as sent),
// and the names of the token cookies.
func (b *bff) splitCookies(lines []string) (id string, others, stale []string) {
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			name, value, _ := strings.Cut(part, "=")
			switch {
			case part == "":
			case name == b.cookie:
				if id == "" {
					id = value
				}
			case name == BFFCookie || name == "__Host-"+BFFCookie:
				// The other spelling (http on an https origin, or the
				// reverse): never an id here, and not the app's either.
			case b.g.tokenCookie(name):
				if !slices.Contains(stale, name) {
					stale = append(stale, name)
				}
			default:
				others = append(others, part)
			}
		}
	}
	return id, others, stale
}

// cookieHeader joins the other cookies and the stored token cookies into
// one Cookie line (one line, so the session layer's header cache
// applies).
func cookieHeader(others []string, jar [][2]string) string {
	var sb strings.Builder
	for _, o := range others {
		if sb.Len() > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(o)
	}
	for _, c := range jar {
		if sb.Len() > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(c[0])
		sb.WriteByte('=')
		sb.WriteString(c[1])
	}
	return sb.String()
}

// parseSessionID decodes an id (43 base64url characters: 256 bits) into
// its store key. Anything else is refused without a store lookup.
func parseSessionID(id string) (bffstore.Key, bool) {
	if len(id) != 43 {
		return bffstore.Key{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != 32 {
		return bffstore.Key{}, false
	}
	return sha256.Sum256(raw), true
}

// newSessionID is a fresh id and its store key.
func newSessionID() (string, bffstore.Key) {
	raw := make([]byte, 32)
	rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw), sha256.Sum256(raw)
}

// storeCtx bounds one store call; a browser that goes away does not cut
// a write short.
func storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bffStoreTimeout)
}

// load reads key's session into rq. A missing one, or one that does not
// open (another key, a tampered row), leaves rq signed out and expires
// the browser's cookie; only store failures are errors.
func (rq *bffReq) load(ctx context.Context, key bffstore.Key) error {
	b := rq.b
	rq.key, rq.rec = key, nil
	sctx, cancel := storeCtx(ctx)
	defer cancel()
	sealed, expires, err := b.store.Get(sctx, key)
	if errors.Is(err, bffstore.ErrNotFound) {
		rq.out = b.deleteLine()
		return nil
	}
	if err != nil {
		return err
	}
	var rec bffRecord
	plain, err := b.seal.open(key, sealed)
	if err == nil {
		err = json.Unmarshal(plain, &rec)
	}
	if err != nil {
		b.g.log.WarnContext(ctx, "gateway: a stored session does not open (another --secret-key-file?); dropping it", "err", err)
		if err := b.store.Delete(sctx, key); err != nil {
			return err
		}
		rq.out = b.deleteLine()
		return nil
	}
	rq.rec = &rec
	// Idle expiry: the row's expiry moves with use, by Touch (a Put here
	// could write back a row that a refresh or a sign-out on another
	// node has just replaced or deleted), at most every tenth of the
	// timeout.
	if target := rq.expiry(); b.idle > 0 && target.Sub(expires) >= b.idle/10 {
		err := b.store.Touch(sctx, key, target)
		if errors.Is(err, bffstore.ErrNotFound) {
			rq.rec = nil
			rq.out = b.deleteLine()
			return nil
		}
		return err
	}
	return nil
}

// expiry is when rq's row expires: at the end of the session, or sooner
// when unused for the idle timeout.
func (rq *bffReq) expiry() time.Time {
	until := time.UnixMilli(rq.rec.Until)
	if idle := time.Now().Add(rq.b.idle); rq.b.idle > 0 && idle.Before(until) {
		return idle
	}
	return until
}

// due reports whether rec's tokens are due for refresh, by the session
// layer's rule (expiry within RefreshBefore plus the clockDrift cookie)
// widened by bffDueMargin.
func (b *bff) due(rec *bffRecord) bool {
	if rec.Exp == 0 {
		return true
	}
	var drift time.Duration
	for _, c := range rec.Cookies {
		if strings.HasSuffix(c[0], ".clockDrift") {
			if msec, err := strconv.ParseInt(c[1], 10, 64); err == nil {
				drift = min(max(time.Duration(msec)*time.Millisecond, -maxDrift), maxDrift)
			}
		}
	}
	limit := b.now().Add(b.before + drift + bffDueMargin)
	return !time.UnixMilli(rec.Exp).After(limit)
}

// lock takes the session's lock (this node's queue first, then the
// store's), then reads the session again: a node that held the lock
// before may have refreshed it already, or signed it out. Still due, the
// lock is kept and the refresh forced; a sign-out keeps it too; otherwise
// it is let go at once.
func (rq *bffReq) lock(ctx context.Context) error {
	b := rq.b
	stripe := b.stripes[rq.key[0]%byte(len(b.stripes))]
	ctx, cancel := context.WithTimeout(ctx, bffLockWait)
	defer cancel()
	select {
	case stripe <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("gateway: waiting for a session's refresh: %w", ctx.Err())
	}
	unlock, err := b.store.Lock(ctx, rq.key, bffLockTTL)
	if err != nil {
		<-stripe
		return err
	}
	key := rq.key
	rq.unlock = func() {
		uctx, cancel := storeCtx(ctx)
		defer cancel()
		if err := unlock(uctx); err != nil {
			b.g.log.WarnContext(ctx, "gateway: releasing a session's refresh lock", "err", err)
		}
		<-stripe
	}
	if err := rq.load(ctx, key); err != nil {
		return err
	}
	if rq.rec != nil && b.due(rq.rec) {
		rq.force = true
		return nil
	}
	if rq.rec == nil || !rq.signOut {
		rq.release()
	}
	return nil
}

func (rq *bffReq) release() {
	if rq.unlock != nil {
		rq.unlock()
		rq.unlock = nil
	}
}

// capture takes the token cookies out of the response's Set-Cookie
// lines, applies them to the stored session and writes it. Lines naming
// the session cookie are dropped: only this layer writes it.
func (rq *bffReq) capture(h http.Header) error {
	var jar [][2]string
	if rq.rec != nil {
		jar = slices.Clone(rq.rec.Cookies)
	}
	changed := false
	var kept []string
	for _, line := range h["Set-Cookie"] {
		name, value, del := parseSetCookie(line)
		switch {
		case rq.b.g.tokenCookie(name):
			changed = true
			i, found := slices.BinarySearchFunc(jar, name, func(c [2]string, n string) int { return strings.Compare(c[0], n) })
			switch {
			case del && found:
				jar = slices.Delete(jar, i, i+1)
			case !del && found:
				jar[i][1] = value
			case !del:
				jar = slices.Insert(jar, i, [2]string{name, value})
			}
		case name == rq.b.cookie:
		default:
			kept = append(kept, line)
		}
	}
	if len(kept) == 0 {
		delete(h, "Set-Cookie")
	} else {
		h["Set-Cookie"] = kept
	}
	if !changed {
		return nil
	}
	return rq.persist(jar)
}

// persist stores the session's new token cookies: a session without an
// access token is over (its row and the browser's cookie go); a sign-in
// gets a new id, and the row of the id it came with goes.
func (rq *bffReq) persist(jar [][2]string) error {
	b := rq.b
	signedIn := slices.ContainsFunc(jar, func(c [2]string) bool { return strings.HasSuffix(c[0], ".accessToken") })
	if !signedIn || (rq.signIn && rq.rec != nil) {
		if rq.rec != nil {
			sctx, cancel := storeCtx(rq.r.Context())
			defer cancel()
			if err := b.store.Delete(sctx, rq.key); err != nil {
				return err
			}
			rq.rec = nil
			rq.out = b.deleteLine()
		}
		if !signedIn {
			return nil
		}
	}
	now := b.now()
	if rq.rec == nil {
		var id string
		id, rq.key = newSessionID()
		rq.rec = &bffRecord{Until: now.Add(b.maxAge).UnixMilli()}
		rq.out = b.setLine(id)
		rq.signIn = false // what this response writes next updates this session
	}
	rq.rec.Cookies = jar
	rq.rec.Exp = tokenExpiry(rq.ctx)
	return rq.put()
}

// tokenExpiry is the earliest expiry of the access and id tokens of the
// session the session layer settled on, unix ms (0: none).
func tokenExpiry(ctx context.Context) int64 {
	if ctx == nil {
		return 0
	}
	s := session.FromContext(ctx)
	if s == nil {
		return 0
	}
	exp := s.ExpiresAt.UnixMilli()
	if v, ok := s.Attributes["exp"].(float64); ok {
		exp = min(exp, int64(v)*1000)
	}
	return exp
}

// put seals rq.rec and writes it.
func (rq *bffReq) put() error {
	b := rq.b
	plain, err := json.Marshal(rq.rec)
	if err != nil {
		return err
	}
	sctx, cancel := storeCtx(rq.r.Context())
	defer cancel()
	return b.store.Put(sctx, rq.key, b.seal.seal(rq.key, plain), rq.expiry())
}

// parseSetCookie reads the name and value of a Set-Cookie line, and
// whether it deletes the cookie (Max-Age <= 0).
func parseSetCookie(line string) (name, value string, del bool) {
	first, attrs, _ := strings.Cut(line, ";")
	name, value, _ = strings.Cut(first, "=")
	for a := range strings.SplitSeq(attrs, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(a), "=")
		if strings.EqualFold(k, "Max-Age") && (v == "0" || strings.HasPrefix(v, "-")) {
			del = true
		}
	}
	return strings.TrimSpace(name), value, del
}

// setLine and deleteLine are the session cookie's Set-Cookie lines:
// host-only, Path=/, HttpOnly, SameSite=Lax (sent on the navigation back
// from the pool's sign-in pages), Secure on https.
func (b *bff) setLine(id string) string {
	return b.cookieLine(id, fmt.Sprintf("Max-Age=%d", int(b.maxAge/time.Second)))
}

func (b *bff) deleteLine() string {
	return b.cookieLine("", "Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
}

func (b *bff) cookieLine(value, age string) string {
	line := b.cookie + "=" + value + "; Path=/; " + age + "; HttpOnly; SameSite=Lax"
	if b.secure {
		line += "; Secure"
	}
	return line
}

// unavailable answers 503 when the store cannot be used.
func (b *bff) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	setRoute(r, "session_store")
	b.g.log.ErrorContext(r.Context(), "gateway: the session store failed", "err", err)
	w.Header().Set("Retry-After", "5")
	writeError(w, r, http.StatusServiceUnavailable, "session_store_unavailable", "Sessions are unavailable",
		"This site cannot reach its session store. Please try again in a moment.")
}
