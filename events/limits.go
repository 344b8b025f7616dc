package events

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Sentinels of the connection caps, each wrapping ErrLimitExceeded: the
// Config field whose cap refused a connection.
var (
	// ErrMaxConnections: Config.MaxConnections.
	ErrMaxConnections = fmt.Errorf("%w: connections per server", ErrLimitExceeded)
	// ErrMaxConnectionsPerAddress: Config.MaxConnectionsPerAddress.
	ErrMaxConnectionsPerAddress = fmt.Errorf("%w: connections per client address", ErrLimitExceeded)
	// ErrMaxConnectionsPerAPIKey: Config.MaxConnectionsPerAPIKey.
	ErrMaxConnectionsPerAPIKey = fmt.Errorf("%w: connections per API key", ErrLimitExceeded)
)

// keySum names an API key in the per-key counts: its SHA-256, as package
// apikeys keeps it, so that the Hub holds no key in clear.
type keySum [sha256.Size]byte

// connLimits counts connections for the caps of Config. Guarded by
// Hub.mu and touched on connect and close only, never per message.
type connLimits struct {
	// open counts the connections registered or being authorized, and
	// perAddr those of each client address: a handshake holds its slot
	// while its credentials are checked, so a flood of slow handshakes is
	// capped too.
	open    int
	perAddr map[string]int
	// perKey counts the registered connections of each API key.
	perKey map[keySum]int
}

func tooMany(sentinel error, format string, limit int) *Error {
	e := limitExceeded(format, limit)
	e.Err = sentinel
	return e
}

// admit reserves a slot for a connection from addr ("" is not counted
// per address), before its credentials are checked.
func (h *Hub) admit(addr string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return AsError(ErrClosed)
	}
	l := &h.limits
	if limit := h.cfg.MaxConnections; limit > 0 && l.open >= limit {
		return tooMany(ErrMaxConnections, "Too many connections: the server allows %d at once.", limit)
	}
	if limit := h.cfg.MaxConnectionsPerAddress; addr != "" && limit > 0 && l.perAddr[addr] >= limit {
		return tooMany(ErrMaxConnectionsPerAddress, "Too many connections from your address: %d are allowed at once.", limit)
	}
	l.open++
	if addr != "" {
		l.perAddr[addr]++
	}
	return nil
}

// releaseLocked gives back the slot admit reserved.
func (h *Hub) releaseLocked(addr string) {
	l := &h.limits
	l.open--
	if addr == "" {
		return
	}
	// Deleted at zero: one map entry per address with open connections,
	// not per address ever seen.
	if n := l.perAddr[addr] - 1; n > 0 {
		l.perAddr[addr] = n
	} else {
		delete(l.perAddr, addr)
	}
}

func (h *Hub) release(addr string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.releaseLocked(addr)
}

// countKeyLocked takes one of c's API key's slots, if c is counted per key.
func (h *Hub) countKeyLocked(c *Conn) error {
	if !c.keyed {
		return nil
	}
	l := &h.limits
	if limit := h.cfg.MaxConnectionsPerAPIKey; l.perKey[c.key] >= limit {
		return tooMany(ErrMaxConnectionsPerAPIKey, "Too many connections with this API key: %d are allowed at once.", limit)
	}
	l.perKey[c.key]++
	return nil
}

func (h *Hub) uncountKeyLocked(c *Conn) {
	if !c.keyed {
		return
	}
	l := &h.limits
	if n := l.perKey[c.key] - 1; n > 0 {
		l.perKey[c.key] = n
	} else {
		delete(l.perKey, c.key)
	}
}

// apiKeySum is the sum of the API key in auth, the one authenticate
// accepted when the identity's AuthType is API_KEY.
func apiKeySum(auth Headers) keySum {
	return sha256.Sum256([]byte(strings.TrimSpace(auth.Get("x-api-key"))))
}
