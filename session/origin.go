package session

import (
	"net/http"
	"net/url"
	"strings"
)

// safePath returns p when it is a path on this origin that a redirect
// may go to, else "". It rejects absolute and scheme-relative URLs ("//x",
// "/\x"), backslashes and control characters anywhere, and anything a
// browser could read as another host.
func safePath(p string) string {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) {
		return ""
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return p
}

// sameOriginReferer is the Referer's path when it is on origin.
func sameOriginReferer(r *http.Request, origin string) string {
	u, err := url.Parse(r.Header.Get("Referer"))
	if err != nil || strings.ToLower(u.Scheme+"://"+u.Host) != origin {
		return ""
	}
	return safePath(u.RequestURI())
}

// crossSite reports whether the browser says r was started by another
// site (Sec-Fetch-Site), or, without that header, whether Origin or
// Referer name another origin.
func crossSite(r *http.Request, origin string) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	if o := r.Header.Get("Origin"); o != "" {
		return o != origin
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		return err != nil || strings.ToLower(u.Scheme+"://"+u.Host) != origin
	}
	return false
}

// sameOrigin is the stricter check of cookie-authenticated endpoints that
// scripts call: Sec-Fetch-Site, when sent, must be same-origin, and
// Origin, when sent, must be the app's.
func sameOrigin(r *http.Request, origin string) bool {
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != origin {
		return false
	}
	return true
}
