package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// interleaveConfig is the -interleave mode: two URLs of one server
// driven in alternating short windows, so that the machine's drift (the
// shared VM's CPU changes speed from one second to the next) falls on
// both alike. wrk's 2–5 s runs of one URL after the other left per-round
// ratios between 0.5 and 1.4 for the same code.
type interleaveConfig struct {
	urls       [2]string
	wants      [2]string
	labels     [2]string
	cookie     string
	conns      int
	window     time.Duration
	duration   time.Duration
	serverPID  int
	outputJSON string
}

// parse fills the URLs, bodies and labels from comma-separated lists and
// the cookie from its file.
func (c *interleaveConfig) parse(urls, cookieFile, wants, labels string) error {
	u, w, l := strings.Split(urls, ","), strings.Split(wants, ","), strings.Split(labels, ",")
	if len(u) != 2 || len(w) != 2 || len(l) != 2 || cookieFile == "" || c.conns < 1 || c.window <= 0 {
		return fmt.Errorf("%w: -interleave needs two URLs, -want with two bodies, two -labels, -cookie-file, -conns ≥ 1 and a -window", errUsage)
	}
	b, err := os.ReadFile(cookieFile)
	if err != nil {
		return err
	}
	c.cookie = strings.TrimSpace(string(b))
	copy(c.urls[:], u)
	copy(c.wants[:], w)
	copy(c.labels[:], l)
	return nil
}

// windowResult is what one window measured.
type windowResult struct {
	which    int
	requests int64
	elapsed  time.Duration
	cpu      time.Duration
}

// interleaveResult is the summary of one -interleave run.
type interleaveResult struct {
	Labels        [2]string  `json:"labels"`
	Windows       int        `json:"windows"`
	WindowMS      float64    `json:"window_ms"`
	Conns         int        `json:"conns"`
	Requests      [2]int64   `json:"requests"`
	Seconds       [2]float64 `json:"seconds"`
	RPS           [2]float64 `json:"rps"`
	CPUPerRequest [2]float64 `json:"server_cpu_us_per_request"`
	Ratio         float64    `json:"rps_ratio"`
	CPURatio      float64    `json:"cpu_ratio"`
	Errors        int64      `json:"errors"`
}

