package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type driveConfig struct {
	enabled          bool
	cookieFile       string
	path, streamPath string
	conns            int
	window, duration time.Duration
	warm             time.Duration
	latency          int
	round, serverCPU int
	outFile          string
	targets          []*target
}

// target is one server the driver measures: its URL, the processes
// whose CPU time is its cost (the front one first: the proxy), and the
// Cookie header it gets.
type target struct {
	label  string
	u      *url.URL
	pids   []int
	cookie string
	req    []byte
	stream []byte
}

func (d *driveConfig) parseTargets(specs []string) error {
	if len(specs) < 1 || d.conns < 1 || d.window <= 0 || d.duration < d.window {
		return fmt.Errorf("%w: -drive needs -target (one or more), -conns ≥ 1 and -duration ≥ -window > 0", errUsage)
	}
	cookie := ""
	if d.cookieFile != "" {
		b, err := os.ReadFile(d.cookieFile)
		if err != nil {
			return err
		}
		cookie = strings.TrimSpace(string(b))
	}
	for _, s := range specs {
		f := strings.Split(s, ",")
		if len(f) < 3 || len(f) > 4 {
			return fmt.Errorf("%w: -target %q: want label,URL,PID[+PID…][,cookie file]", errUsage, s)
		}
		t := &target{label: f[0], cookie: cookie}
		u, err := url.Parse(f[1])
		if err != nil || u.Scheme != "http" || u.Host == "" {
			return fmt.Errorf("%w: -target %q: an http:// URL", errUsage, s)
		}
		t.u = u
		for p := range strings.SplitSeq(f[2], "+") {
			pid, err := strconv.Atoi(p)
			if err != nil || pid <= 0 {
				return fmt.Errorf("%w: -target %q: PID %q", errUsage, s, p)
			}
			t.pids = append(t.pids, pid)
		}
		if len(f) == 4 && f[3] != "" {
			b, err := os.ReadFile(f[3])
			if err != nil {
				return err
			}
			t.cookie = strings.TrimSpace(string(b))
		}
		t.req = request(u, d.path, t.cookie)
		t.stream = request(u, d.streamPath, t.cookie)
		d.targets = append(d.targets, t)
	}
	return nil
}

