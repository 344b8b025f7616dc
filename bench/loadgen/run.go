package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxErrors stops a run early: past this many errors it has failed, and
// hammering a broken server further measures nothing.
const maxErrors = 1000

// result is one run, as printed and as appended to -json.
type result struct {
	Label      string   `json:"label"`
	Kind       string   `json:"kind"`
	Op         string   `json:"op"`
	Conc       int      `json:"concurrency"`
	Users      int      `json:"users"`
	Seconds    float64  `json:"seconds"`
	Ops        int64    `json:"ops"`
	OpsPerSec  float64  `json:"ops_per_sec"`
	MeanMs     float64  `json:"mean_ms"`
	P50Ms      float64  `json:"p50_ms"`
	P90Ms      float64  `json:"p90_ms"`
	P99Ms      float64  `json:"p99_ms"`
	MaxMs      float64  `json:"max_ms"`
	Errors     int64    `json:"errors"`
	ErrSamples []string `json:"error_samples,omitempty"`
	// ServerCPUMsPerOp is the server process's CPU time (all threads,
	// user + system, from /proc/PID/stat) per op, when its PID is known.
	ServerCPUMsPerOp float64 `json:"server_cpu_ms_per_op,omitempty"`
	// ServerUtil and DriverUtil are CPU seconds per wall second (1.0 is
	// one core busy).
	ServerUtil       float64 `json:"server_util,omitempty"`
	DriverUtil       float64 `json:"driver_util"`
	DriverCPUMsPerOp float64 `json:"driver_cpu_ms_per_op"`
	DriverGOMAXPROCS int     `json:"driver_gomaxprocs"`
	// Nodes is the number of server processes ServerCPUMsPerOp sums.
	Nodes int `json:"nodes,omitempty"`
	// DBCPUMsPerOp is the database server's CPU time per op (-db-cpu):
	// the processes named postgres that -db-name counts; DBUtil that per
	// wall second; TotalCPUMsPerOp the servers' and the database's
	// together. DBOthersUtil is what the other postgres processes (other
	// databases' sessions) used.
	DBCPUMsPerOp    float64 `json:"db_cpu_ms_per_op,omitempty"`
	DBUtil          float64 `json:"db_util,omitempty"`
	DBOthersUtil    float64 `json:"db_others_util,omitempty"`
	TotalCPUMsPerOp float64 `json:"total_cpu_ms_per_op,omitempty"`
	// MachineUtil is the whole machine's busy CPU per wall second (2.0:
	// both cores of this machine busy), OthersUtil what is left of it
	// after the servers, the database and the driver: other tenants.
	MachineUtil float64 `json:"machine_util,omitempty"`
	OthersUtil  float64 `json:"others_util,omitempty"`
	OK          bool    `json:"ok"`
	Time        string  `json:"time"`
}

// errorLog counts errors and keeps a few distinct messages.
type errorLog struct {
	n       atomic.Int64
	mu      sync.Mutex
	samples []string
}

func (e *errorLog) add(err error) {
	e.n.Add(1)
	e.mu.Lock()
	defer e.mu.Unlock()
	msg := err.Error()
	if len(e.samples) < 5 && !slices.Contains(e.samples, msg) {
		e.samples = append(e.samples, truncate(msg, 300))
	}
}

