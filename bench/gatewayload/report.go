package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// quietShare: a round is undisturbed when, in every target's windows,
// processes other than the benchmark's took at most this share of the
// servers' CPU.
const quietShare = 0.05

type roundKey struct{ file, round int }

// report prints, from one or more results.jsonl files, each target's
// figures as the median over rounds (min–max), its ratio to the baseline
// (the first target) per round, and the gateway's to the bare
// ReverseProxy when both ran.
func report(out io.Writer, files string) error {
	rounds := map[roundKey]map[string]result{}
	var keys []roundKey
	var labels []string
	for fi, name := range strings.Split(files, ",") {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r result
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			k := roundKey{fi, r.Round}
			if rounds[k] == nil {
				rounds[k] = map[string]result{}
				keys = append(keys, k)
			}
			rounds[k][r.Label] = r
			if !slices.Contains(labels, r.Label) {
				labels = append(labels, r.Label)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	if len(keys) == 0 {
		return fmt.Errorf("%s: no results", files)
	}
	base := rounds[keys[0]][labels[0]].Baseline
	quiet := 0
	for _, k := range keys {
		if undisturbed(rounds[k]) {
			quiet++
		}
	}
	fmt.Fprintf(out, "%d rounds (%d undisturbed: others took ≤ %.0f %% of the servers' CPU); median over rounds (min–max); ratios are per round, then the median\n\n",
		len(keys), quiet, quietShare*100)
	fmt.Fprintln(out, "| target | requests/s | server CPU µs/request (proxy's own) | req/s ÷ "+base+" | CPU ratio "+base+" ÷ target | stream first chunk p50 / p99 µs | added vs "+base+" p50 / p99 | last chunk p50 / p99 µs | added p50 / p99 |")
	fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, l := range labels {
		var rps, cpu, front, ratio, cratio, f50, f99, l50, l99, af50, af99, al50, al99 []float64
		for _, k := range keys {
			r, ok := rounds[k][l]
			b, okb := rounds[k][base]
			if !ok || !okb {
				continue
			}
			rps, cpu, front = append(rps, r.RPS), append(cpu, r.CPUus), append(front, r.FrontCPUus)
			if b.RPS > 0 && r.CPUus > 0 {
				ratio, cratio = append(ratio, r.RPS/b.RPS), append(cratio, b.CPUus/r.CPUus)
			}
			if r.LatN > 0 {
				f50, f99, l50, l99 = append(f50, r.FirstP50), append(f99, r.FirstP99), append(l50, r.LastP50), append(l99, r.LastP99)
				af50, af99 = append(af50, r.FirstP50-b.FirstP50), append(af99, r.FirstP99-b.FirstP99)
				al50, al99 = append(al50, r.LastP50-b.LastP50), append(al99, r.LastP99-b.LastP99)
			}
		}
		frontCol := ""
		if l != base {
			frontCol = " (" + spread(front, "%.1f") + ")"
		}
		fmt.Fprintf(out, "| %s | %s | %s%s | %s | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n", l,
			spread(rps, "%.0f"), spread(cpu, "%.1f"), frontCol, spread(ratio, "%.3f"), spread(cratio, "%.3f"),
			spread(f50, "%.0f"), spread(f99, "%.0f"), spread(af50, "%+.0f"), spread(af99, "%+.0f"),
			spread(l50, "%.0f"), spread(l99, "%.0f"), spread(al50, "%+.0f"), spread(al99, "%+.0f"))
	}
	// Pairs of proxies: the gateway against each other proxy.
	for _, other := range labels {
		if other == base || other == "gateway" || !slices.Contains(labels, "gateway") {
			continue
		}
		var ratio, cratio, fcratio []float64
		for _, k := range keys {
			g, ok1 := rounds[k]["gateway"]
			o, ok2 := rounds[k][other]
			if ok1 && ok2 && o.RPS > 0 && g.CPUus > 0 {
				ratio = append(ratio, g.RPS/o.RPS)
				cratio = append(cratio, o.CPUus/g.CPUus)
				fcratio = append(fcratio, o.FrontCPUus/g.FrontCPUus)
			}
		}
		fmt.Fprintf(out, "\ngateway ÷ %s: requests/s %s; by server CPU per request %s; by the proxies' own CPU %s\n",
			other, spread(ratio, "%.3f"), spread(cratio, "%.3f"), spread(fcratio, "%.3f"))
	}
	sets := int64(0)
	for _, k := range keys {
		for _, r := range rounds[k] {
			sets += r.SetCookie
		}
	}
	fmt.Fprintf(out, "\nresponses that set a cookie (a refresh would): %d\n", sets)
	return nil
}

func undisturbed(rs map[string]result) bool {
	for _, r := range rs {
		if r.Seconds <= 0 || r.Others/r.Seconds > quietShare {
			return false
		}
	}
	return true
}

// spread is "median (min–max)" of xs, or "median" for one value, or "–".
func spread(xs []float64, format string) string {
	if len(xs) == 0 {
		return "–"
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	var m float64
	if len(s)%2 == 1 {
		m = s[len(s)/2]
	} else {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	if len(s) == 1 {
		return fmt.Sprintf(format, m)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", m, s[0], s[len(s)-1])
}
