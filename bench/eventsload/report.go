package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// summary is the phase in one line.
func (p phaseResult) summary() string {
	var s string
	switch {
	case p.Connections > 0 && p.BytesPerConn != 0:
		s = fmt.Sprintf("%.0f bytes per connection (RSS %d → %d KiB)", p.BytesPerConn, p.RSSBeforeKB, p.RSSLoadedKB)
		if p.RSSAfterGCKB > 0 {
			s += fmt.Sprintf("; after %.0f s %.0f bytes (RSS %d KiB)", p.Seconds, p.BytesPerConnAfterGC, p.RSSAfterGCKB)
		}
	case p.ConnectsPerSec > 0:
		s = fmt.Sprintf("%s connections/s (%d in %.2f s), p50 %.1f ms p99 %.1f ms", num(p.ConnectsPerSec), p.Connections, p.Seconds, p.P50Ms, p.P99Ms)
	default:
		s = fmt.Sprintf("%s deliveries/s, p50 %.2f ms p99 %.2f ms max %.1f ms (%d samples), %.1f per server write", num(p.DeliveriesPerSec), p.P50Ms, p.P99Ms, p.MaxMs, p.Samples, p.DeliveriesPerWrite)
	}
	if p.ServerBusy > 0 {
		s += fmt.Sprintf("; server core %.0f%% (kernel %.0f%% of it)", 100*p.ServerBusy, 100*p.ServerSysShare)
	}
	if p.ServerCoreOthers > 0.05 || p.ServerCoreSteal > 0.05 {
		s += fmt.Sprintf(" NOISY: others %.0f%%, steal %.0f%% of the server's CPU", 100*p.ServerCoreOthers, 100*p.ServerCoreSteal)
	}
	if p.DriverBusy > 0 {
		s += fmt.Sprintf(", driver core %.0f%%", 100*p.DriverBusy)
	}
	if !p.OK {
		s += " — FAILED: " + p.Error
	}
	for _, d := range p.Discarded {
		s += " [a disturbed run failed: " + d + "]"
	}
	return s
}

// num formats a rate with thousands separators.
func num(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\n%s at %s: %d subscribers, %d-byte events, %.0f s warm-up; driver GOMAXPROCS %d, %s reader, RLIMIT_NOFILE %d\n\n",
		r.Label, r.Target, r.Subscribers, r.EventBytes, r.WarmupSec, r.GOMAXPROCS, r.Reader, r.NoFile)
	fmt.Fprintln(w, "| phase | what | result | p50 / p99 / max ms | server CPU per op | server core (kernel share) | driver core | status |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---|")
	for _, p := range r.Phases {
		var res, lat string
		switch {
		case p.BytesPerConn != 0:
			res = fmt.Sprintf("%s B/conn", num(p.BytesPerConn))
			if p.RSSAfterGCKB > 0 {
				res += fmt.Sprintf(" (%s after %.0f s)", num(p.BytesPerConnAfterGC), p.Seconds)
			}
		case p.ConnectsPerSec > 0:
			res = num(p.ConnectsPerSec) + " conn/s"
			lat = fmt.Sprintf("%.1f / %.1f / %.1f", p.P50Ms, p.P99Ms, p.MaxMs)
		default:
			res = num(p.DeliveriesPerSec) + " deliv/s"
			if p.DeliveriesPerWrite > 0 {
				res += fmt.Sprintf(" (%.1f per write)", p.DeliveriesPerWrite)
			}
			lat = fmt.Sprintf("%.2f / %.2f / %.1f", p.P50Ms, p.P99Ms, p.MaxMs)
		}
		status := "ok"
		if p.ServerCoreOthers > 0.05 || p.ServerCoreSteal > 0.05 {
			status = fmt.Sprintf("noisy: other processes %.0f %%, steal %.0f %% of the server's CPU", 100*p.ServerCoreOthers, 100*p.ServerCoreSteal)
		}
		if p.Attempts > 0 {
			status += fmt.Sprintf(" (best of %d runs; the others were disturbed)", p.Attempts+1)
		}
		for _, d := range p.Discarded {
			status += "; a disturbed run failed: " + d
		}
		if !p.OK {
			status = "FAILED: " + p.Error
		}
		busy := pct(p.ServerBusy)
		if busy != "" {
			busy += fmt.Sprintf(" (%.0f %%)", 100*p.ServerSysShare)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", p.Name, p.Description, res, lat,
			cpuPerOp(p), busy, pct(p.DriverBusy), status)
	}
}

func cpuPerOp(p phaseResult) string {
	if p.ServerCPUPerOp == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f µs", p.ServerCPUPerOp)
}

func pct(f float64) string {
	if f == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f %%", 100*f)
}

