// Package redact keeps the secrets of a storage or broker URL (its
// password, and query values that name one) out of what Cognate prints:
// banners, logs and errors. It is the one place that knows what in a URL
// is secret.
package redact

import (
	"net/url"
	"strconv"
	"strings"
)

// Unparseable stands in for a storage or broker value that is not a URL:
// it may hold a password anywhere, so none of it is shown.
const Unparseable = "(unparseable URL)"

// URL is how a storage or broker URL appears in banners and logs: scheme,
// user name, host and path, without the password or the query (where a
// password may be given too).
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return Unparseable
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.User != nil {
		r.User = url.User(u.User.Username())
	}
	return r.String()
}

// urlSecrets are the parts of raw that must never be printed: its
// password, and the values of query parameters that name one.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p, url.QueryEscape(p), url.PathEscape(p))
	}
	for k, vs := range u.Query() {
		if k := strings.ToLower(k); strings.Contains(k, "pass") || strings.Contains(k, "secret") || strings.Contains(k, "token") {
			for _, v := range vs {
				if v != "" {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// scrubbedError is an error whose message had the secrets of a URL taken
// out; errors.Is and errors.As still see the original.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// Error returns err with raw (the value of a storage or broker flag) and
// every secret in it taken out of its message, prefixed with the flag's
// name (none when flag is empty): a backend's error may quote the URL it
// could not open. With raw empty (the flag's default) it returns err
// unchanged.
func Error(err error, flag, raw string) error {
	if err == nil || raw == "" {
		return err
	}
	msg := err.Error()
	quoted := strconv.Quote(raw)
	msg = strings.ReplaceAll(msg, quoted[1:len(quoted)-1], URL(raw))
	msg = strings.ReplaceAll(msg, raw, URL(raw))
	for _, s := range urlSecrets(raw) {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	if flag != "" {
		msg = flag + ": " + msg
	}
	return &scrubbedError{msg: msg, err: err}
}
