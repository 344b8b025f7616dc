#!/usr/bin/env bash
# bench/gateway.sh — what `cognate gateway` costs in front of an app: the
# same trivial app straight, through the gateway with a valid session,
# through a bare httputil.ReverseProxy and through oauth2-proxy v7 in
# cookie-session mode, in one run. Every request but oauth2-proxy's
# carries the same 2.7 KB Amplify Cookie header; oauth2-proxy's carries
# its own session cookie.
#
#   bash bench/gateway.sh                       # ≈ 5 minutes after the builds
#   ROUNDS=3 DUR=5s bash bench/gateway.sh       # shorter
#   O2P=no bash bench/gateway.sh                # without oauth2-proxy
#   O2P_BIN=/path/oauth2-proxy bash bench/gateway.sh   # a prebuilt oauth2-proxy
#   PIN=no bash bench/gateway.sh                # no taskset
#
# Builds cognate, bench/sessionapp (sign-in, free ports) and
# bench/gatewayload, and oauth2-proxy $O2P_VERSION from the Go module
# proxy into the temporary directory (go install with its own go.mod,
# never this repository's; the row is skipped with a message if that
# fails). Starts `cognate serve` (HTTP only) on CPU $DRIVER_CPU, creates
# a user and signs it in with SRP (`sessionapp -signin`: the Amplify
# cookies of the pool's app client). Then, all on CPU $SERVER_CPU:
#   - the app (`gatewayload -upstream`): /hello answers 342 bytes of JSON,
#     /stream 10 chunks of 100 bytes, flushed, 1 ms apart;
#   - `cognate gateway` in front of it (server mode, default policy: every
#     path needs a session), with that client;
#   - `gatewayload -rproxy`: httputil.ReverseProxy with SetURL and
#     SetXForwarded, nothing else;
#   - oauth2-proxy (provider oidc, issuer <cognate>/<pool>, a confidential
#     client created for it, cookie sessions, request logging off), signed
#     in through its /oauth2/start, Cognate's hosted login page and its
#     callback (`gatewayload -proxy-signin`).
# Each of $ROUNDS rounds is one `gatewayload -drive` (on CPU $DRIVER_CPU):
# $CONN keep-alive connections per target, all of them on one target at a
# time in $WINDOW windows, targets in the order direct, gateway, rproxy,
# oauth2-proxy and back (A B C D D C B A …) for $DUR per target after a
# $WARM warm-up each; the CPU time of the target's processes (the proxy
# and the app) is read from /proc/PID/task/*/schedstat at every switch,
# the server CPU's busy time from /proc/stat. Then $LAT streamed
# requests per target, one at a time, targets in turn: time to the first
# and to the last chunk. Results land in $OUT (default
# artifacts/bench/gateway-<time>): results.jsonl, table.md,
# environment.txt, the servers' logs. Exits non-zero if a run had errors.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-10s}
WARM=${WARM:-1s}
WINDOW=${WINDOW:-250ms}
CONN=${CONN:-32}
LAT=${LAT:-300}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
O2P=${O2P:-yes}
O2P_VERSION=${O2P_VERSION:-v7.15.6}
O2P_BIN=${O2P_BIN:-}
OUT=${OUT:-artifacts/bench/gateway-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source bench/lib.sh
bench_workdir cognate-gateway-bench
bench_pinning

echo "== building"
go build -o "$work/cognate" ./cmd/cognate
go build -o "$work/sessionapp" ./bench/sessionapp
go build -o "$work/gatewayload" ./bench/gatewayload
o2p=""
if [ "$O2P" = yes ]; then
	if [ -n "$O2P_BIN" ]; then
		o2p=$O2P_BIN
	else
		echo "== building oauth2-proxy $O2P_VERSION from the module proxy (into $work, not this module)"
		if (cd "$work" && GOBIN="$work/bin" GOFLAGS=-mod=mod go install "github.com/oauth2-proxy/oauth2-proxy/v7@$O2P_VERSION") >"$OUT/oauth2-proxy-build.log" 2>&1; then
			o2p="$work/bin/oauth2-proxy"
		else
			echo "gateway.sh: oauth2-proxy $O2P_VERSION did not build (see $OUT/oauth2-proxy-build.log); its row is skipped" >&2
		fi
	fi
fi

port() { "$work/sessionapp" -freeport; }
declare -A taken=()
newport() {
	local p
	p=$(port)
	while [ -n "${taken[$p]:-}" ]; do p=$(port); done
	taken[$p]=1
	echo "$p"
}
cport=$(newport)
uport=$(newport)
gport=$(newport)
rport=$(newport)
oport=$(newport)

echo "== starting Cognate on 127.0.0.1:$cport (CPU $DRIVER_CPU, with the driver)"
data="$work/cognate-data"
cognate_url="http://127.0.0.1:$cport"
"${DRIVER_PIN[@]}" "$work/cognate" serve --addr "127.0.0.1:$cport" --data "$data" --public-url "$cognate_url" \
	--tls-addr off --demo-addr off --metrics-addr off --log-level warn >"$OUT/cognate.log" 2>&1 &
pids+=("$!")
waitfor "$cognate_url/healthz" Cognate

email="gateway-bench@example.com"
password="Bench-Passw0rd!"
"$work/cognate" admin --data "$data" --endpoint "$cognate_url" create-user --email "$email" --password "$password" >"$OUT/create-user.txt"
cookie=$("$work/sessionapp" -signin "$email" -password "$password" -endpoint "$cognate_url" -data "$data")
username=$(sed -n 's/.*\.LastAuthUser=\([^;]*\).*/\1/p' <<<"$cookie")
printf '%s\n' "$cookie" >"$OUT/cookie-header.txt"
pool=$(sed -n 's/.*"user_pool_id": *"\([^"]*\)".*/\1/p' "$data/amplify_outputs.json" | head -1)
client=$(sed -n 's/.*"user_pool_client_id": *"\([^"]*\)".*/\1/p' "$data/amplify_outputs.json" | head -1)

echo "== starting the app, the gateway, the ReverseProxy$([ -n "$o2p" ] && echo ' and oauth2-proxy') (CPU $SERVER_CPU, pinning: $pinning)"
up="http://127.0.0.1:$uport"
"${SERVER_PIN[@]}" "$work/gatewayload" -upstream "127.0.0.1:$uport" >"$OUT/app.log" 2>&1 &
upid=$!
pids+=("$upid")
"${SERVER_PIN[@]}" "$work/cognate" gateway --upstream "$up" --listen "127.0.0.1:$gport" --metrics-addr off \
	--origin "http://127.0.0.1:$gport" --client-id "$client" --user-pool-id "$pool" --user-pool-endpoint "$cognate_url" \
	--log-level warn >"$OUT/gateway.log" 2>&1 &
gpid=$!
pids+=("$gpid")
"${SERVER_PIN[@]}" "$work/gatewayload" -rproxy "127.0.0.1:$rport" -to "$up" >"$OUT/rproxy.log" 2>&1 &
rpid=$!
pids+=("$rpid")
waitfor "$up/hello" "the app"
waitfor "http://127.0.0.1:$gport/_gateway/health" "the gateway"
waitfor "http://127.0.0.1:$rport/hello" "the ReverseProxy"

o2pnote="not run (O2P=no)"
opid=""
if [ -n "$o2p" ]; then
	o2pnote="oauth2-proxy $("$o2p" --version 2>&1 | head -1)"
	ourl="http://127.0.0.1:$oport"
	read -r oclient osecret <<<"$("$work/gatewayload" -oidc-client "$ourl/oauth2/callback" -endpoint "$cognate_url" -data "$data")"
	"${SERVER_PIN[@]}" "$o2p" --provider oidc --oidc-issuer-url "$cognate_url/$pool" \
		--client-id "$oclient" --client-secret "$osecret" --scope "openid email profile" --code-challenge-method S256 \
		--redirect-url "$ourl/oauth2/callback" --http-address "127.0.0.1:$oport" --upstream "$up/" \
		--cookie-secret "$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')" --cookie-secure=false \
		--email-domain '*' --skip-provider-button --request-logging=false --auth-logging=false \
		>"$OUT/oauth2-proxy.log" 2>&1 &
	opid=$!
	pids+=("$opid")
	waitfor "$ourl/ping" oauth2-proxy
	if "$work/gatewayload" -proxy-signin "$ourl" -user "$email" -password "$password" >"$OUT/o2p-cookie-header.txt" 2>"$OUT/o2p-signin.log"; then
		echo "oauth2-proxy session cookie: $(wc -c <"$OUT/o2p-cookie-header.txt") bytes"
	else
		cat "$OUT/o2p-signin.log" >&2
		echo "gateway.sh: signing in through oauth2-proxy failed; its row is skipped" >&2
		o2pnote="$o2pnote — sign-in failed, not measured"
		opid=""
	fi
fi
for p in "$upid" "$gpid" "$rpid" $opid; do
	case $(cat "/proc/$p/comm") in gatewayload | cognate | oauth2-proxy) ;; *)
		echo "gateway.sh: PID $p is $(cat "/proc/$p/comm"), not a server; its CPU figures would be wrong" >&2
		exit 1
		;;
	esac
