package session

import (
	"fmt"
	"net/http"
)

// Transport returns a RoundTripper (over base; nil means
// http.DefaultTransport) that calls the app's own backend APIs as the
// request's user: it sets Authorization: Bearer <access token> from the
// outgoing request's context (pass the incoming request's context, e.g.
// with http.NewRequestWithContext(r.Context(), …)). When the token
// expired since the Middleware ran it is refreshed first and the cookies
// set on the response, or ErrHeadersWritten is returned if that response
// has already started. Without a user it fails with ErrNoSession and
// sends nothing.
func (m *Manager) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &bearer{m: m, base: base}
}

type bearer struct {
	m    *Manager
	base http.RoundTripper
}

func (b *bearer) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	st := stateFrom(req.Context())
	if st == nil || st.m != b.m || st.sess.Load() == nil {
		closeBody()
		return nil, ErrNoSession
	}
	if err := st.refresh(req.Context(), st.writer(), false); err != nil {
		closeBody()
		return nil, fmt.Errorf("session: refreshing before %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	s := st.sess.Load()
	if s == nil {
		closeBody()
		return nil, ErrNoSession
	}
	out := req.Clone(req.Context())
	out.Header.Set("Authorization", "Bearer "+s.AccessToken)
	return b.base.RoundTrip(out)
}

// writer is the response the state's cookies go to (nil when unknown).
func (st *reqState) writer() http.ResponseWriter {
	if st.w == nil {
		return nil
	}
	return st.w
}
