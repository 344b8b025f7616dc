package main

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"time"
)

// report is one run against one server.
type report struct {
	Label       string        `json:"label"`
	Target      string        `json:"target"`
	PubTarget   string        `json:"publish_target,omitempty"`
	Date        string        `json:"date"`
	Subscribers int           `json:"subscribers"`
	EventBytes  int           `json:"event_bytes"`
	WarmupSec   float64       `json:"warmup_sec"`
	GOMAXPROCS  int           `json:"driver_gomaxprocs"`
	Reader      string        `json:"driver_reader"`
	NoFile      uint64        `json:"driver_nofile"`
	Phases      []phaseResult `json:"phases"`
	OK          bool          `json:"ok"`
}

// drive runs the scenarios cfg asks for against one server.
func drive(ctx context.Context, cfg *config) (*report, error) {
	nofile, err := raiseNoFile(cfg.n + cfg.publishers + 64)
	if err != nil {
		return nil, err
	}
	var ips []net.IP
	if cfg.srcIPs > 1 {
		for i := range cfg.srcIPs {
			ips = append(ips, net.IPv4(127, 0, 0, byte(1+i)))
		}
	}
	r := &runner{cfg: cfg, d: newDialer(cfg.addr, cfg.key, ips, cfg.bufSize), m: &meter{}}
	if cfg.reader == "epoll" || cfg.reader == "spin" {
		if r.rd, err = newEpoller(r.m, cfg.reader == "spin"); err != nil {
			return nil, err
		}
	} else {
		r.rd = goReader{r.m}
	}
	defer r.rd.stop()
	if cfg.pprof != "" {
		r.prof = &profiler{base: strings.TrimSuffix(cfg.pprof, "/"), dir: cfg.profileDir}
	}
	r.m.reset()
	rep := &report{
		Label: cfg.label, Target: cfg.target, PubTarget: cfg.pubTarget, Date: time.Now().UTC().Format(time.RFC3339),
		Subscribers: cfg.n, EventBytes: cfg.size, WarmupSec: cfg.warmup.Seconds(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), Reader: cfg.reader, NoFile: nofile, OK: true,
	}
	has := func(s string) bool { return strings.Contains(cfg.scenarios, s) }
	add := func(p phaseResult) {
		rep.Phases = append(rep.Phases, p)
		rep.OK = rep.OK && p.OK
		fmt.Printf("   %s: %s\n", p.Name, p.summary())
	}

	var rss0 int64
	if cfg.serverPID > 0 && has("d") {
		fmt.Printf("== %s: settling %s for the baseline RSS\n", cfg.label, cfg.settle)
		sleep(ctx, cfg.settle)
		if rss0, err = rssKB(cfg.serverPID); err != nil {
			return nil, err
		}
	}
	pd := r.d
	if cfg.pubAddr != cfg.addr {
		pd = newDialer(cfg.pubAddr, cfg.key, ips, cfg.bufSize)
	}
	for i := range cfg.publishers {
		p, err := dialPublisher(ctx, pd, i, cfg.size)
		if err != nil {
			return nil, fmt.Errorf("publisher %d: %w", i, err)
		}
		defer p.close()
		go p.run(r.m)
		r.pubs = append(r.pubs, p)
	}
	if has("a") || has("c") || has("d") || has("e") {
		r.fanout(ctx, rss0, has, add)
	}
	if has("b") && ctx.Err() == nil {
		r.channels(ctx, add)
	}
	return rep, ctx.Err()
}

const fanoutChannel = "/default/bench/fanout"

// fanout runs e, d, c and a on one set of subscribers of one channel.
func (r *runner) fanout(ctx context.Context, rss0 int64, has func(string) bool, add func(phaseResult)) {
	cfg := r.cfg
	fmt.Printf("== %s: e: opening %d connections on %s, %d at a time\n", cfg.label, cfg.n, fanoutChannel, cfg.conc)
	subs, res := r.connect(ctx, "e", "connections per second: dial, upgrade, connection_init/ack, subscribe/subscribe_success",
		func(int) string { return fanoutChannel })
	add(res)
	if !res.OK {
		return
	}
	defer func() {
		r.rd.closeAll(subs)
		sleep(ctx, 2*time.Second)
	}()
	if has("d") {
		fmt.Printf("== %s: d: settling %s with %d idle connections\n", cfg.label, cfg.settle, cfg.n)
		add(r.memory(ctx, rss0, cfg.n+cfg.publishers))
	}
	one := make([][]string, len(r.pubs))
	one[0] = []string{fanoutChannel}
	n := int64(cfg.n)
	if has("c") {
		fmt.Printf("== %s: c: %g publishes/s × %d subscribers\n", cfg.label, cfg.rate, cfg.n)
		add(r.flowQuiet(ctx, phaseResult{Name: "c", Description: "latency at a fixed rate, all subscribers on one channel", Subscribers: cfg.n, Channels: 1},
			pubPlan{fanout: n, rate: cfg.rate, batch: cfg.batch}, one))
	}
	if has("a") {
		fmt.Printf("== %s: a: saturating, %d events in flight × %d subscribers\n", cfg.label, cfg.inflightA, cfg.n)
		add(r.flowQuiet(ctx, phaseResult{Name: "a", Description: "deliveries per second, all subscribers on one channel", Subscribers: cfg.n, Channels: 1},
			pubPlan{fanout: n, budget: cfg.inflightA * n, window: cfg.window, batch: cfg.batch}, one))
	}
}

// channels runs b: one subscriber per channel, every publisher owning
// every -publishers-th channel, so that each subscriber's events come
// from one publisher, in order.
func (r *runner) channels(ctx context.Context, add func(phaseResult)) {
	cfg := r.cfg
	name := func(i int) string { return fmt.Sprintf("/default/bench/ch-%d", i) }
	fmt.Printf("== %s: b: opening %d connections, one channel each\n", cfg.label, cfg.n)
	subs, res := r.connect(ctx, "e2", "connections per second, one channel each (second sample of e)", name)
	add(res)
	if !res.OK {
		return
	}
	defer r.rd.closeAll(subs)
	owned := make([][]string, len(r.pubs))
	for i := range cfg.n {
		owned[i%len(owned)] = append(owned[i%len(owned)], name(i))
	}
	budget := cfg.window * int64(len(r.pubs))
	fmt.Printf("== %s: b: saturating, %d publishers × %d publishes in flight\n", cfg.label, len(r.pubs), cfg.window)
	add(r.flowQuiet(ctx, phaseResult{Name: "b", Description: "deliveries per second, one subscriber per channel", Subscribers: cfg.n, Channels: cfg.n},
		pubPlan{fanout: 1, budget: budget, window: cfg.window, batch: cfg.batch}, owned))
	if cfg.bRate > 0 && ctx.Err() == nil {
		fmt.Printf("== %s: b-rate: %g publishes/s over %d channels\n", cfg.label, cfg.bRate, cfg.n)
		add(r.flowQuiet(ctx, phaseResult{Name: "b-rate", Description: "latency at a fixed rate, one subscriber per channel", Subscribers: cfg.n, Channels: cfg.n},
			pubPlan{fanout: 1, rate: cfg.bRate / float64(len(r.pubs)), batch: cfg.batch}, owned))
	}
}
