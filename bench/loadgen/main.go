// Command loadgen measures a Cognito-compatible user pool — Cognate or
// cognito-local — under concurrent load, over keep-alive HTTP, on this
// machine's loopback interface only.
//
//	go run ./bench/loadgen -op getuser -start subprocess -c 32 -d 10s
//	go run ./bench/loadgen -op password-signin -target http://127.0.0.1:9229 -data ./cognate-data
//	go run ./bench/loadgen -op getuser -kind cognito-local -target http://127.0.0.1:9230
//	go run ./bench/loadgen -op rsa-sign -data ./cognate-data
//	go run ./bench/loadgen -noop-server 127.0.0.1:9300 &  go run ./bench/loadgen -op http-floor -target http://127.0.0.1:9300
//	go run ./bench/loadgen -table results.jsonl
//	go run ./bench/loadgen -op srp-signin -start subprocess -nodes 3 -db-cpu postgres -db-name bench \
//		-access-key-id AKIABENCH -secret-access-key bench-secret-0123456789 \
//		-serve-arg=--storage=postgres://postgres@127.0.0.1:5432/bench
//
// Each run sets up its own pool (CreateUserPool), app clients
// (CreateUserPoolClient) and users (SignUp + AdminConfirmSignUp), the same
// calls for both servers; Cognate's admin calls are SigV4-signed with the
// credentials in its data directory. It then runs -c workers for -w
// (warm-up, not measured) plus -d, or until -n measured operations, and
// reports ops/s, latency percentiles, errors and, when it knows the
// server's PID, the server's CPU time per operation. A run with any error
// is reported as FAILED and exits with status 1.
//
// Several nodes (-nodes N with -start subprocess, or a comma-separated
// -target): load workers take the nodes in turn (worker i talks to node
// i mod N), setup goes to the first, and the CPU per operation is that of
// every node together. -db-cpu postgres adds the CPU of the PostgreSQL
// server processes (see dbcpu.go).
//
// bench/run.sh runs the whole comparison; docs/PERFORMANCE.md explains
// the method.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	kindCognate      = "cognate"
	kindCognitoLocal = "cognito-local"
)

