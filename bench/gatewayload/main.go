// Command gatewayload is the Go side of bench/gateway.sh: the trivial
// app behind the proxies, a bare httputil.ReverseProxy to compare the
// gateway with, and the load driver.
//
//	gatewayload -upstream 127.0.0.1:9000                    # the app: /hello (a few hundred bytes), /stream (chunks), /whoami
//	gatewayload -rproxy 127.0.0.1:9001 -to http://127.0.0.1:9000   # a bare httputil.ReverseProxy
//	gatewayload -drive -target 'direct,http://127.0.0.1:9000,PID' -target 'gateway,http://…,GWPID+PID,COOKIEFILE' …
//	                                                         # interleaved throughput, then streamed latency
//	gatewayload -table results.jsonl                         # the report (markdown)
//	gatewayload -oidc-client http://127.0.0.1:4180/oauth2/callback -endpoint COGNATE -data DIR  # prints "id secret"
//	gatewayload -proxy-signin http://127.0.0.1:4180 -user U -password PW   # prints oauth2-proxy's Cookie header
//
// It exists for measurement only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gatewayload:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type targetList []string

func (t *targetList) String() string     { return "" }
func (t *targetList) Set(v string) error { *t = append(*t, v); return nil }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("gatewayload", flag.ContinueOnError)
	upstream := fs.String("upstream", "", "serve the trivial app on this loopback address")
	chunks := fs.Int("chunks", 10, "with -upstream: chunks of /stream")
	chunkGap := fs.Duration("chunk-gap", time.Millisecond, "with -upstream: pause between /stream's chunks")
	rproxy := fs.String("rproxy", "", "serve a bare httputil.ReverseProxy on this loopback address")
	to := fs.String("to", "", "with -rproxy: the app's URL")
	table := fs.String("table", "", "print the report of these results.jsonl files (comma-separated)")
	oidcRedirect := fs.String("oidc-client", "", "create a confidential code-flow app client in Cognate with this callback URL and print its id and secret")
	endpoint := fs.String("endpoint", "", "with -oidc-client: Cognate's URL")
	data := fs.String("data", "", "with -oidc-client: Cognate's data directory (admin credentials, pool)")
	signin := fs.String("proxy-signin", "", "sign in through the auth proxy at this base URL and print its session's Cookie header")
	start := fs.String("start", "/oauth2/start?rd=%2Fhello", "with -proxy-signin: where the sign-in starts")
	cookiePrefix := fs.String("cookie-prefix", "_oauth2_proxy", "with -proxy-signin: the proxy's session cookie name")
	user := fs.String("user", "", "with -proxy-signin: username")
	password := fs.String("password", "", "with -proxy-signin: password")
	var d driveConfig
	var targets targetList
	fs.BoolVar(&d.enabled, "drive", false, "drive the -target servers")
	fs.Var(&targets, "target", "label,URL,PID[+PID…][,cookie file]: a server to drive (repeat); the first is the baseline; the PIDs' CPU is that target's")
	fs.StringVar(&d.cookieFile, "cookie-file", "", "with -drive: Cookie header for targets that name no file of their own")
	fs.StringVar(&d.path, "path", "/hello", "with -drive: the throughput request's path")
	fs.StringVar(&d.streamPath, "stream-path", "/stream", "with -drive: the streamed request's path")
	fs.IntVar(&d.conns, "conns", 32, "with -drive: keep-alive connections per target")
	fs.DurationVar(&d.window, "window", 250*time.Millisecond, "with -drive: window length")
	fs.DurationVar(&d.duration, "duration", 10*time.Second, "with -drive: measured time per target (in windows)")
	fs.DurationVar(&d.warm, "warm", time.Second, "with -drive: warm-up per target before the windows")
	fs.IntVar(&d.latency, "latency", 300, "with -drive: streamed requests per target for latency (one at a time, targets in turn; 0: none)")
	fs.IntVar(&d.round, "round", 1, "with -drive: round number, written to the results")
	fs.IntVar(&d.serverCPU, "server-cpu", 0, "with -drive: the CPU the servers are pinned to (its busy time is read from /proc/stat)")
	fs.StringVar(&d.outFile, "out", "", "with -drive: append the results (JSON lines) here")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	switch {
	case *upstream != "":
		return serveUpstream(ctx, *upstream, *chunks, *chunkGap)
	case *rproxy != "":
		return serveReverseProxy(ctx, *rproxy, *to)
	case *oidcRedirect != "":
		return oidcClient(ctx, *endpoint, *data, *oidcRedirect, out)
	case *signin != "":
		return proxySignIn(ctx, *signin, *start, *cookiePrefix, *user, *password, out)
	case *table != "":
		return report(out, *table)
	case d.enabled:
		if err := d.parseTargets(targets); err != nil {
			return err
		}
		return drive(ctx, d, out)
	}
	return fmt.Errorf("%w: one of -upstream, -rproxy, -drive, -table", errUsage)
}
