package gateway

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// bffWriter holds back the response's header until the token cookies in
// it have gone to the store and the session cookie has taken their
// place: at the status, the first write or flush, a hijack (a WebSocket
// upgrade's 101 is written on the hijacked connection), or the handler's
// return.
type bffWriter struct {
	http.ResponseWriter
	rq       *bffReq
	prepared bool
	// failed: storing failed and the 503 page was written instead; the
	// handler's own answer is dropped.
	failed bool
}

func (w *bffWriter) WriteHeader(code int) {
	if code < 200 && code != http.StatusSwitchingProtocols {
		// 1xx (103 Early Hints) leaves the final header open.
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.prepare(); !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *bffWriter) Write(p []byte) (int, error) {
	if w.prepare(); w.failed {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *bffWriter) Flush() {
	if w.prepare(); !w.failed {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

var errBFFFailed = errors.New("gateway: the session store failed")

func (w *bffWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.prepare(); w.failed {
		return nil, nil, errBFFFailed
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *bffWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// prepare settles the header once. On a session route the token cookies
// the handler wrote (sign-in, sign-out) are stored; on any other route
// the session layer wrote its cookies before the route ran (after took
// them), so token cookies here are not its own and are dropped.
func (w *bffWriter) prepare() {
	if w.prepared {
		return
	}
	w.prepared = true
	rq := w.rq
	h := w.Header()
	var err error
	if rq.auth && !rq.failed {
		err = rq.capture(h)
	} else {
		kept := h["Set-Cookie"][:0:0]
		for _, line := range h["Set-Cookie"] {
			if name, _, _ := parseSetCookie(line); !rq.b.g.tokenCookie(name) && name != rq.b.cookie {
				kept = append(kept, line)
			}
		}
		if len(kept) == 0 {
			delete(h, "Set-Cookie")
		} else {
			h["Set-Cookie"] = kept
		}
	}
	if err != nil {
		w.failed = true
		clear(h)
		rq.b.unavailable(w.ResponseWriter, rq.r, err)
		return
	}
	for _, name := range rq.stale {
		line := name + "=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
		if rq.b.secure {
			line += "; Secure"
		}
		h.Add("Set-Cookie", line)
	}
	if rq.out != "" {
		h.Add("Set-Cookie", rq.out)
	}
	if len(rq.stale) > 0 || rq.out != "" {
		h.Set("Cache-Control", "private, no-store")
		h.Del("Expires")
	}
}
