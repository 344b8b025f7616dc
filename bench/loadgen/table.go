package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

// printTable reads a -json results file (bench/run.sh writes one per run)
// and prints the comparison: Cognate against cognito-local, refresh
// against the RSA signing floor, and the targets. Only runs from
// the same file, hence the same session, are compared.
func printTable(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 1, err
	}
	defer f.Close()
	byOp := map[string]map[string]result{} // op → label → last run
	var floors, httpFloors []result
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return 1, fmt.Errorf("%s: %w", path, err)
		}
		if r.Op == opRSASign {
			floors = append(floors, r)
			continue
		}
		if r.Op == opHTTPFloor {
			httpFloors = append(httpFloors, r)
			continue
		}
		if byOp[r.Op] == nil {
			byOp[r.Op] = map[string]result{}
		}
		byOp[r.Op][r.Label] = r
	}
	if err := sc.Err(); err != nil {
		return 1, err
	}

	cell := func(r result, ok bool) (tput, lat, cpu string) {
		switch {
		case !ok:
			return "n/a", "", ""
		case !r.OK:
			return fmt.Sprintf("FAILED (%d errors)", r.Errors), "", ""
		}
		tput = fmt.Sprintf("%.0f", r.OpsPerSec)
		lat = fmt.Sprintf("%.1f / %.1f", r.P50Ms, r.P99Ms)
		if r.ServerCPUMsPerOp > 0 {
			cpu = fmt.Sprintf("%.3f ms (%.0f%%)", r.ServerCPUMsPerOp, 100*r.ServerUtil)
		}
		return tput, lat, cpu
	}
	fmt.Println("| operation | Cognate ops/s | p50 / p99 ms | server CPU per op (core busy) | driver core busy | cognito-local ops/s | p50 / p99 ms | server CPU per op (core busy) | Cognate ÷ cognito-local, ops/s | same, per CPU second |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	order := []string{opGetUser, opPasswordSignIn, opSRPSignIn, opRefresh, opRefreshRotate, opRefreshTokenAuth}
	for _, op := range order {
		runs := byOp[op]
		if runs == nil {
			continue
		}
		c, cok := runs[kindCognate]
		l, lok := runs[kindCognitoLocal]
		ct, clat, ccpu := cell(c, cok)
		lt, llat, lcpu := cell(l, lok)
		ratio, cpuRatio := "—", "—"
		if cok && lok && c.OK && l.OK && l.OpsPerSec > 0 {
			ratio = fmt.Sprintf("%.1f×", c.OpsPerSec/l.OpsPerSec)
			if c.ServerCPUMsPerOp > 0 && l.ServerCPUMsPerOp > 0 {
				cpuRatio = fmt.Sprintf("%.1f×", l.ServerCPUMsPerOp/c.ServerCPUMsPerOp)
			}
		} else if !lok {
			ratio, cpuRatio = "unsupported by cognito-local", ""
		}
		drv := ""
		if cok && c.OK {
			drv = fmt.Sprintf("%.0f%%", 100*c.DriverUtil)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", op, ct, clat, ccpu, drv, lt, llat, lcpu, ratio, cpuRatio)
	}

	// The floor, two ways: signatures per second on the servers' core
	// (disturbed if anything else ran there), and CPU time per signature
	// (what the signing itself costs, whoever else ran).
	var floorSig, floorCPU float64
	var okFloors []string
	for _, r := range floors {
		if r.OK {
			floorSig += r.OpsPerSec
			floorCPU += r.DriverCPUMsPerOp
			okFloors = append(okFloors, fmt.Sprintf("%.0f/s at %.3f ms CPU", r.OpsPerSec, r.DriverCPUMsPerOp))
		}
	}
	if len(okFloors) > 0 {
		floorSig /= float64(len(okFloors))
		floorCPU /= float64(len(okFloors))
		fmt.Printf("\nRSA signing floor (2048-bit pool key, on the servers' core): %.0f signatures/s, %.3f ms CPU per signature (runs: %s) → refresh floor %.0f/s, %.3f ms CPU (two signatures per refresh)\n",
			floorSig, floorCPU, strings.Join(okFloors, "; "), floorSig/2, 2*floorCPU)
	}

	var httpFloor result
	for _, r := range httpFloors {
		if r.OK {
			httpFloor = r
		}
	}
	if httpFloor.OK {
		fmt.Printf("HTTP floor (a trivial net/http handler answering a GetUser-sized request, on the servers' core): %.0f requests/s", httpFloor.OpsPerSec)
		if httpFloor.ServerCPUMsPerOp > 0 {
			fmt.Printf(", %.1f µs CPU each, so %.0f/s per fully busy core (server core %.0f%% busy, driver core %.0f%%)",
				1000*httpFloor.ServerCPUMsPerOp, 1/httpFloor.ServerCPUMsPerOp*1000, 100*httpFloor.ServerUtil, 100*httpFloor.DriverUtil)
		}
		fmt.Println()
	}

	fmt.Println("\nTargets:")
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	if r, ok := byOp[opSRPSignIn][kindCognate]; ok && r.OK && r.ServerCPUMsPerOp > 0 {
		fmt.Printf("- SRP sign-in under 5 ms server CPU: %.2f ms → %s (%.0f sign-ins/s)\n", r.ServerCPUMsPerOp, verdict(r.ServerCPUMsPerOp < 5), r.OpsPerSec)
	} else {
		fmt.Println("- SRP sign-in under 5 ms server CPU: not measured")
	}
	for _, op := range []string{opRefresh, opRefreshRotate} {
		r, ok := byOp[op][kindCognate]
		if !ok || !r.OK || floorSig == 0 {
			fmt.Printf("- %s at ≥ 80%% of the signing floor: not measured\n", op)
			continue
		}
		pct := 100 * r.OpsPerSec / (floorSig / 2)
		cpuPct := 0.0
		if r.ServerCPUMsPerOp > 0 {
			cpuPct = 100 * 2 * floorCPU / r.ServerCPUMsPerOp
		}
		if op == opRefresh {
			fmt.Printf("- refresh (GetTokensFromRefreshToken, rotation off) at ≥ 80%% of the signing floor: by CPU time %.3f ms vs %.3f ms = %.0f%% → %s; by throughput %.0f/s vs %.0f/s = %.0f%% → %s\n",
				r.ServerCPUMsPerOp, 2*floorCPU, cpuPct, verdict(cpuPct >= 80), r.OpsPerSec, floorSig/2, pct, verdict(pct >= 80))
		} else {
			fmt.Printf("- refresh with rotation on (not a target; it also writes): by CPU time %.0f%% of the floor, by throughput %.0f%%\n", cpuPct, pct)
		}
	}
	c, cok := byOp[opGetUser][kindCognate]
	l, lok := byOp[opGetUser][kindCognitoLocal]
	if cok && lok && c.OK && l.OK && l.OpsPerSec > 0 {
		x := c.OpsPerSec / l.OpsPerSec
		fmt.Printf("- GetUser at ≥ 10× cognito-local: %.0f/s vs %.0f/s = %.1f× → %s", c.OpsPerSec, l.OpsPerSec, x, verdict(x >= 10))
		if c.ServerCPUMsPerOp > 0 && l.ServerCPUMsPerOp > 0 {
			fmt.Printf(" (per CPU second: %.3f vs %.3f ms per GetUser = %.1f×)", c.ServerCPUMsPerOp, l.ServerCPUMsPerOp, l.ServerCPUMsPerOp/c.ServerCPUMsPerOp)
		}
		fmt.Println()
		if httpFloor.OK && httpFloor.OpsPerSec > 0 {
			fmt.Printf("  for scale: the HTTP floor is %.1f× cognito-local; 10× cognito-local (%.0f/s) is %.0f%% of the HTTP floor, Cognate's GetUser %.0f%%\n",
				httpFloor.OpsPerSec/l.OpsPerSec, 10*l.OpsPerSec, 100*10*l.OpsPerSec/httpFloor.OpsPerSec, 100*c.OpsPerSec/httpFloor.OpsPerSec)
		}
	} else {
		fmt.Println("- GetUser at ≥ 10× cognito-local: not measured")
	}
	for _, op := range []string{opPasswordSignIn, opSRPSignIn} {
		if r, ok := byOp[op][kindCognate]; ok && r.OK {
			fmt.Printf("- sign-ins per second (%s, Cognate on one core): %.0f measured", op, r.OpsPerSec)
			if r.ServerCPUMsPerOp > 0 {
				fmt.Printf("; %.0f per fully busy core at %.2f ms CPU each", 1000/r.ServerCPUMsPerOp, r.ServerCPUMsPerOp)
			}
			fmt.Println()
		}
	}
	return 0, nil
}
