package events

import (
	"slices"
	"sync"
)

// registry indexes subscriptions by channel: exact ones by path, wildcard
// ones by their prefix ("/ns/a" for "/ns/a/*"). Lists are copied on
// write, so a publish reads them without holding the lock while it
// delivers.
type registry struct {
	mu     sync.RWMutex
	exact  map[string][]*subscription
	prefix map[string][]*subscription
}

func (r *registry) init() {
	r.exact = make(map[string][]*subscription)
	r.prefix = make(map[string][]*subscription)
}

func (r *registry) index(s *subscription) (map[string][]*subscription, string) {
	if s.pattern.Wildcard() {
		return r.prefix, s.pattern.prefix()
	}
	return r.exact, s.pattern.String()
}

func (r *registry) add(s *subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, key := r.index(s)
	old := m[key]
	next := make([]*subscription, len(old), len(old)+1)
	copy(next, old)
	m[key] = append(next, s)
}

func (r *registry) remove(s *subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m, key := r.index(s)
	old := m[key]
	i := slices.Index(old, s)
	if i < 0 {
		return
	}
	if len(old) == 1 {
		delete(m, key)
		return
	}
	next := make([]*subscription, 0, len(old)-1)
	next = append(next, old[:i]...)
	m[key] = append(next, old[i+1:]...)
}

// match fills out with the subscription lists ch is delivered to and
// returns how many it filled.
func (r *registry) match(ch Channel, out *[MaxSegments][]*subscription) int {
	n := 0
	p := ch.String()
	r.mu.RLock()
	if l := r.exact[p]; len(l) > 0 {
		out[n] = l
		n++
	}
	if len(r.prefix) > 0 {
		for i := 1; i < len(p); i++ {
			if p[i] != '/' {
				continue
			}
			if l := r.prefix[p[:i]]; len(l) > 0 {
				out[n] = l
				n++
			}
		}
	}
	r.mu.RUnlock()
	return n
}
