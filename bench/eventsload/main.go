// Command eventsload measures a WebSocket events server that speaks the
// AppSync Events protocol — Cognate's /event/realtime, or one of the two
// baseline broadcast servers it runs itself with -baseline (coder/websocket,
// or hand-written framing with -raw) — from a separate process, over this
// machine's loopback interface only:
//
//	go run ./bench/eventsload -baseline 127.0.0.1:9400 -key da2-bench [-raw] &
//	go run ./bench/eventsload -target http://127.0.0.1:9400 -key da2-bench -label baseline -server-pid PID -out base.json
//	go run ./bench/eventsload -target http://127.0.0.1:9229 -data ./cognate-data -server-pid PID -server-cpu 0 -out cognate.json
//	go run ./bench/eventsload -compare cognate.json,base.json
//	go run ./bench/eventsload -target http://127.0.0.1:9229 -publish-target http://127.0.0.1:9230 -key KEY -scenarios a,b,c
//
// One run measures, with -n subscribers (10,000):
//
//	e  connections per second: dial, upgrade (API key in the header-
//	   subprotocol), connection_init → connection_ack, subscribe →
//	   subscribe_success, -conc at a time;
//	d  server RSS per idle connection, after -settle, against the RSS
//	   before any connection;
//	c  publish-to-delivery latency with all subscribers on one channel, at
//	   -rate publishes per second (10 × 10,000 = 100,000 deliveries/s);
//	a  deliveries per second on that channel, closed loop: one publisher
//	   keeps -inflight-a events undelivered;
//	b  deliveries per second with every subscriber on its own channel,
//	   -publishers connections each keeping -window publishes unanswered;
//	   then the latency at a fixed -b-rate.
//
// Events are -size bytes of JSON carrying the send time; subscribers take
// the time when the read that completed the data message returned, so
// latency includes the driver's own delay. Subscribed sockets are read by
// one epoll loop (-reader). Publishes go over WebSocket, each with its own
// authorization object. Every phase checks that each event reached each
// subscriber, in order. With -publish-target, publishers connect to that
// server and subscribers to -target: two nodes of one cluster, the events
// crossing between them through their broker (bench/cluster.sh).
// bench/events.sh runs the whole comparison;
// bench/EVENTS-RESULTS.md explains the method.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type config struct {
	target     string
	addr       string // host:port of target
	pubTarget  string // publishers' server; empty: target
	pubAddr    string // host:port of pubTarget
	key        string
	dataDir    string
	serverPID  int
	label      string
	out        string
	scenarios  string
	n          int
	conc       int
	publishers int
	size       int
	rate       float64
	bRate      float64
	inflightA  int64
	window     int64
	batch      int
	warmup     time.Duration
	dur        time.Duration
	settle     time.Duration
	settleGC   time.Duration
	drain      time.Duration
	srcIPs     int
	bufSize    int
	pprof      string
	profileDir string
	reader     string
	serverCPU  int
	retryNoisy int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventsload:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string) (int, error) {
	var cfg config
	var baseline, compare, basePprof string
	var printPort, raw bool
	fs := flag.NewFlagSet("eventsload", flag.ContinueOnError)
	fs.StringVar(&cfg.target, "target", "", "events server base URL (loopback only), e.g. http://127.0.0.1:9229")
	fs.StringVar(&cfg.pubTarget, "publish-target", "", "publishers connect here instead of -target (another node of the same cluster; loopback only)")
	fs.StringVar(&cfg.key, "key", "", "API key (default: from -data)")
	fs.StringVar(&cfg.dataDir, "data", "", "Cognate data directory: the dev API key from amplify_outputs.json or events-dev-key")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "server process id, for its CPU time and RSS")
	fs.IntVar(&cfg.serverCPU, "server-cpu", -1, "the CPU the server is pinned to: report how busy other processes kept it")
	fs.IntVar(&cfg.retryNoisy, "retry-noisy", 0, "with -server-cpu: run a delivery phase again up to this many times while other processes took over 5 % of the server's CPU")
	fs.StringVar(&cfg.label, "label", "cognate", "label of this run in reports")
	fs.StringVar(&cfg.out, "out", "", "write the results as JSON to this file")
	fs.StringVar(&cfg.scenarios, "scenarios", "a,b,c,d,e", "scenarios to run: a,b,c,d,e (a, c, d and e share one set of connections)")
	fs.IntVar(&cfg.n, "n", 10000, "subscriber connections")
	fs.IntVar(&cfg.conc, "conc", 64, "connections opened at a time")
	fs.IntVar(&cfg.publishers, "publishers", 8, "publisher connections for b (a and c use one)")
	fs.IntVar(&cfg.size, "size", 100, "event size in bytes (JSON, before escaping)")
	fs.Float64Var(&cfg.rate, "rate", 10, "c: publishes per second to the one channel")
	fs.Float64Var(&cfg.bRate, "b-rate", 5000, "b: fixed publishes per second (over all channels) for the latency run; 0 skips it")
	fs.Int64Var(&cfg.inflightA, "inflight-a", 64, "a: events in flight (published, not yet delivered to everyone)")
	fs.Int64Var(&cfg.window, "window", 32, "publishes one publisher may have unanswered (b: publishers × window in flight)")
	fs.IntVar(&cfg.batch, "batch", 64, "most publish messages per write")
	fs.DurationVar(&cfg.warmup, "w", 2*time.Second, "warm-up before each measured window")
	fs.DurationVar(&cfg.dur, "d", 10*time.Second, "measured window")
	fs.DurationVar(&cfg.settle, "settle", 5*time.Second, "d: wait before reading RSS")
	fs.DurationVar(&cfg.settleGC, "settle-gc", 0, "d: also read RSS this long after the connections opened (over 2m: after the Go runtime's periodic GC)")
	fs.DurationVar(&cfg.drain, "drain", 15*time.Second, "longest wait for the last deliveries after a window")
	fs.IntVar(&cfg.srcIPs, "src-ips", 1, "spread connections over this many source addresses 127.0.0.1…")
	fs.IntVar(&cfg.bufSize, "buf", 8192, "read buffer per connection, bytes")
	fs.StringVar(&cfg.reader, "reader", "epoll", "how subscribers are read: epoll (one goroutine, Linux), spin (epoll, polling without ever idling the driver's CPU) or goroutine (one per connection)")
	fs.StringVar(&cfg.pprof, "pprof", "", "server's net/http/pprof base URL (bench/profserve -pprof): take a CPU profile in every measured window, heap and goroutines in d")
	fs.StringVar(&cfg.profileDir, "profile-dir", ".", "with -pprof: where profiles go, as LABEL-PHASE.cpu.prof …")
	fs.StringVar(&baseline, "baseline", "", "serve the baseline broadcast server on this loopback address until stopped")
	fs.StringVar(&basePprof, "baseline-pprof", "", "with -baseline: serve net/http/pprof on this loopback address")
	fs.BoolVar(&raw, "raw", false, "with -baseline: hand-written framing that writes each connection's queue with one write(2), instead of coder/websocket")
	fs.StringVar(&compare, "compare", "", "print the comparison of result files SERVER.json,BASELINE.json[,…] and exit")
	fs.BoolVar(&printPort, "freeport", false, "print a free loopback TCP port and exit")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	switch {
	case printPort:
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 1, err
		}
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		return 0, nil
	case compare != "":
		return printComparison(os.Stdout, compare)
	case baseline != "":
		if err := serveBaseline(ctx, baseline, cfg.key, raw, basePprof); err != nil {
			return 1, err
		}
		return 0, nil
	}
	if err := cfg.check(); err != nil {
		return 2, err
	}
	rep, err := drive(ctx, &cfg)
	if err != nil {
		return 1, err
	}
	rep.print(os.Stdout)
	if cfg.out != "" {
		raw, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.out, append(raw, '\n'), 0o644); err != nil {
			return 1, err
		}
	}
	if !rep.OK {
		return 1, errors.New("run FAILED: errors during the run; its figures are not a result")
	}
	return 0, nil
}

