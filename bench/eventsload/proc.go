package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of utime and stime in
// /proc/PID/stat (100 on every mainstream architecture).
const clockTicks = 100

// cpuTime is the process's CPU time so far, all threads, user + system.
func cpuTime(pid int) (time.Duration, error) {
	u, s, err := cpuTimes(pid)
	return u + s, err
}

// cpuTimes is the process's user and system CPU time so far, all threads.
func cpuTimes(pid int) (user, sys time.Duration, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces: fields start after its ')'.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(raw[i+1:]))
	if len(f) < 13 {
		return 0, 0, errors.New("short /proc/PID/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, err
	}
	return time.Duration(ut) * time.Second / clockTicks, time.Duration(st) * time.Second / clockTicks, nil
}

// rssKB is the process's resident set (VmRSS) in KiB.
func rssKB(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(raw)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}

// syscalls is the process's count of read and write system calls so
// far (syscr and syscw of /proc/PID/io: read(2), write(2) and their
// vectored forms, sockets included).
func syscalls(pid int) (reads, writes int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	for l := range strings.Lines(string(raw)) {
		k, v, _ := strings.Cut(strings.TrimSpace(l), ": ")
		switch k {
		case "syscr":
			reads, err = strconv.ParseInt(v, 10, 64)
		case "syscw":
			writes, err = strconv.ParseInt(v, 10, 64)
		}
		if err != nil {
			return 0, 0, err
		}
	}
	return reads, writes, nil
}

// raiseNoFile lifts the soft RLIMIT_NOFILE to the hard limit and checks
// that need descriptors fit.
func raiseNoFile(need int) (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, fmt.Errorf("setrlimit: %w", err)
		}
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if rl.Cur < uint64(need) {
		return rl.Cur, fmt.Errorf("RLIMIT_NOFILE is %d, need %d: raise the hard limit (ulimit -Hn)", rl.Cur, need)
	}
	return rl.Cur, nil
}

// cpuStat is one CPU's line of /proc/stat: time busy, idle and stolen
// by the hypervisor, in ticks.
type cpuStat struct{ busy, idle, steal int64 }

func readCPUStat(cpu int) (cpuStat, error) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuStat{}, err
	}
	prefix := "cpu" + strconv.Itoa(cpu) + " "
	for l := range strings.Lines(string(raw)) {
		rest, ok := strings.CutPrefix(l, prefix)
		if !ok {
			continue
		}
		var v [8]int64 // user nice system idle iowait irq softirq steal
		for i, f := range strings.Fields(rest) {
			if i == len(v) {
				break
			}
			v[i], _ = strconv.ParseInt(f, 10, 64)
		}
		return cpuStat{busy: v[0] + v[1] + v[2] + v[5] + v[6], idle: v[3] + v[4], steal: v[7]}, nil
	}
	return cpuStat{}, fmt.Errorf("no %q in /proc/stat", strings.TrimSpace(prefix))
}

// cpuMeter samples the CPU time of the server (when its PID is known) and
// of this driver over a window.
type cpuMeter struct {
	serverPID   int
	serverCPU   int // the CPU the server is pinned to, or -1
	t0          time.Time
	user0, sys0 time.Duration // the server's
	self0       time.Duration
	stat0       cpuStat
	writes0     int64
	writes      int64   // after stop: the server's write system calls
	serverSys   float64 // after stop: the kernel's share of the server's CPU time
	others      float64 // after stop: the server's CPU busy with anything but the server
	steal       float64 // after stop: the server's CPU stolen by the hypervisor
}

func (c *cpuMeter) start() {
	c.t0 = time.Now()
	if c.serverPID > 0 {
		c.user0, c.sys0, _ = cpuTimes(c.serverPID)
		_, c.writes0, _ = syscalls(c.serverPID)
	}
	c.self0, _ = cpuTime(os.Getpid())
	if c.serverCPU >= 0 {
		c.stat0, _ = readCPUStat(c.serverCPU)
	}
}

// stop returns the server's and the driver's CPU time since start, as
// fractions of one core over the wall time, and the server's CPU time.
func (c *cpuMeter) stop() (serverBusy, driverBusy float64, serverCPU time.Duration) {
	wall := time.Since(c.t0)
	if c.serverPID > 0 {
		if _, w, err := syscalls(c.serverPID); err == nil {
			c.writes = w - c.writes0
		}
		u1, s1, err := cpuTimes(c.serverPID)
		if err == nil {
			serverCPU = u1 - c.user0 + s1 - c.sys0
			serverBusy = float64(serverCPU) / float64(wall)
			if serverCPU > 0 {
				c.serverSys = float64(s1-c.sys0) / float64(serverCPU)
			}
		}
	}
	if d1, err := cpuTime(os.Getpid()); err == nil {
		driverBusy = float64(d1-c.self0) / float64(wall)
	}
	if st, err := readCPUStat(c.serverCPU); c.serverCPU >= 0 && err == nil {
		total := float64(st.busy + st.idle + st.steal - c.stat0.busy - c.stat0.idle - c.stat0.steal)
		if total > 0 {
			c.others = max(float64(st.busy-c.stat0.busy)/total-serverBusy, 0)
			c.steal = float64(st.steal-c.stat0.steal) / total
		}
	}
	return serverBusy, driverBusy, serverCPU
}