type config struct {
	target     string
	kind       string
	op         string
	conc       int
	dur        time.Duration
	warmup     time.Duration
	maxOps     int64
	users      int
	dataDir    string
	poolID     string
	clientID   string
	keyID      string
	secret     string
	serverPID  int
	start      string
	cognateBin string
	serverCPUs string
	jsonOut    string
	label      string
	// Scale-out (docs/PERFORMANCE.md, issue 11).
	serverPIDs []int    // every node's process (serverPID joins them)
	serveArgs  []string // -serve-arg, appended to `cognate serve`
	nodes      int      // -start subprocess: this many nodes
	dbCPU      string   // "postgres": add the database server's CPU
	dbName     string   // with dbCPU: only this database's backends
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, " ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string) (int, error) {
	var cfg config
	var table string
	var printPort bool
	var noopAddr string
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.StringVar(&cfg.op, "op", opGetUser, "operation: "+strings.Join(allOps, ", "))
	fs.StringVar(&cfg.target, "target", "", "server URL (loopback only), e.g. http://127.0.0.1:9229, or several, comma-separated (nodes of one cluster); empty with -start")
	fs.StringVar(&cfg.kind, "kind", kindCognate, "server kind: cognate or cognito-local")
	fs.StringVar(&cfg.start, "start", "", "start Cognate on a temporary data dir: subprocess or inproc")
	fs.StringVar(&cfg.cognateBin, "cognate-bin", "", "with -start subprocess: the cognate binary (default: go build it)")
	fs.StringVar(&cfg.serverCPUs, "server-cpus", "", "with -start subprocess: pin the server with taskset -c, e.g. 0")
	fs.IntVar(&cfg.conc, "c", 32, "concurrent workers (each with its own keep-alive connection)")
	fs.DurationVar(&cfg.dur, "d", 10*time.Second, "measured duration")
	fs.DurationVar(&cfg.warmup, "w", 2*time.Second, "warm-up before measuring")
	fs.Int64Var(&cfg.maxOps, "n", 0, "stop after this many measured operations (0: only -d bounds the run)")
	fs.IntVar(&cfg.users, "users", 32, "users to create")
	fs.StringVar(&cfg.dataDir, "data", "", "Cognate's data directory (admin credentials; the signing key for rsa-sign)")
	fs.StringVar(&cfg.poolID, "pool", "", "use this existing pool instead of creating one")
	fs.StringVar(&cfg.clientID, "client", "", "use this existing app client instead of creating them")
	fs.StringVar(&cfg.keyID, "access-key-id", "", "Cognate admin access key id (default: from -data); with -start subprocess also given to the server as --admin-access-key-id")
	fs.StringVar(&cfg.secret, "secret-access-key", "", "Cognate admin secret access key")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "server process id, to report its CPU time per operation")
	fs.StringVar(&cfg.jsonOut, "json", "", "append the result as one JSON line to this file")
	fs.StringVar(&cfg.label, "label", "", "label of the run in reports (default: -kind)")
	fs.Var((*stringList)(&cfg.serveArgs), "serve-arg", "with -start subprocess: one more argument to `cognate serve` (repeatable), e.g. -serve-arg=--storage=postgres://…")
	fs.IntVar(&cfg.nodes, "nodes", 1, "with -start subprocess: start this many nodes (own ports and data directories, the same -serve-arg); workers take them in turn")
	fs.StringVar(&cfg.dbCPU, "db-cpu", "", `"postgres": also report the CPU time of the processes named postgres (the database server) per operation`)
	fs.StringVar(&cfg.dbName, "db-name", "", "with -db-cpu: count only this database's backends plus the server's own background processes, not other databases' sessions")
	fs.StringVar(&table, "table", "", "print the comparison table of a -json results file and exit")
	fs.BoolVar(&printPort, "freeport", false, "print a free loopback TCP port and exit")
	fs.StringVar(&noopAddr, "noop-server", "", "serve a trivial HTTP handler on this loopback address until stopped (the target of -op http-floor)")
	if err := fs.Parse(args); err != nil {
		return 2, nil
	}
	switch {
	case printPort:
		p, err := freePort()
		if err != nil {
			return 1, err
		}
		fmt.Println(p)
		return 0, nil
	case table != "":
		return printTable(table)
	case noopAddr != "":
		if err := serveNoop(ctx, noopAddr); err != nil {
			return 1, err
		}
		return 0, nil
	}
	if err := cfg.check(); err != nil {
		return 2, err
	}

	if cfg.serverPID > 0 {
		cfg.serverPIDs = []int{cfg.serverPID}
	}
	if cfg.start == "inproc" {
		s, err := startInProcess(ctx)
		if err != nil {
			return 1, err
		}
		defer s.stop()
		cfg.target, cfg.dataDir = s.url, s.dataDir
		fmt.Printf("started Cognate (%s) at %s\n", cfg.start, s.url)
	} else if cfg.start == "subprocess" {
		if cfg.cognateBin == "" {
			bin, cleanup, err := buildCognate(ctx)
			if err != nil {
				return 1, err
			}
			defer cleanup()
			cfg.cognateBin = bin
		}
		extra := cfg.serveArgs
		if cfg.keyID != "" {
			extra = append([]string{"--admin-access-key-id", cfg.keyID, "--admin-secret-access-key", cfg.secret}, extra...)
		}
		// One after the other: the first node creates the schema and the
		// default pool that the others then find.
		var urls []string
		for i := range cfg.nodes {
			var public string // node 1's URL is the cluster's
			if i > 0 {
				public = urls[0]
			}
			s, err := startSubprocess(ctx, cfg.cognateBin, cfg.serverCPUs, public, extra)
			if err != nil {
				return 1, fmt.Errorf("node %d: %w", i+1, err)
			}
			defer s.stop()
			urls = append(urls, s.url)
			cfg.serverPIDs = append(cfg.serverPIDs, s.pid)
			if i == 0 {
				cfg.dataDir = s.dataDir
			}
			fmt.Printf("started Cognate (%s) node %d at %s, PID %d\n", cfg.start, i+1, s.url, s.pid)
		}
		cfg.target = strings.Join(urls, ",")
	}

	var r result
	if cfg.op == opRSASign {
		key, pool, err := signingKey(ctx, cfg.dataDir, cfg.poolID)
		if err != nil {
			return 1, fmt.Errorf("rsa-sign: %w", err)
		}
		fmt.Printf("rsa-sign: pool %s access key, %d-bit RSA, %d workers\n", pool, key.N.BitLen(), cfg.conc)
		workers := make([]*worker, cfg.conc)
		for i := range workers {
			workers[i] = &worker{id: i}
		}
		r = runLoad(ctx, &cfg, signOp(key), workers, nil)
	} else {
		var err error
		if r, err = drive(ctx, &cfg); err != nil {
			return 1, err
		}
	}
	r.print()
	if cfg.jsonOut != "" {
		if err := appendJSON(cfg.jsonOut, r); err != nil {
			return 1, err
		}
	}
	if !r.OK {
		return 1, errors.New("run FAILED: errors during the run; its figures are not a result")
	}
	return 0, nil
}