// runLoad runs cfg.conc workers doing fn: cfg.warmup unmeasured, then
// cfg.dur measured (or until cfg.maxOps measured ops). An op counts when
// it started inside the measured window; throughput is those ops over the
// time from the window's start until the last of them finished.
func runLoad(ctx context.Context, cfg *config, fn opFunc, workers []*worker, serverPIDs []int) result {
	ctx, cancel := context.WithTimeout(ctx, cfg.warmup+cfg.dur+45*time.Second)
	defer cancel()
	var (
		errs     errorLog
		counted  atomic.Int64
		stop     atomic.Bool
		wg       sync.WaitGroup
		lats     = make([][]time.Duration, len(workers))
		t0       = time.Now()
		measure  = t0.Add(cfg.warmup)
		deadline = measure.Add(cfg.dur)
	)
	// CPU readings at the window's start, taken by a timer so that no
	// worker has to.
	var cpuStart struct {
		sync.Mutex
		server, driver, machine time.Duration
		db                      dbSnapshot
		taken                   bool
	}
	startTimer := time.AfterFunc(cfg.warmup, func() {
		cpuStart.Lock()
		defer cpuStart.Unlock()
		cpuStart.server = procsCPU(serverPIDs)
		cpuStart.driver = selfCPU()
		cpuStart.machine = machineBusy()
		if cfg.dbCPU != "" {
			cpuStart.db = snapshotDB(cfg.dbCPU, cfg.dbName)
		}
		cpuStart.taken = true
	})
	defer startTimer.Stop()

	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() && ctx.Err() == nil {
				begin := time.Now()
				if !begin.Before(deadline) {
					return
				}
				err := fn(ctx, w)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					errs.add(err)
					if errs.n.Load() >= maxErrors {
						stop.Store(true)
					}
					continue
				}
				if begin.Before(measure) {
					continue
				}
				lats[i] = append(lats[i], time.Since(begin))
				if cfg.maxOps > 0 && counted.Add(1) >= cfg.maxOps {
					stop.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	end := time.Now()
	serverEnd, driverEnd, machineEnd := procsCPU(serverPIDs), selfCPU(), machineBusy()
	var dbEnd dbSnapshot
	if cfg.dbCPU != "" {
		dbEnd = snapshotDB(cfg.dbCPU, cfg.dbName)
	}

	all := slices.Concat(lats...)
	slices.Sort(all)
	r := result{
		Op: cfg.op, Kind: cfg.kind, Label: cfg.label, Conc: len(workers), Users: cfg.users,
		Ops: int64(len(all)), Errors: errs.n.Load(), ErrSamples: errs.samples,
		DriverGOMAXPROCS: runtime.GOMAXPROCS(0), Time: time.Now().UTC().Format(time.RFC3339),
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		r.Errors++
		r.ErrSamples = append(r.ErrSamples, "run did not finish within its time bound")
	}
	window := end.Sub(measure)
	cpuStart.Lock()
	taken := cpuStart.taken
	cpuStart.Unlock()
	if window > 0 && taken {
		r.Seconds = window.Seconds()
		r.OpsPerSec = float64(r.Ops) / window.Seconds()
		r.DriverUtil = (driverEnd - cpuStart.driver).Seconds() / window.Seconds()
		if r.Ops > 0 {
			r.DriverCPUMsPerOp = ms(driverEnd-cpuStart.driver) / float64(r.Ops)
		}
		var serverD, dbD, othersD time.Duration
		if len(serverPIDs) > 0 {
			serverD = serverEnd - cpuStart.server
			r.Nodes = len(serverPIDs)
			r.ServerUtil = serverD.Seconds() / window.Seconds()
			if r.Ops > 0 {
				r.ServerCPUMsPerOp = ms(serverD) / float64(r.Ops)
			}
		}
		if cfg.dbCPU != "" {
			dbD, othersD = dbDelta(cpuStart.db, dbEnd)
			r.DBUtil = dbD.Seconds() / window.Seconds()
			r.DBOthersUtil = othersD.Seconds() / window.Seconds()
			if r.Ops > 0 {
				r.DBCPUMsPerOp = ms(dbD) / float64(r.Ops)
				r.TotalCPUMsPerOp = ms(serverD+dbD) / float64(r.Ops)
			}
		}
		if m := machineEnd - cpuStart.machine; m > 0 {
			r.MachineUtil = m.Seconds() / window.Seconds()
			r.OthersUtil = max(0, r.MachineUtil-r.ServerUtil-r.DBUtil-r.DriverUtil)
		}
	}
	if n := len(all); n > 0 {
		var sum time.Duration
		for _, d := range all {
			sum += d
		}
		r.MeanMs = ms(sum) / float64(n)
		r.P50Ms = ms(all[n*50/100])
		r.P90Ms = ms(all[n*90/100])
		r.P99Ms = ms(all[min(n-1, n*99/100)])
		r.MaxMs = ms(all[n-1])
	}
	r.OK = r.Errors == 0 && r.Ops > 0
	if r.Ops == 0 && r.Errors == 0 {
		r.ErrSamples = append(r.ErrSamples, "no operation completed in the measured window")
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// selfCPU is this process's CPU time so far (user + system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procsCPU sums procCPU over pids.
func procsCPU(pids []int) time.Duration {
	var t time.Duration
	for _, p := range pids {
		t += procCPU(p)
	}
	return t
}

// clockTick is USER_HZ, the unit of /proc/PID/stat times: 100 on every
// Linux port that matters.
const clockTick = 10 * time.Millisecond

// procCPU is another process's CPU time so far (user + system, all its
// threads), from /proc/PID/stat; 0 when pid is 0 or unreadable.
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields after it are
	// split from the last ')'. utime and stime are fields 14 and 15.
	s := string(raw)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * clockTick
}

// print writes the run for people.
func (r result) print() {
	status := "OK"
	if !r.OK {
		status = fmt.Sprintf("FAILED (%d errors)", r.Errors)
	}
	fmt.Printf("%-14s %-18s c=%-3d %8.1f ops/s  p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms  ops %d  errors %d",
		r.Label, r.Op, r.Conc, r.OpsPerSec, r.P50Ms, r.P90Ms, r.P99Ms, r.MaxMs, r.Ops, r.Errors)
	if r.ServerCPUMsPerOp > 0 {
		nodes := ""
		if r.Nodes > 1 {
			nodes = fmt.Sprintf(", %d nodes", r.Nodes)
		}
		fmt.Printf("  server %.3f ms CPU/op (%.0f%% of a core%s)", r.ServerCPUMsPerOp, 100*r.ServerUtil, nodes)
	}
	if r.TotalCPUMsPerOp > 0 {
		fmt.Printf("  db %.3f ms CPU/op (%.0f%%; other databases %.0f%%)  total %.3f ms/op",
			r.DBCPUMsPerOp, 100*r.DBUtil, 100*r.DBOthersUtil, r.TotalCPUMsPerOp)
	}
	if r.MachineUtil > 0 {
		fmt.Printf("  others %.0f%%", 100*r.OthersUtil)
	}
	fmt.Printf("  driver %.0f%% of a core  %s\n", 100*r.DriverUtil, status)
	for _, s := range r.ErrSamples {
		fmt.Printf("    error: %s\n", s)
	}
}
