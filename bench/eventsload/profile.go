package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"time"
)

// profiler fetches profiles from a server's net/http/pprof endpoint (as
// bench/profserve serves it) while phases run.
type profiler struct {
	base string // e.g. http://127.0.0.1:6060
	dir  string
	done chan struct{}
}

// cpu takes a CPU profile of d into dir/name.cpu.prof in the background;
// wait collects it.
func (p *profiler) cpu(ctx context.Context, name string, d time.Duration) {
	if p == nil {
		return
	}
	p.done = make(chan struct{})
	secs := max(int(d.Seconds()), 1)
	go func() {
		defer close(p.done)
		p.fetch(ctx, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), name+".cpu.prof")
	}()
}

func (p *profiler) wait() {
	if p != nil && p.done != nil {
		<-p.done
		p.done = nil
	}
}

// snapshot saves the heap profile, the heap profile as text (it ends
// with the runtime's MemStats: heap, stacks, GC) and the goroutines.
func (p *profiler) snapshot(ctx context.Context, name string) {
	if p == nil {
		return
	}
	p.fetch(ctx, "/debug/pprof/heap", name+".heap.prof")
	p.fetch(ctx, "/debug/pprof/heap?debug=1", name+".heap.txt")
	p.fetch(ctx, "/debug/pprof/goroutine?debug=1", name+".goroutines.txt")
}

func (p *profiler) fetch(ctx context.Context, path, file string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventsload: profile:", err)
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventsload: profile:", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "eventsload: profile %s: %s\n", path, resp.Status)
		return
	}
	f, err := os.Create(filepath.Join(p.dir, file))
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventsload: profile:", err)
		return
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		fmt.Fprintln(os.Stderr, "eventsload: profile:", err)
	}
}

// servePprof serves net/http/pprof on addr, for profiling the baseline
// the way bench/profserve lets one profile Cognate.
func servePprof(ctx context.Context, addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Addr: addr, Handler: mux}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "eventsload: pprof:", err)
	}
}