func (c *config) check() error {
	if !slices.Contains(allOps, c.op) {
		return fmt.Errorf("-op %q: want one of %s", c.op, strings.Join(allOps, ", "))
	}
	if c.kind != kindCognate && c.kind != kindCognitoLocal {
		return fmt.Errorf("-kind %q: want cognate or cognito-local", c.kind)
	}
	if c.start != "" && c.start != "subprocess" && c.start != "inproc" {
		return fmt.Errorf("-start %q: want subprocess or inproc", c.start)
	}
	if c.start != "" && c.kind != kindCognate {
		return errors.New("-start only starts Cognate; run cognito-local yourself (bench/run.sh does)")
	}
	if c.nodes < 1 || c.nodes > 16 || (c.nodes > 1 && c.start != "subprocess") {
		return errors.New("-nodes: 1 to 16, more than 1 only with -start subprocess")
	}
	if c.dbCPU != "" && c.dbCPU != "postgres" {
		return fmt.Errorf("-db-cpu %q: only postgres", c.dbCPU)
	}
	if (c.keyID == "") != (c.secret == "") {
		return errors.New("give -access-key-id and -secret-access-key together")
	}
	if c.start != "" && c.target != "" {
		return errors.New("give -target or -start, not both")
	}
	if c.start == "" && c.target == "" && c.op != opRSASign {
		return errors.New("need -target URL or -start subprocess|inproc")
	}
	if c.op == opRSASign && c.start == "" && c.dataDir == "" {
		return errors.New("rsa-sign needs -data (Cognate's data directory) or -start")
	}
	if c.conc < 1 || c.conc > 1024 {
		return fmt.Errorf("-c %d: want 1..1024", c.conc)
	}
	if c.users < 1 || c.users > 10000 {
		return fmt.Errorf("-users %d: want 1..10000", c.users)
	}
	if c.dur <= 0 || c.dur > 10*time.Minute || c.warmup < 0 || c.warmup > time.Minute {
		return errors.New("-d must be in (0, 10m] and -w in [0, 1m]")
	}
	if c.label == "" {
		c.label = c.kind
	}
	return nil
}

// drive sets up the server and runs the op against it.
func drive(ctx context.Context, cfg *config) (result, error) {
	var creds *aws.Credentials
	// apis[i] talks to the i-th node; worker w to apis[w mod len(apis)].
	targets := strings.Split(cfg.target, ",")
	apis := func(creds *aws.Credentials) ([]*api, error) {
		var out []*api
		for _, t := range targets {
			a, err := newAPI(strings.TrimRight(strings.TrimSpace(t), "/"), (cfg.conc+len(targets)-1)/len(targets), creds)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
		return out, nil
	}
	if cfg.op == opHTTPFloor {
		as, err := apis(nil)
		if err != nil {
			return result{}, err
		}
		workers := make([]*worker, cfg.conc)
		for i := range workers {
			workers[i] = &worker{id: i, a: as[i%len(as)]}
		}
		fmt.Printf("%s: http-floor with %d workers for %s (+%s warm-up)\n", cfg.label, cfg.conc, cfg.dur, cfg.warmup)
		return runLoad(ctx, cfg, httpFloorOp(), workers, cfg.serverPIDs), nil
	}
	if cfg.kind == kindCognate {
		switch {
		case cfg.keyID != "":
			creds = &aws.Credentials{AccessKeyID: cfg.keyID, SecretAccessKey: cfg.secret, Source: "flags"}
		case cfg.dataDir != "":
			var err error
			if creds, err = adminCredentials(cfg.dataDir); err != nil {
				return result{}, err
			}
		default:
			return result{}, errors.New("admin calls to Cognate are signed: give -data or -access-key-id/-secret-access-key")
		}
	}
	as, err := apis(creds)
	if err != nil {
		return result{}, err
	}
	a := as[0] // setup and the op's own sign-ins
	t0 := time.Now()
	f, err := setup(ctx, a, cfg)
	if err != nil {
		return result{}, err
	}
	fn, initWorker, err := prepare(ctx, a, cfg, f)
	if err != nil {
		return result{}, err
	}
	workers := make([]*worker, cfg.conc)
	for i := range workers {
		workers[i] = &worker{id: i, a: as[i%len(as)]}
		if err := initWorker(ctx, workers[i]); err != nil {
			return result{}, fmt.Errorf("worker setup: %w", err)
		}
	}
	fmt.Printf("%s: pool %s, %d users, set up in %s; running %s with %d workers over %d node(s) for %s (+%s warm-up)\n",
		cfg.label, f.poolID, len(f.users), time.Since(t0).Round(time.Millisecond), cfg.op, cfg.conc, len(as), cfg.dur, cfg.warmup)
	return runLoad(ctx, cfg, fn, workers, cfg.serverPIDs), nil
}

func appendJSON(path string, r result) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