func (c *config) check() error {
	u, err := url.Parse(c.target)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-target %q: want http://HOST:PORT (HTTPS is not supported: run the server with --tls-addr off or use its HTTP listener)", c.target)
	}
	host, _, err := net.SplitHostPort(u.Host)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-target %q: loopback IP and port only", c.target)
	}
	c.addr = u.Host
	c.pubAddr = u.Host
	if c.pubTarget != "" {
		p, err := url.Parse(c.pubTarget)
		if err != nil || p.Scheme != "http" || p.Host == "" {
			return fmt.Errorf("-publish-target %q: want http://HOST:PORT", c.pubTarget)
		}
		host, _, err := net.SplitHostPort(p.Host)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("-publish-target %q: loopback IP and port only", c.pubTarget)
		}
		c.pubAddr = p.Host
	}
	if c.key == "" {
		if c.dataDir == "" {
			return errors.New("need -key or -data")
		}
		if c.key, err = devKey(c.dataDir); err != nil {
			return err
		}
	}
	for _, s := range strings.Split(c.scenarios, ",") {
		if !strings.Contains("abcde", s) || len(s) != 1 {
			return fmt.Errorf("-scenarios: unknown %q", s)
		}
	}
	switch {
	case c.n < 1 || c.conc < 1 || c.publishers < 1 || c.batch < 1:
		return errors.New("-n, -conc, -publishers and -batch must be positive")
	case c.rate <= 0 || c.inflightA < 1 || c.window < 1:
		return errors.New("-rate, -inflight-a and -window must be positive")
	case c.size < 40 || c.size > 200<<10:
		return errors.New("-size: 40 bytes to 200 KB")
	case c.srcIPs < 1 || c.srcIPs > 250:
		return errors.New("-src-ips: 1 to 250")
	case c.reader != "epoll" && c.reader != "spin" && c.reader != "goroutine":
		return fmt.Errorf("-reader %q: epoll, spin or goroutine", c.reader)
	}
	return nil
}

// devKey reads the dev API key Cognate writes into its data directory.
func devKey(dir string) (string, error) {
	var out struct {
		Custom struct {
			Events struct {
				APIKey string `json:"api_key"`
			} `json:"events"`
		} `json:"custom"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, "amplify_outputs.json"))
	if err == nil && json.Unmarshal(raw, &out) == nil && out.Custom.Events.APIKey != "" {
		return out.Custom.Events.APIKey, nil
	}
	raw, err = os.ReadFile(filepath.Join(dir, "events-dev-key"))
	if err != nil {
		return "", fmt.Errorf("no events API key in %s (amplify_outputs.json custom.events.api_key or events-dev-key): %w", dir, err)
	}
	return strings.TrimSpace(string(raw)), nil
}