func readReport(path string) (*report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

func (r *report) phase(name string) phaseResult {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return phaseResult{}
}

// printComparison prints a server's run against one or more baselines'
// runs: "SERVER.json,BASELINE.json[,…]".
func printComparison(w io.Writer, arg string) (int, error) {
	files := strings.Split(arg, ",")
	if len(files) < 2 {
		return 2, fmt.Errorf("-compare %q: want SERVER.json,BASELINE.json[,…]", arg)
	}
	var reps []*report
	for _, f := range files {
		r, err := readReport(f)
		if err != nil {
			return 1, err
		}
		reps = append(reps, r)
	}
	srv := reps[0]
	fmt.Fprintf(w, "| scenario | %s |", srv.Label)
	sep := "|---|---:|"
	for _, b := range reps[1:] {
		fmt.Fprintf(w, " %s | %s ÷ %s |", b.Label, srv.Label, b.Label)
		sep += "---:|---:|"
	}
	fmt.Fprintln(w, " target | verdict |")
	fmt.Fprintln(w, sep+"---|---|")
	for _, row := range comparisonRows {
		s := srv.phase(row.phase)
		if s.Name == "" {
			continue
		}
		sv := row.value(s)
		fmt.Fprintf(w, "| %s | %s |", row.title, row.format(s, sv))
		for _, b := range reps[1:] {
			bp := b.phase(row.phase)
			bv := row.value(bp)
			ratio := ""
			if bv != 0 && sv != 0 {
				ratio = fmt.Sprintf("%.0f %%", 100*sv/bv)
			}
			fmt.Fprintf(w, " %s | %s |", row.format(bp, bv), ratio)
		}
		verdict := ""
		if row.pass != nil {
			switch {
			case !s.OK:
				verdict = "**FAILED RUN**"
			case row.pass(sv):
				verdict = "**PASS**"
			default:
				verdict = "**FAIL**"
			}
		}
		fmt.Fprintf(w, " %s | %s |\n", row.target, verdict)
	}
	for _, r := range reps {
		if !r.OK {
			fmt.Fprintf(w, "\nThe %s run had errors: its figures are not results.\n", r.Label)
			return 1, nil
		}
	}
	return 0, nil
}

type compRow struct {
	phase, title, target string
	value                func(phaseResult) float64
	format               func(phaseResult, float64) string
	pass                 func(float64) bool
}

func rate(p phaseResult) float64 { return p.DeliveriesPerSec }
func p99(p phaseResult) float64  { return p.P99Ms }

func fmtRate(p phaseResult, v float64) string {
	if p.Name == "" {
		return ""
	}
	return fmt.Sprintf("%s/s (p50 %.1f, p99 %.1f ms; server %s, %s and %.2f deliveries per write(2))", num(v), p.P50Ms, p.P99Ms, pct(p.ServerBusy), cpuPerOp(p), p.DeliveriesPerWrite)
}

func fmtLat(p phaseResult, _ float64) string {
	if p.Name == "" {
		return ""
	}
	return fmt.Sprintf("p50 %.2f ms, p99 %.2f ms, max %.1f ms at %s deliveries/s (server %s, %s per delivery)",
		p.P50Ms, p.P99Ms, p.MaxMs, num(p.DeliveriesPerSec), pct(p.ServerBusy), cpuPerOp(p))
}

var comparisonRows = []compRow{
	{phase: "a", title: "(a) deliveries/s, 10,000 subscribers on one channel", target: "≥ 300,000/s",
		value: rate, format: fmtRate, pass: func(v float64) bool { return v >= 300000 }},
	{phase: "c", title: "(c) publish-to-delivery latency at 100,000 deliveries/s (10 publishes/s × 10,000)", target: "p99 < 50 ms",
		value: p99, format: fmtLat, pass: func(v float64) bool { return v > 0 && v < 50 }},
	{phase: "b", title: "(b) deliveries/s, 10,000 channels × 1 subscriber", target: "—", value: rate, format: fmtRate},
	{phase: "b-rate", title: "(b) latency at a fixed rate, 10,000 channels", target: "—", value: p99, format: fmtLat},
	{phase: "d", title: "(d) server memory per idle connection", target: "< 20 KB (20,000 bytes)",
		value:  func(p phaseResult) float64 { return p.BytesPerConn },
		format: func(p phaseResult, v float64) string { return fmtBytes(p, v) },
		pass:   func(v float64) bool { return v > 0 && v < 20000 }},
	{phase: "e", title: "(e) connections/s (open + connection_init + subscribe)", target: "—",
		value: func(p phaseResult) float64 { return p.ConnectsPerSec }, format: fmtConn},
	{phase: "e2", title: "(e) connections/s, second sample (10,000 channels)", target: "—",
		value: func(p phaseResult) float64 { return p.ConnectsPerSec }, format: fmtConn},
}

func fmtBytes(p phaseResult, v float64) string {
	if p.Name == "" {
		return ""
	}
	return fmt.Sprintf("%s bytes (RSS %s → %s KiB)", num(v), num(float64(p.RSSBeforeKB)), num(float64(p.RSSLoadedKB)))
}

func fmtConn(p phaseResult, v float64) string {
	if p.Name == "" {
		return ""
	}
	return fmt.Sprintf("%s/s (p50 %.1f, p99 %.1f ms; %s server CPU each)", num(v), p.P50Ms, p.P99Ms, cpuPerOp(p))
}
