package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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
	b := m.loadState(r, st)
	if st.cur != nil {
		st.setCurrent(m.settle(r.Context(), st.cur, b, force))
	}
	b.flush(st.w.Header())
}

// loadState reads and verifies r's cookies into st without refreshing;
// the batch holds the cookie fixes to write.
func (m *Manager) loadState(r *http.Request, st *reqState) *batch {
	st.j = m.readJarInto(r, &st.jb)
	st.bb = batch{m: m, j: st.j}
	b := &st.bb
	if st.j != nil {
		st.cur = m.load(r.Context(), st.j, b, &st.cb)
	}
	st.setCurrent(st.cur)
	return b
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
	b := m.newBatch(st.j)
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
// Hijack and ReadFrom pass through (the rest via Unwrap and
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
	w.wrote.Store(true)
	return w.ResponseWriter.Write(p)
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