// interleave alternates the two URLs in windows A B B A A B B A …, all
// connections on the same URL at a time; requests count for the window
// they were sent in. The server's CPU time (all its threads, from
// /proc/PID/task/*/schedstat, in nanoseconds) is read at every switch.
func interleave(ctx context.Context, cfg interleaveConfig, out io.Writer) error {
	u, err := url.Parse(cfg.urls[0])
	if err != nil || u.Scheme != "http" {
		return fmt.Errorf("%w: -interleave takes two http:// URLs of one server", errUsage)
	}
	var reqs [2][]byte
	for i, raw := range cfg.urls {
		p, err := url.Parse(raw)
		if err != nil || p.Host != u.Host {
			return fmt.Errorf("%w: -interleave URLs must be on one host: %s", errUsage, raw)
		}
		reqs[i] = []byte("GET " + p.RequestURI() + " HTTP/1.1\r\nHost: " + p.Host + "\r\nCookie: " + cfg.cookie + "\r\n\r\n")
	}
	var (
		phase  atomic.Int32
		counts [2]atomic.Int64
		errs   atomic.Int64
		stop   atomic.Bool
		wg     sync.WaitGroup
	)
	for range cfg.conns {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			return err
		}
		defer c.Close()
		// Every connection checks both answers once before the run.
		br := bufio.NewReaderSize(c, 16<<10)
		for i := range reqs {
			if err := roundTrip(c, br, reqs[i], cfg.wants[i]); err != nil {
				return fmt.Errorf("%s: %w", cfg.urls[i], err)
			}
		}
		wg.Go(func() {
			for !stop.Load() {
				which := phase.Load()
				if err := roundTrip(c, br, reqs[which], ""); err != nil {
					errs.Add(1)
					return
				}
				counts[which].Add(1)
			}
		})
	}
	order := [4]int32{0, 1, 1, 0}
	var windows []windowResult
	cpu0, err := serverCPU(cfg.serverPID)
	if err != nil {
		return err
	}
	start := time.Now()
	for i := 0; time.Since(start) < cfg.duration && ctx.Err() == nil && errs.Load() == 0; i++ {
		which := order[i%4]
		phase.Store(which)
		before := counts[which].Load()
		t0 := time.Now()
		time.Sleep(cfg.window)
		elapsed := time.Since(t0)
		cpu1, err := serverCPU(cfg.serverPID)
		if err != nil {
			return err
		}
		windows = append(windows, windowResult{which: int(which), requests: counts[which].Load() - before, elapsed: elapsed, cpu: cpu1 - cpu0})
		cpu0 = cpu1
	}
	stop.Store(true)
	wg.Wait()
	res := summarize(cfg, windows, errs.Load())
	if cfg.outputJSON != "" {
		b, _ := json.Marshal(res)
		if err := os.WriteFile(cfg.outputJSON, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "interleaved %d windows of %v, %d connections: %s %.0f/s (%.1f µs server CPU each), %s %.0f/s (%.1f µs); ratio %.3f by requests/s, %.3f by server CPU per request; errors %d\n",
		res.Windows, cfg.window, cfg.conns, res.Labels[0], res.RPS[0], res.CPUPerRequest[0], res.Labels[1], res.RPS[1], res.CPUPerRequest[1], res.Ratio, res.CPURatio, res.Errors)
	if res.Errors > 0 {
		return fmt.Errorf("%d requests failed", res.Errors)
	}
	return nil
}

func summarize(cfg interleaveConfig, windows []windowResult, errs int64) interleaveResult {
	res := interleaveResult{Labels: cfg.labels, Windows: len(windows), WindowMS: float64(cfg.window) / float64(time.Millisecond), Conns: cfg.conns, Errors: errs}
	var cpu [2]time.Duration
	for _, w := range windows {
		res.Requests[w.which] += w.requests
		res.Seconds[w.which] += w.elapsed.Seconds()
		cpu[w.which] += w.cpu
	}
	for i := range 2 {
		if res.Seconds[i] > 0 && res.Requests[i] > 0 {
			res.RPS[i] = float64(res.Requests[i]) / res.Seconds[i]
			res.CPUPerRequest[i] = float64(cpu[i].Microseconds()) / float64(res.Requests[i])
		}
	}
	if res.RPS[0] > 0 && res.CPUPerRequest[1] > 0 {
		res.Ratio = res.RPS[1] / res.RPS[0]
		res.CPURatio = res.CPUPerRequest[0] / res.CPUPerRequest[1]
	}
	return res
}

// roundTrip sends one request and reads its response; want, when set,
// must be the body.
func roundTrip(c net.Conn, br *bufio.Reader, req []byte, want string) error {
	if _, err := c.Write(req); err != nil {
		return err
	}
	status, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("status %q", bytes.TrimSpace(status))
	}
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if name, value, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(name), "Content-Length") {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return fmt.Errorf("content-length %q", value)
			}
		}
	}
	if length < 0 {
		return errors.New("no Content-Length")
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(br, body); err != nil {
		return err
	}
	if want != "" && string(body) != want {
		return fmt.Errorf("body %q, want %q", body, want)
	}
	return nil
}

// serverCPU is the CPU time the process has used so far, summed over its
// threads' schedstat (nanoseconds, unlike /proc/PID/stat's ticks).
func serverCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(paths) == 0 {
		return 0, fmt.Errorf("reading the server's CPU time: no /proc/%d/task/*/schedstat", pid)
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
			return 0, fmt.Errorf("%s: %q", p, b)
		}
		total += time.Duration(ns)
	}
	return total, nil
}
