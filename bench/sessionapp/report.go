package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// sample is one wrk run, as bench/session.sh writes it to results.jsonl.
type sample struct {
	Run        int     `json:"run"`
	Target     string  `json:"target"` // go-bare, go-mw, node-bare, node-mw
	Requests   int64   `json:"requests"`
	DurationUS int64   `json:"duration_us"`
	Errors     int64   `json:"errors"` // socket errors + non-2xx answers + wrong bodies
	P50US      float64 `json:"p50_us"`
	P99US      float64 `json:"p99_us"`
	ServerCPU  float64 `json:"server_cpu_s"` // server's user+system CPU during the measured window
	DriverCPU  float64 `json:"driver_cpu_s"` // wrk's, warm-up excluded
	// CoreBusy and CoreSoftirq are the server CPU's non-idle and softirq
	// (loopback network) time in the window, whoever used it. With tick
	// accounting, a softirq tick is also charged to the process it
	// interrupted, so the server's own network work is in ServerCPU.
	CoreBusy    float64 `json:"core_busy_s"`
	CoreSoftirq float64 `json:"core_softirq_s"`

	file int // index of the results file among those reported together
}

// round names a round: its results file and its number there.
type round struct{ file, run int }

// others is the time other processes took on the server's CPU in the
// window: what disturbs a run on a shared machine.
func (s sample) others() float64 { return max(0, s.CoreBusy-s.ServerCPU) }

// undisturbed: the CPU's time is known and others took at most quietShare.
func (s sample) undisturbed() bool { return s.CoreBusy > 0 && s.busy(s.others()) <= quietShare }

func (s sample) rps() float64 { return float64(s.Requests) / (float64(s.DurationUS) / 1e6) }

// cpuPerReq is the server's CPU per request in µs (0 when unknown).
func (s sample) cpuPerReq() float64 {
	if s.Requests == 0 {
		return 0
	}
	return s.ServerCPU * 1e6 / float64(s.Requests)
}

// busy is the share of one core the server (or driver) used.
func (s sample) busy(cpu float64) float64 { return cpu / (float64(s.DurationUS) / 1e6) }

// targets in table order; ratios name pairs of them.
var targets = []string{"go-bare", "go-mw", "node-bare", "node-mw"}

type ratio struct{ name, num, den, target string }

var ratios = []ratio{
	{"Go: middleware / bare", "go-mw", "go-bare", "≥ 0.9"},
	{"Node: aws-jwt-verify / bare", "node-mw", "node-bare", ""},
	{"Go middleware / Node aws-jwt-verify", "go-mw", "node-mw", ""},
	{"Go bare / Node bare (the HTTP stacks)", "go-bare", "node-bare", ""},
}

// readSamples reads the samples of each comma-separated results file.
func readSamples(paths string) ([]sample, error) {
	var all []sample
	for i, p := range strings.Split(paths, ",") {
		ss, err := readFile(p)
		if err != nil {
			return nil, err
		}
		for j := range ss {
			ss[j].file = i
		}
		all = append(all, ss...)
	}
	return all, nil
}

