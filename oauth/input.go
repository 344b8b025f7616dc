package oauth

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// storableInput reports whether every query and form parameter of r is
// text that any backend can store: valid UTF-8 without NUL (PostgreSQL's
// text refuses both; no OAuth parameter needs either). A form body is
// read (at most maxFormBytes) and put back for the handler; what does not
// parse is left for the handler to refuse in its own words.
func storableInput(r *http.Request) bool {
	if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && !storableValues(q) {
		return false
	}
	if r.Method != http.MethodPost || r.Body == nil {
		return true
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return true
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	if err != nil || len(body) > maxFormBytes {
		return true
	}
	form, err := url.ParseQuery(string(body))
	return err != nil || storableValues(form)
}

func storableValues(vals url.Values) bool {
	for k, vs := range vals {
		if !storable(k) {
			return false
		}
		for _, v := range vs {
			if !storable(v) {
				return false
			}
		}
	}
	return true
}

func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// refuseInput answers a request storableInput refused: JSON at the
// endpoints that speak it, a plain page elsewhere; nothing ran.
func refuseInput(w http.ResponseWriter, r *http.Request) {
	const desc = "A parameter is not valid UTF-8 text or contains a NUL character."
	switch r.URL.Path {
	case TokenPath, RevokePath:
		writeTokenError(w, badRequest("invalid_request", desc))
	default:
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "Bad request: "+desc, http.StatusBadRequest)
	}
}