done

# The gateway forwards the session's identity (so the session is valid and
# resolved), and sends a signed-out script away.
got=$(curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$gport/whoami") || got="(failed)"
if [ "$got" != "$username" ]; then
	echo "gateway.sh: the app saw X-Cognate-User '$got' through the gateway, want '$username'" >&2
	exit 1
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$gport/hello")
if [ "$code" = 200 ]; then
	echo "gateway.sh: the gateway let a request without a session through" >&2
	exit 1
fi

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "go: $(go version | cut -d' ' -f3); $o2pnote"
	echo "pinning: $pinning (app, gateway, ReverseProxy, oauth2-proxy on CPU $SERVER_CPU; driver and Cognate on CPU $DRIVER_CPU)"
	echo "load: $CONN keep-alive connections per target, $WINDOW windows, $WARM warm-up + $DUR measured per target, $ROUNDS rounds; $LAT streamed requests per target per round; Cookie header $(printf '%s' "$cookie" | wc -c) bytes (gateway)"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes')"
} | tee "$OUT/environment.txt"

# Every target gets the browser's Amplify Cookie header (the app and the
# bare proxy get it as they would without the gateway), oauth2-proxy its
# own session cookie.
targets=(-cookie-file "$OUT/cookie-header.txt" -target "direct,$up,$upid" -target "gateway,http://127.0.0.1:$gport,$gpid+$upid"
	-target "rproxy,http://127.0.0.1:$rport,$rpid+$upid")
