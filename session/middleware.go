package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Option tunes a Middleware.
type Option func(*options)

type options struct{ force bool }

// ForceRefresh makes the Middleware refresh the tokens of every signed-in
// request it serves (for example after the app changed the user's groups
// or attributes), whether or not they are due.
func ForceRefresh() Option { return func(o *options) { o.force = true } }

// Middleware resolves the request's session once, before next runs, and
// puts it in the request context (FromContext). Tokens that are expired
// or expire within RefreshBefore are refreshed first and the new cookies
// set, so handlers never need to write a cookie. A Middleware of the same
// Manager further in does nothing again, unless it forces a refresh.
func (m *Manager) Middleware(next http.Handler, opts ...Option) http.Handler {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := stateFrom(r.Context()); st != nil && (st.m == nil || st.m == m) {
			if o.force && st.m == m {
				if err := m.Refresh(w, r); err != nil && !errors.Is(err, ErrNoSession) {
					m.log.WarnContext(r.Context(), "session: forced refresh failed", "err", err)
				}
			}
			next.ServeHTTP(w, r)
			return
		}
		st := m.newState(w)
		m.begin(r, st, o.force)
		next.ServeHTTP(st.w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
	})
}

// ctxKey keys the request state in a context.
type ctxKey struct{}

// reqState is one request's session, shared by FromContext, Refresh and
// Transport.
type reqState struct {
	m    *Manager // nil: WithoutSession
	sess atomic.Pointer[Session]
	mu   sync.Mutex // serializes refreshes within the request
	w    *respWriter
	j    *jar
	cur  *current
	// lines is the Cookie header, kept when the session came from the
	// header cache and j is read only if needed.
	lines []string
	// rw and cb back w and cur, and bb is the batch of cookie fixes
	// found while loading: a request's state is one allocation (and the
	// jar a second one when the header is not cached).
	rw respWriter
	cb current
	bb batch
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(ctxKey{}).(*reqState)
	return st
}

// newState is the state of a request answered on w.
func (m *Manager) newState(w http.ResponseWriter) *reqState {
	st := &reqState{m: m}
	if rw, ok := w.(*respWriter); ok {
		st.w = rw
	} else {
		st.rw.ResponseWriter = w
		st.w = &st.rw
	}
	return st
}

// begin resolves r's session into st, refreshing it when due, and
// queues the cookie changes on st's writer.
func (m *Manager) begin(r *http.Request, st *reqState, force bool) {
	lines := r.Header["Cookie"]
	cacheable := !force && len(lines) == 1
	if cacheable {
		if c := m.headers.get(lines[0]); c != nil {
			// usable too: a negative clockDrift moves needsRefresh's
			// limit before now.
			if now := m.now(); c.usable(now) && !m.needsRefresh(c, now) {
				st.cb = *c
				st.lines = lines
				st.setCurrent(&st.cb)
				return
			}
			m.headers.forget(lines[0])
		}
	}
	b := m.loadState(r, st)
	if st.cur != nil {
		cur := st.cur
		next := m.settle(r.Context(), cur, b, force)
		st.setCurrent(next)
		if cacheable && next == cur && !cur.refreshFailed && len(b.ops) == 0 {
			m.headers.put(lines[0], cur)
		}
	}
	b.flush(st.w.Header())
}

// loadState reads and verifies r's cookies into st without refreshing;
// the batch holds the cookie fixes to write.
func (m *Manager) loadState(r *http.Request, st *reqState) *batch {
	st.j = m.readJar(r)
	st.bb = batch{m: m, j: st.j}
	b := &st.bb
	if st.j != nil {
		st.cur = m.load(r.Context(), st.j, b, &st.cb)
	}
	st.setCurrent(st.cur)
	return b
}

// jar returns the request's cookies, reading them from the header when
// the session came from the header cache.
func (st *reqState) jar() *jar {
	if st.j == nil && st.lines != nil {
		st.j = st.m.readJarLines(st.lines)
		if st.cur != nil {
			st.cur.j = st.j
		}
	}
	return st.j
}

// valid reports whether the request has a session whose tokens have not
// expired.
func (st *reqState) valid(now time.Time) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.cur != nil && st.cur.usable(now)
}

// setCurrent makes cur (nil: signed out) the request's session.
func (st *reqState) setCurrent(cur *current) {
	st.cur = cur
	if cur == nil {
		st.sess.Store(nil)
		return
	}
	st.sess.Store(cur.sess)
}

// ensure returns r's state for this Manager, resolving it (as the
// Middleware would) when r did not come through the Middleware. Under
// WithoutSession it is the empty state.
func (m *Manager) ensure(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request, *reqState) {
	if st := stateFrom(r.Context()); st != nil && (st.m == m || st.m == nil) {
		return w, r, st
	}
	st := m.newState(w)
	m.begin(r, st, false)
	return st.w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)), st
}

// findWriter finds the Middleware's writer in w's Unwrap chain, else
// falls back to the one the state recorded.
func findWriter(w http.ResponseWriter, fallback *respWriter) *respWriter {
	for w != nil {
		if rw, ok := w.(*respWriter); ok {
			return rw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	return fallback
}

// respWriter records whether the response's headers went out. Flush,
// Hijack, ReadFrom and WriteString pass through (the rest via Unwrap and
// http.ResponseController).
type respWriter struct {
	http.ResponseWriter
	wrote atomic.Bool
}

func (w *respWriter) WriteHeader(code int) {
	// 1xx answers (other than 101) leave the final headers open.
	if code >= 200 || code == http.StatusSwitchingProtocols {
		w.wrote.Store(true)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	w.markWritten()
	return w.ResponseWriter.Write(p)
}

// WriteString passes strings on as they are (io.WriteString would copy
// them into a new []byte for Write).
func (w *respWriter) WriteString(s string) (int, error) {
	w.markWritten()
	return io.WriteString(w.ResponseWriter, s)
}

// markWritten records that the headers went out; a load first keeps the
// atomic write off the path of every Write after the first.
func (w *respWriter) markWritten() {
	if !w.wrote.Load() {
		w.wrote.Store(true)
	}
}

func (w *respWriter) ReadFrom(r io.Reader) (int64, error) {
	w.wrote.Store(true)
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(w.ResponseWriter, r)
}

func (w *respWriter) Flush() {
	w.wrote.Store(true)
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.wrote.Store(true)
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
