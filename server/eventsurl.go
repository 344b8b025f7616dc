package server

import (
	"net"
	"net/url"
	"strings"
)

// eventsURL is the events endpoint apps should be given. Amplify turns any
// endpoint into wss:// for the WebSocket, so it must be HTTPS: the public
// URL when that is HTTPS, else the local HTTPS listener (by the name the
// local CA signs for).
func eventsURL(cfg *Config, httpsOn bool) string {
	base := strings.TrimRight(cfg.PublicURL, "/")
	if u, err := url.Parse(base); err == nil && u.Scheme == "https" || !httpsOn {
		return base + "/event"
	}
	_, port, err := net.SplitHostPort(cfg.TLSAddr)
	if err != nil {
		return base + "/event"
	}
	return "https://localhost:" + port + "/event"
}
