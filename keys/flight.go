package keys

import (
	"context"
	"sync"
)

// flight de-duplicates concurrent key loads of one pool: the first caller
// starts the load in its own goroutine, later callers wait for the same
// result. Each caller stops waiting when its own context ends, without
// cancelling the load for the others.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done chan struct{}
	ks   *keySet
	err  error
}

// do runs fn for key unless a run is under way, and waits for the run's
// result. shared reports that the run was started by another caller (so it
// may have begun before this call).
func (f *flight) do(ctx context.Context, key string, fn func() (*keySet, error)) (ks *keySet, shared bool, err error) {
	f.mu.Lock()
	c, shared := f.calls[key]
	if !shared {
		if f.calls == nil {
			f.calls = make(map[string]*flightCall)
		}
		c = &flightCall{done: make(chan struct{})}
		f.calls[key] = c
		go func() {
			defer close(c.done)
			c.ks, c.err = fn()
			// Leave the map before done is closed, so that a caller
			// that has seen this result starts a new run.
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
		}()
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.ks, shared, c.err
	case <-ctx.Done():
		return nil, shared, ctx.Err()
	}
}
