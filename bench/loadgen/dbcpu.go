package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// dbSnapshot is the CPU time so far of every process named postgres,
// split into those -db-name counts (mine) and the rest (other databases'
// sessions: other tenants of a shared server).
type dbSnapshot map[int]dbProc

type dbProc struct {
	cpu  time.Duration
	mine bool
}

// snapshotDB reads /proc for processes whose command name is comm. With
// dbName empty every one of them counts. Otherwise a client backend
// counts only when it serves dbName; the postmaster and its background
// processes (checkpointer, walwriter, background writer, autovacuum, …)
// always count: they work for every database, ours included.
func snapshotDB(comm, dbName string) dbSnapshot {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := dbSnapshot{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		c, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(c)) != comm {
			continue
		}
		cpu := procCPU(pid)
		mine := true
		if dbName != "" {
			if db, ok := backendDB(pid); ok && db != dbName {
				mine = false
			}
		}
		out[pid] = dbProc{cpu: cpu, mine: mine}
	}
	return out
}

// backendDB reads a PostgreSQL backend's process title, "postgres:
// CLUSTER: USER DATABASE HOST(PORT) STATE" (or "postgres: USER DATABASE
// …" without a cluster name), and returns its database; ok is false for
// processes that are not client backends.
func backendDB(pid int) (db string, ok bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return "", false
	}
	title := string(bytes.TrimRight(bytes.ReplaceAll(raw, []byte{0}, []byte{' '}), " "))
	f := strings.Fields(title)
	// The client's address, "127.0.0.1(50836)" or "[local]", follows
	// USER and DATABASE.
	for i := 3; i < len(f); i++ {
		if f[i] == "[local]" || (strings.HasSuffix(f[i], ")") && strings.Contains(f[i], "(")) {
			return f[i-1], true
		}
	}
	return "", false
}

// dbDelta is the CPU the counted processes used between a and b, and that
// of the others. A process in b but not in a started in between: all its
// time counts. One that ended in between is lost (pgx keeps its
// connections for the whole run, so only other databases' sessions come
// and go).
func dbDelta(a, b dbSnapshot) (mine, others time.Duration) {
	for pid, pb := range b {
		d := pb.cpu - a[pid].cpu
		if pa, ok := a[pid]; ok && pa.cpu > pb.cpu {
			d = pb.cpu // the PID was reused
		}
		if pb.mine {
			mine += d
		} else {
			others += d
		}
	}
	return mine, others
}

// machineBusy is the busy time of all CPUs so far (user, nice, system,
// irq, softirq, steal from /proc/stat), to tell how much of the machine
// other processes took during a run.
func machineBusy() time.Duration {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		busy += n
	}
	return time.Duration(busy) * clockTick
}