if [ -n "$opid" ]; then
	targets+=(-target "oauth2-proxy,$ourl,$opid+$upid,$OUT/o2p-cookie-header.txt")
fi
failed=0
for round in $(seq 1 "$ROUNDS"); do
	echo "== round $round of $ROUNDS (load average $(cut -d' ' -f1 /proc/loadavg))"
	"${DRIVER_PIN[@]}" "$work/gatewayload" -drive "${targets[@]}" -conns "$CONN" -window "$WINDOW" -duration "$DUR" \
		-warm "$WARM" -latency "$LAT" -round "$round" -server-cpu "$SERVER_CPU" -out "$OUT/results.jsonl" ||
		failed=$((failed + 1))
done
got=$(curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$gport/whoami") || got="(failed)"
if [ "$got" != "$username" ]; then
	echo "gateway.sh: after the run the gateway forwarded '$got', want '$username'" >&2
	failed=$((failed + 1))
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/environment.txt"
echo
if [ -s "$OUT/results.jsonl" ]; then
	"$work/gatewayload" -table "$OUT/results.jsonl" | tee "$OUT/table.md"
fi
echo "results: $OUT"
if [ "$failed" -gt 0 ]; then
	echo "gateway.sh: $failed run(s) had errors; their figures are not results" >&2
	exit 1
fi