// result is one target's figures in one round (a line of results.jsonl).
type result struct {
	Round    int     `json:"round"`
	Label    string  `json:"label"`
	Baseline string  `json:"baseline"`
	Conns    int     `json:"conns"`
	Windows  int     `json:"windows"`
	Requests int64   `json:"requests"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	// CPUus: the target's processes (proxy and app), µs per request;
	// FrontCPUus: the first of them (the proxy; the app itself for the
	// direct target).
	CPUus      float64 `json:"server_cpu_us_per_request"`
	FrontCPUus float64 `json:"front_cpu_us_per_request"`
	// CoreBusy is the server CPU's non-idle time in this target's
	// windows; Others what processes other than the benchmark's servers
	// took of it.
	CoreBusy  float64 `json:"core_busy_s"`
	Others    float64 `json:"others_s"`
	DriverCPU float64 `json:"driver_cpu_s"`
	SetCookie int64   `json:"set_cookie_responses"`
	Errors    int64   `json:"errors"`
	// Streamed response, one request at a time: from the request's
	// write to the end of the first and of the last chunk, µs.
	LatN         int     `json:"latency_samples"`
	FirstP50     float64 `json:"first_chunk_p50_us"`
	FirstP99     float64 `json:"first_chunk_p99_us"`
	LastP50      float64 `json:"last_chunk_p50_us"`
	LastP99      float64 `json:"last_chunk_p99_us"`
	LatencyError string  `json:"latency_error,omitempty"`
}

type acc struct {
	requests           int64
	seconds            float64
	cpu, front, others time.Duration
	busy, driver       float64
	windows            int
}

func drive(ctx context.Context, d driveConfig, out io.Writer) error {
	n := len(d.targets)
	// Check every target once: 200 and the baseline's body.
	var want []byte
	for _, t := range d.targets {
		c, err := dial(t.u)
		if err != nil {
			return fmt.Errorf("%s: %w", t.label, err)
		}
		res, err := c.roundTrip(t.req, true)
		c.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", t.label, err)
		}
		if res.status != 200 {
			return fmt.Errorf("%s: %s answered %d", t.label, d.path, res.status)
		}
		if want == nil {
			want = res.body
		} else if !bytes.Equal(res.body, want) {
			return fmt.Errorf("%s: body %q differs from %s's", t.label, res.body, d.targets[0].label)
		}
	}

	var (
		phase    atomic.Int32
		counts   = make([]atomic.Int64, n)
		sets     = make([]atomic.Int64, n)
		errs     = make([]atomic.Int64, n)
		firstErr atomic.Value
		stop     atomic.Bool
		wg       sync.WaitGroup
	)
	for range d.conns {
		cs := make([]*conn, n)
		for i, t := range d.targets {
			c, err := dial(t.u)
			if err != nil {
				return fmt.Errorf("%s: %w", t.label, err)
			}
			defer c.Close()
			cs[i] = c
		}
		wg.Go(func() {
			for !stop.Load() {
				which := phase.Load()
				res, err := cs[which].roundTrip(d.targets[which].req, false)
				if err == nil && res.status != 200 {
					err = fmt.Errorf("status %d", res.status)
				}
				if err != nil {
					errs[which].Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", d.targets[which].label, err))
					return
				}
				if res.setCookie {
					sets[which].Add(1)
				}
				counts[which].Add(1)
			}
		})
	}
	failed := func() bool {
		for i := range errs {
			if errs[i].Load() > 0 {
				return true
			}
		}
		return false
	}
	for i := range d.targets {
		phase.Store(int32(i))
		time.Sleep(d.warm)
	}

	pids := map[int]bool{}
	for _, t := range d.targets {
		for _, p := range t.pids {
			pids[p] = true
		}
	}
	cpu0, err := cpuOf(pids)
	if err != nil {
		return err
	}
	busy0, err := coreBusy(d.serverCPU)
	if err != nil {
		return err
	}
	self0 := selfCPU()
	accs := make([]acc, n)
	total := int(d.duration/d.window) * n
	for i := 0; i < total && ctx.Err() == nil && !failed(); i++ {
		k := i % (2 * n)
		if k >= n {
			k = 2*n - 1 - k
		}
		phase.Store(int32(k))
		before := counts[k].Load()
		t0 := time.Now()
		time.Sleep(d.window)
		elapsed := time.Since(t0)
		after := counts[k].Load()
		cpu1, err := cpuOf(pids)
		if err != nil {
			return err
		}
		busy1, _ := coreBusy(d.serverCPU)
		self1 := selfCPU()
		a := &accs[k]
		a.windows++
		a.requests += after - before
		a.seconds += elapsed.Seconds()
		var all time.Duration
		for p := range pids {
			all += cpu1[p] - cpu0[p]
		}
		for j, p := range d.targets[k].pids {
			a.cpu += cpu1[p] - cpu0[p]
			if j == 0 {
				a.front += cpu1[p] - cpu0[p]
			}
		}
		a.busy += busy1 - busy0
		a.others += max(0, time.Duration((busy1-busy0)*1e9)-all)
		a.driver += self1 - self0
		cpu0, busy0, self0 = cpu1, busy1, self1
	}
	stop.Store(true)
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return fmt.Errorf("throughput run: %s", e)
	}

	results := make([]result, n)
	for i, t := range d.targets {
		a := accs[i]
		r := &results[i]
		*r = result{Round: d.round, Label: t.label, Baseline: d.targets[0].label, Conns: d.conns, Windows: a.windows,
			Requests: a.requests, Seconds: a.seconds, CoreBusy: a.busy, Others: a.others.Seconds(), DriverCPU: a.driver,
			SetCookie: sets[i].Load(), Errors: errs[i].Load()}
		if a.seconds > 0 && a.requests > 0 {
			r.RPS = float64(a.requests) / a.seconds
			r.CPUus = float64(a.cpu.Nanoseconds()) / 1e3 / float64(a.requests)
			r.FrontCPUus = float64(a.front.Nanoseconds()) / 1e3 / float64(a.requests)
		}
	}
	if d.latency > 0 {
		if err := latency(ctx, d, results); err != nil {
			return err
		}
	}
	var lines bytes.Buffer
	for _, r := range results {
		b, _ := json.Marshal(r)
		lines.Write(append(b, '\n'))
		fmt.Fprintf(out, "round %d %-14s %8.0f req/s  %6.1f µs CPU/req (front %5.1f)  others %4.1f%%  set-cookie %d  stream first p50/p99 %6.0f/%6.0f µs, last %6.0f/%6.0f µs\n",
			r.Round, r.Label, r.RPS, r.CPUus, r.FrontCPUus, 100*r.Others/max(r.Seconds, 1e-9), r.SetCookie, r.FirstP50, r.FirstP99, r.LastP50, r.LastP99)
	}
	if d.outFile != "" {
		f, err := os.OpenFile(d.outFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := f.Write(lines.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// latency sends the streamed request to each target in turn, one at a
// time (each round starts at the next target), on one keep-alive
// connection per target, and fills the results' percentiles.
func latency(ctx context.Context, d driveConfig, results []result) error {
	n := len(d.targets)
	cs := make([]*conn, n)
	for i, t := range d.targets {
		c, err := dial(t.u)
		if err != nil {
			return fmt.Errorf("%s: %w", t.label, err)
		}
		defer c.Close()
		cs[i] = c
	}
	first := make([][]float64, n)
	last := make([][]float64, n)
	var want []byte
	for i := 0; i < d.latency+5 && ctx.Err() == nil; i++ {
		for j := range n {
			k := (i + j) % n
			res, err := cs[k].roundTrip(d.targets[k].stream, i < 5)
			if err == nil && res.status != 200 {
				err = fmt.Errorf("status %d", res.status)
			}
			if err == nil && i < 5 {
				if want == nil {
					want = res.body
				} else if !bytes.Equal(res.body, want) {
					err = fmt.Errorf("streamed body of %d bytes differs from the first target's %d", len(res.body), len(want))
				}
			}
			if err != nil {
				return fmt.Errorf("stream, %s: %w", d.targets[k].label, err)
			}
			if i >= 5 { // the first five are warm-up and checks
				first[k] = append(first[k], float64(res.first.Nanoseconds())/1e3)
				last[k] = append(last[k], float64(res.last.Nanoseconds())/1e3)
			}
		}
	}
	for k := range n {
		r := &results[k]
		r.LatN = len(first[k])
		r.FirstP50, r.FirstP99 = percentile(first[k], 50), percentile(first[k], 99)
		r.LastP50, r.LastP99 = percentile(last[k], 50), percentile(last[k], 99)
	}
	return nil
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s)-1)*p/100 + 0.5)
	return s[i]
}

// cpuOf is each process's CPU time so far, summed over its threads'
// schedstat (nanoseconds).
func cpuOf(pids map[int]bool) (map[int]time.Duration, error) {
	out := make(map[int]time.Duration, len(pids))
	for pid := range pids {
		paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
		if err != nil || len(paths) == 0 {
			return nil, fmt.Errorf("no /proc/%d/task/*/schedstat: is the server running?", pid)
		}
		var total time.Duration
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue // a thread that ended
			}
			f := strings.Fields(string(b))
			if len(f) == 0 {
				continue
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %q", p, b)
			}
			total += time.Duration(ns)
		}
		out[pid] = total
	}
	return out, nil
}

// coreBusy is CPU cpu's non-idle time since boot, in seconds, from
// /proc/stat (user nice system irq softirq steal).
func coreBusy(cpu int) (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	name := "cpu" + strconv.Itoa(cpu)
	for line := range strings.SplitSeq(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || f[0] != name {
			continue
		}
		var ticks int64
		for _, i := range []int{1, 2, 3, 6, 7, 8} {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			ticks += v
		}
		return float64(ticks) / 100, nil // USER_HZ is 100 on Linux
	}
	return 0, errors.New("/proc/stat has no " + name)
}

// selfCPU is the driver's own CPU time so far, seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
