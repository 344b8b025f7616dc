package events

import (
	"slices"
	"sync"
)

// registry indexes subscriptions by channel: exact ones by path, wildcard
// ones by their prefix ("/ns/a" for "/ns/a/*"). A publish takes a list's
// slice header under the read lock and delivers without the lock, so a
// list must never change within a length a reader may hold: add appends
// past the end (amortised O(1): subscribing 10,000 connections to one
// channel copied 400 MB when every add copied the list), remove makes a
// new list.
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
	m[key] = append(m[key], s)
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