func readFile(path string) ([]sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var s sample
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if s.DurationUS <= 0 || !slices.Contains(targets, s.Target) {
			return nil, fmt.Errorf("%s:%d: not a sample of a known target", path, n)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// median of xs (xs is reordered); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// spread is "median (min–max)" of xs with format f.
func spread(xs []float64, f string) string {
	if len(xs) == 0 {
		return "n/a"
	}
	med := median(xs) // sorts xs
	if len(xs) == 1 {
		return fmt.Sprintf(f, med)
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", med, xs[0], xs[len(xs)-1])
}

func report(out io.Writer, resultsPath, gobenchPath string) error {
	samples, err := readSamples(resultsPath)
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		return errors.New("no samples")
	}
	w := &errWriter{w: out}
	writeThroughput(w, samples)
	writeRatios(w, samples)
	if gobenchPath != "" {
		b, err := os.ReadFile(gobenchPath)
		if err != nil {
			return err
		}
		writeGoBench(w, parseGoBench(string(b)))
	}
	return w.err
}

func writeThroughput(w *errWriter, samples []sample) {
	w.printf("| server | requests/s, median (min–max) | p50 / p99 ms (medians) | server CPU per request | server process busy (of it softirq) | other processes on its CPU | driver busy | errors |\n")
	w.printf("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, t := range targets {
		var rps, p50, p99, cpu, busy, dbusy, soft, other []float64
		var errs int64
		for _, s := range samples {
			if s.Target != t {
				continue
			}
			rps = append(rps, s.rps())
			p50 = append(p50, s.P50US/1e3)
			p99 = append(p99, s.P99US/1e3)
			cpu = append(cpu, s.cpuPerReq())
			busy = append(busy, 100*s.busy(s.ServerCPU))
			dbusy = append(dbusy, 100*s.busy(s.DriverCPU))
			soft = append(soft, 100*s.busy(s.CoreSoftirq))
			other = append(other, 100*s.busy(s.others()))
			errs += s.Errors
		}
		if len(rps) == 0 {
			continue
		}
		w.printf("| %s | %s | %.2f / %.2f | %s µs | %s %% (%.0f %%) | %s %% | %s %% | %d |\n", t, spread(rps, "%.0f"),
			median(p50), median(p99), spread(cpu, "%.1f"), spread(busy, "%.0f"), median(soft), spread(other, "%.0f"),
			spread(dbusy, "%.0f"), errs)
	}
	w.printf("\n")
}

// quietShare is the most other processes may take of the server's CPU
// for a pair of samples to count as undisturbed.
const quietShare = 0.05

// writeRatios pairs the targets run by run (same run = same machine
// state) and reports the median of the per-run ratios, by throughput and
// by server CPU per request; and by throughput again over the pairs in
// which no other process took more than quietShare of the server's CPU.
func writeRatios(w *errWriter, samples []sample) {
	byRun := map[round]map[string]sample{}
	files := 0
	for _, s := range samples {
		k := round{s.file, s.Run}
		if byRun[k] == nil {
			byRun[k] = map[string]sample{}
		}
		byRun[k][s.Target] = s
		files = max(files, s.file+1)
	}
	w.printf("| ratio | by requests/s, median of per-run ratios (min–max) | by server CPU per request | by requests/s, undisturbed runs only | target |\n")
	w.printf("|---|---:|---:|---:|---|\n")
	for _, r := range ratios {
		var byRPS, byCPU, quiet []float64
		for _, run := range byRun {
			n, okN := run[r.num]
			d, okD := run[r.den]
			if !okN || !okD {
				continue
			}
			byRPS = append(byRPS, n.rps()/d.rps())
			if n.cpuPerReq() > 0 {
				byCPU = append(byCPU, d.cpuPerReq()/n.cpuPerReq())
			}
			if n.undisturbed() && d.undisturbed() {
				quiet = append(quiet, n.rps()/d.rps())
			}
		}
		if len(byRPS) == 0 {
			continue
		}
		q := "none"
		if len(quiet) > 0 {
			q = fmt.Sprintf("%s, %d of %d", spread(quiet, "%.3f"), len(quiet), len(byRPS))
		}
		w.printf("| %s | %s | %s | %s | %s |\n", r.name, spread(byRPS, "%.3f"), spread(byCPU, "%.3f"), q, r.target)
	}
	w.printf("\n(%d rounds from %d results file(s); undisturbed: other processes took at most %.0f %% of the server's CPU during both runs of the pair)\n\n",
		len(byRun), files, 100*quietShare)
}

// goBench is one benchmark's results over -count runs: unit → values.
type goBench struct {
	name    string
	metrics map[string][]float64
	units   []string // in order of first appearance
}

// parseGoBench reads `go test -bench` output: "BenchmarkX[-N] iters v unit v unit …".
func parseGoBench(text string) []*goBench {
	var order []*goBench
	byName := map[string]*goBench{}
	for line := range strings.Lines(text) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue
		}
		b := byName[f[0]]
		if b == nil {
			b = &goBench{name: f[0], metrics: map[string][]float64{}}
			byName[f[0]] = b
			order = append(order, b)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			u := f[i+1]
			if _, ok := b.metrics[u]; !ok {
				b.units = append(b.units, u)
			}
			b.metrics[u] = append(b.metrics[u], v)
		}
	}
	return order
}

func writeGoBench(w *errWriter, benches []*goBench) {
	if len(benches) == 0 {
		w.printf("(no go test -bench results)\n")
		return
	}
	w.printf("| benchmark | ns/op, median (min–max) | other metrics (medians) |\n|---|---:|---|\n")
	for _, b := range benches {
		var other []string
		for _, u := range b.units {
			if u == "ns/op" {
				continue
			}
			other = append(other, fmt.Sprintf("%s %s", trimFloat(median(b.metrics[u])), u))
		}
		w.printf("| %s | %s | %s |\n", strings.TrimPrefix(b.name, "Benchmark"), spread(b.metrics["ns/op"], "%.0f"), strings.Join(other, ", "))
	}
	w.printf("\n")
}

// trimFloat prints whole numbers from 1,000 up without decimals, smaller ones to 3 significant digits.
func trimFloat(v float64) string {
	if v >= 1000 || v <= -1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
