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
}

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
	fs.StringVar(&cfg.target, "target", "", "server URL (loopback only), e.g. http://127.0.0.1:9229; empty with -start")
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
	fs.StringVar(&cfg.keyID, "access-key-id", "", "Cognate admin access key id (default: from -data)")
	fs.StringVar(&cfg.secret, "secret-access-key", "", "Cognate admin secret access key")
	fs.IntVar(&cfg.serverPID, "server-pid", 0, "server process id, to report its CPU time per operation")
	fs.StringVar(&cfg.jsonOut, "json", "", "append the result as one JSON line to this file")
	fs.StringVar(&cfg.label, "label", "", "label of the run in reports (default: -kind)")
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

	if cfg.start != "" {
		var s *started
		var err error
		if cfg.start == "inproc" {
			s, err = startInProcess(ctx)
		} else {
			s, err = startSubprocess(ctx, cfg.cognateBin, cfg.serverCPUs)
		}
		if err != nil {
			return 1, err
		}
		defer s.stop()
		cfg.target, cfg.dataDir = s.url, s.dataDir
		if s.pid > 0 {
			cfg.serverPID = s.pid
		}
		fmt.Printf("started Cognate (%s) at %s\n", cfg.start, s.url)
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
		r = runLoad(ctx, &cfg, signOp(key), workers, 0)
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
	if cfg.op == opHTTPFloor {
		a, err := newAPI(strings.TrimRight(cfg.target, "/"), cfg.conc, nil)
		if err != nil {
			return result{}, err
		}
		workers := make([]*worker, cfg.conc)
		for i := range workers {
			workers[i] = &worker{id: i}
		}
		fmt.Printf("%s: http-floor with %d workers for %s (+%s warm-up)\n", cfg.label, cfg.conc, cfg.dur, cfg.warmup)
		return runLoad(ctx, cfg, httpFloorOp(a), workers, cfg.serverPID), nil
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
	a, err := newAPI(strings.TrimRight(cfg.target, "/"), cfg.conc, creds)
	if err != nil {
		return result{}, err
	}
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
		workers[i] = &worker{id: i}
		if err := initWorker(ctx, workers[i]); err != nil {
			return result{}, fmt.Errorf("worker setup: %w", err)
		}
	}
	fmt.Printf("%s: pool %s, %d users, set up in %s; running %s with %d workers for %s (+%s warm-up)\n",
		cfg.label, f.poolID, len(f.users), time.Since(t0).Round(time.Millisecond), cfg.op, cfg.conc, cfg.dur, cfg.warmup)
	return runLoad(ctx, cfg, fn, workers, cfg.serverPID), nil
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
