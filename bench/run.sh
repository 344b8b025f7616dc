#!/usr/bin/env bash
# bench/run.sh — Cognate against cognito-local under the same load, and
# Cognate's refresh against the raw RSA signing floor, all in one run.
#
#   bash bench/run.sh                 # under 3 minutes
#   DUR=5s WARM=1s bash bench/run.sh  # quicker, noisier
#   PIN=no bash bench/run.sh          # servers and driver share both CPUs
#
# Builds cognate and bench/loadgen; starts Cognate, cognito-local (the
# version pinned in bench/cognito-local) and a trivial net/http server (the
# HTTP floor) on free loopback ports with temporary data directories; pins
# the servers to CPU $SERVER_CPU and the load driver to CPU $DRIVER_CPU
# (taskset); runs the same loadgen operations against each; measures raw
# RS256 signing with Cognate's pool key on the servers' CPU; and prints
# the comparison table with the issue's targets. Results land in $OUT (default artifacts/bench/<time>,
# git-ignored): results.jsonl, table.md and the servers' logs.
# Exits non-zero if any run had errors: such a run is not a result.
set -euo pipefail

cd "$(dirname "$0")/.."
DUR=${DUR:-10s}
WARM=${WARM:-2s}
CONC=${CONC:-32}
USERS=${USERS:-32}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
OUT=${OUT:-artifacts/bench/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source bench/lib.sh
bench_workdir cognate-bench

bench_pinning

echo "== building"
go build -o "$work/cognate" ./cmd/cognate
go build -o "$work/loadgen" ./bench/loadgen
if [ ! -f bench/cognito-local/node_modules/cognito-local/package.json ]; then
	(cd bench/cognito-local && npm ci --no-audit --no-fund --loglevel=error)
fi
clver=$(node -p 'require("./bench/cognito-local/node_modules/cognito-local/package.json").version')

cport=$("$work/loadgen" -freeport)
lport=$("$work/loadgen" -freeport)
nport=$("$work/loadgen" -freeport)
while [ "$lport" = "$cport" ]; do lport=$("$work/loadgen" -freeport); done
while [ "$nport" = "$cport" ] || [ "$nport" = "$lport" ]; do nport=$("$work/loadgen" -freeport); done

echo "== starting Cognate on 127.0.0.1:$cport and cognito-local $clver on 127.0.0.1:$lport (CPU $SERVER_CPU, pinning: $pinning)"
"${SERVER_PIN[@]}" "$work/cognate" serve --addr "127.0.0.1:$cport" --data "$work/cognate-data" \
	--public-url "http://127.0.0.1:$cport" --demo-addr off --metrics-addr off --log-level warn >"$OUT/cognate.log" 2>&1 &
cpid=$!
pids+=("$cpid")
mkdir -p "$work/cognito-local/.cognito"
echo '{}' >"$work/cognito-local/.cognito/config.json"
# exec all the way down (subshell → taskset → node), so $! is node's own
# PID: loadgen reads the servers' CPU time from /proc/PID/stat.
(cd "$work/cognito-local" && PORT=$lport HOST=127.0.0.1 exec "${SERVER_PIN[@]}" \
	node "$OLDPWD/bench/cognito-local/node_modules/cognito-local/lib/bin/start.js") >"$OUT/cognito-local.log" 2>&1 &
lpid=$!
pids+=("$lpid")
# The HTTP floor: a trivial net/http handler, for scale.
"${SERVER_PIN[@]}" "$work/loadgen" -noop-server "127.0.0.1:$nport" >"$OUT/noop.log" 2>&1 &
npid=$!
pids+=("$npid")
waitfor "http://127.0.0.1:$cport/healthz" Cognate
waitfor "http://127.0.0.1:$lport/health" cognito-local
waitfor "http://127.0.0.1:$nport/" "the HTTP floor server"
if [ "$(cat "/proc/$cpid/comm")" != cognate ] || [ "$(cat "/proc/$lpid/comm")" != node ] || [ "$(cat "/proc/$npid/comm")" != loadgen ]; then
	echo "run.sh: the PIDs held are not the servers' own; their CPU figures would be wrong" >&2
	exit 1
fi

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "go: $(go version | cut -d' ' -f3), node: $(node --version), cognito-local: $clver"
	echo "pinning: $pinning (servers on CPU $SERVER_CPU, driver on CPU $DRIVER_CPU; cognate affinity $(taskset -cp "$cpid" 2>/dev/null | cut -d: -f2), node affinity $(taskset -cp "$lpid" 2>/dev/null | cut -d: -f2)); concurrency $CONC, $USERS users, $WARM warm-up + $DUR measured per run"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes')"
} | tee "$OUT/environment.txt"

failed=0
results="$OUT/results.jsonl"
drive() { # KIND OP
	local kind=$1 op=$2 url pid
	if [ "$op" = http-floor ]; then
		url="http://127.0.0.1:$nport" pid=$npid
	elif [ "$kind" = cognate ]; then
		url="http://127.0.0.1:$cport" pid=$cpid
	else
		url="http://127.0.0.1:$lport" pid=$lpid
	fi
	echo "== $kind $op"
	"${DRIVER_PIN[@]}" "$work/loadgen" -kind "$kind" -target "$url" -data "$work/cognate-data" -server-pid "$pid" \
		-op "$op" -c "$CONC" -d "$DUR" -w "$WARM" -users "$USERS" -label "$([ "$op" = http-floor ] && echo http-floor || echo "$kind")" \
		-json "$results" || failed=$((failed + 1))
}
floor() {
	echo "== RSA signing floor (CPU $SERVER_CPU, the servers' CPU, while they idle)"
	"${SERVER_PIN[@]}" "$work/loadgen" -op rsa-sign -label rsa-floor -data "$work/cognate-data" \
		-c "$CONC" -d "$DUR" -w "$WARM" -json "$results" || failed=$((failed + 1))
}

# Interleaved, so that slow drifts in the machine's load hit both servers
# alike; the signing floor is measured before and after the refreshes.
drive cognate getuser
drive cognito-local getuser
drive cognate http-floor
floor
drive cognate refresh
drive cognate refresh-token-auth
drive cognito-local refresh-token-auth
drive cognate refresh-rotate
floor
drive cognate password-signin
drive cognito-local password-signin
drive cognate srp-signin

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/environment.txt"
echo
"$work/loadgen" -table "$results" | tee "$OUT/table.md"
echo
echo "results: $OUT"
if [ "$failed" -gt 0 ]; then
	echo "run.sh: $failed run(s) had errors; their figures are not results" >&2
	exit 1
fi
