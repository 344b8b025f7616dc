package events

// OpenCounts reports what the connection caps count now: connections
// registered or being authorized, and the client addresses and API keys
// holding any.
func (h *Hub) OpenCounts() (open, addrs, keys int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.limits.open, len(h.limits.perAddr), len(h.limits.perKey)
}
