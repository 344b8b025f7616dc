#!/usr/bin/env bash
# bench/events.sh — Cognate's events API (/event/realtime) against two
# baselines under the same load, in one run: a bare coder/websocket
# broadcast server, and the same broadcast with hand-written framing that
# writes each connection's queue with one write(2) (the floor of this
# machine).
#
#   bash bench/events.sh                      # ≈ 5 minutes
#   DUR=5s WARM=1s bash bench/events.sh       # quicker, noisier
#   SETTLE_GC=130s bash bench/events.sh       # memory also read after the Go runtime's periodic GC
#   SERVERS="cognate baseline" bash bench/events.sh   # a subset: cognate, baseline, raw
#   PIN=no bash bench/events.sh               # servers and driver share both CPUs
#   RETRY=0 bash bench/events.sh              # keep phases that other processes disturbed
#   PROFILE=yes bash bench/events.sh          # Cognate as bench/profserve, the baselines with
#                                             # -baseline-pprof: CPU profiles of every measured
#                                             # window, heap and goroutines in d (pprof -top in *.top.txt)
#
# Builds cognate and bench/eventsload; for each server in $SERVERS starts
# it on a free loopback port (Cognate: `cognate serve --tls-addr off` on a
# temporary data directory, its dev API key read from there; the
# baselines: `eventsload -baseline [-raw]`), pinned with taskset to CPU $SERVER_CPU, and runs
# eventsload pinned to CPU $DRIVER_CPU: $N connections per second (e),
# memory per idle connection (d), latency at 10 publishes/s × $N
# subscribers of one channel (c), deliveries/s on that channel (a), and
# deliveries/s and latency with $N channels of one subscriber each (b).
# Results land in $OUT (default artifacts/bench-events/<time>,
# git-ignored): SERVER.json, SERVER.txt, the servers' logs and table.md,
# the comparison with the issue's targets. Exits non-zero if any run had
# errors: such a run is not a result.
set -euo pipefail

cd "$(dirname "$0")/.."
N=${N:-10000}
DUR=${DUR:-10s}
WARM=${WARM:-2s}
SETTLE=${SETTLE:-5s}
SETTLE_GC=${SETTLE_GC:-0}
SERVERS=${SERVERS:-cognate baseline raw}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
EXTRA=${EXTRA:-}
OUT=${OUT:-artifacts/bench-events/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/cognate-events-bench.XXXXXX")
spid=""
stop_server() {
	if [ -n "$spid" ]; then
		kill "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
		spid=""
	fi
}
cleanup() {
	stop_server
	rm -rf "$work"
}
trap cleanup EXIT

# eventsload reads the server's CPU time and RSS from /proc/PID: "$!" of
# a backgrounded pinned server is its own PID (see bench_pinning).
source bench/lib.sh
bench_pinning
CPU_FLAG=()
if [ "$pinning" = yes ]; then
	# The driver reports other processes' use of the server's CPU and runs
	# a disturbed delivery phase again, up to $RETRY times.
	CPU_FLAG=(-server-cpu "$SERVER_CPU" -retry-noisy "${RETRY:-2}")
fi

# Server and driver each hold $N sockets; Go raises the soft limit to the
# hard one by itself, so only the hard limit matters.
if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt $((N + 200)) ]; then
	echo "events.sh: the hard RLIMIT_NOFILE is $(ulimit -Hn); $N connections need $((N + 200))" >&2
	exit 1
fi

echo "== building"
if [[ " $SERVERS " == *" cognate "* ]]; then
	go build -o "$work/cognate" ./cmd/cognate
	if [ "${PROFILE:-no}" = yes ]; then
		go build -o "$work/profserve" ./bench/profserve
	fi
fi
go build -o "$work/eventsload" ./bench/eventsload

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "go: $(go version | cut -d' ' -f3); RLIMIT_NOFILE hard $(ulimit -Hn); ip_local_port_range $(tr '\t' ' ' </proc/sys/net/ipv4/ip_local_port_range); somaxconn $(cat /proc/sys/net/core/somaxconn)"
	echo "pinning: $pinning (servers on CPU $SERVER_CPU, driver on CPU $DRIVER_CPU); $N subscribers, $WARM warm-up + $DUR measured, settle $SETTLE, settle-gc $SETTLE_GC"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes')"
	# Identifies the code under test when the tree has uncommitted changes.
	echo "sha256 of events/ eventsapi/ broker/ server/ *.go: $(find events eventsapi broker server -name '*.go' ! -name '*_test.go' 2>/dev/null | LC_ALL=C sort | xargs cat 2>/dev/null | sha256sum | cut -c1-16)"
} | tee "$OUT/environment.txt"

failed=0
drive() { # LABEL PORT KEY-ARGS...
	local label=$1 port=$2
	shift 2
	echo "== $label: server PID $spid, affinity$(taskset -cp "$spid" 2>/dev/null | cut -d: -f2)" | tee -a "$OUT/environment.txt"
	# shellcheck disable=SC2086 # EXTRA is a list of flags
	"${DRIVER_PIN[@]}" "$work/eventsload" -target "http://127.0.0.1:$port" "$@" -server-pid "$spid" "${CPU_FLAG[@]}" \
		-label "$label" -n "$N" -w "$WARM" -d "$DUR" -settle "$SETTLE" -settle-gc "$SETTLE_GC" \
		-out "$OUT/$label.json" $EXTRA 2>&1 | tee "$OUT/$label.txt" || failed=$((failed + 1))
}

# profiling PORT: the driver's flags to fetch profiles from a pprof port
# (none unless PROFILE=yes).
profiling() {
	if [ "${PROFILE:-no}" = yes ]; then
		echo "-pprof http://127.0.0.1:$1 -profile-dir $OUT"
	fi
}

tops() {
	for p in "$OUT"/*.cpu.prof; do
		if [ -e "$p" ] && [ ! -e "${p%.prof}.top.txt" ]; then
			go tool pprof -top -nodecount 60 "$p" >"${p%.prof}.top.txt" 2>/dev/null || true
		fi
	done
}

run_baseline() { # LABEL [-raw]
	local label=$1 port pport key=da2-eventsbenchbaselinekey000000 bprof=()
	shift
	port=$("$work/eventsload" -freeport)
	pport=$("$work/eventsload" -freeport)
	if [ "${PROFILE:-no}" = yes ]; then
		bprof=(-baseline-pprof "127.0.0.1:$pport")
	fi
	"${SERVER_PIN[@]}" "$work/eventsload" -baseline "127.0.0.1:$port" -key "$key" "$@" "${bprof[@]}" >"$OUT/$label.log" 2>&1 &
	spid=$!
	waitfor "http://127.0.0.1:$port/healthz" "the $label server"
	if [ "$(cat "/proc/$spid/comm")" != eventsload ]; then
		echo "events.sh: the PID held is not the $label server's own" >&2
		exit 1
	fi
	# shellcheck disable=SC2046 # a list of flags
	drive "$label" "$port" -key "$key" $(profiling "$pport")
	stop_server
	tops
}

run_cognate() {
	local port pport data=$work/cognate-data extra=() comm=cognate
	port=$("$work/eventsload" -freeport)
	pport=$("$work/eventsload" -freeport)
	if [ "${PROFILE:-no}" = yes ]; then
		"${SERVER_PIN[@]}" "$work/profserve" -addr "127.0.0.1:$port" -pprof "127.0.0.1:$pport" -data "$data" >"$OUT/cognate.log" 2>&1 &
		comm=profserve
	else
		# Older binaries (A/B runs) lack some flags: pass only what they know.
		local help
		help=$("$work/cognate" serve -h 2>&1 || true)
		if grep -q -- '-demo-addr' <<<"$help"; then
			extra+=(--demo-addr off)
		fi
		if grep -q -- '-metrics-addr' <<<"$help"; then
			extra+=(--metrics-addr off)
		fi
		# The driver opens thousands of connections with one key from one
		# address.
		if grep -q -- '-events-max-connections' <<<"$help"; then
			extra+=(--events-max-connections=-1 --events-max-connections-per-address=-1 --events-max-connections-per-api-key=-1)
		fi
		"${SERVER_PIN[@]}" "$work/cognate" serve --addr "127.0.0.1:$port" --tls-addr off --data "$data" \
			--public-url "http://127.0.0.1:$port" --log-level warn "${extra[@]}" >"$OUT/cognate.log" 2>&1 &
	fi
	spid=$!
	waitfor "http://127.0.0.1:$port/healthz" Cognate
	if [ "$(cat "/proc/$spid/comm")" != "$comm" ]; then
		echo "events.sh: the PID held is not Cognate's own" >&2
		exit 1
	fi
	for _ in $(seq 1 50); do
		if [ -s "$data/events-dev-key" ] || grep -qs '"api_key"' "$data/amplify_outputs.json"; then
			break
		fi
		sleep 0.2
	done
	# shellcheck disable=SC2046 # a list of flags
	drive cognate "$port" -data "$data" $(profiling "$pport")
	stop_server
	tops
}

for s in $SERVERS; do
	case $s in
	baseline) run_baseline baseline ;;
	raw) run_baseline raw -raw ;;
	cognate) run_cognate ;;
	*)
		echo "events.sh: unknown server $s (cognate, baseline, raw)" >&2
		exit 2
		;;
	esac
done

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/environment.txt"
compare=""
for s in cognate baseline raw; do
	if [ -f "$OUT/$s.json" ]; then
		compare+=${compare:+,}$OUT/$s.json
	fi
done
if [[ "$compare" == *,* ]]; then
	echo
	"$work/eventsload" -compare "$compare" | tee "$OUT/table.md" || true
fi
echo
echo "results: $OUT"
if [ "$failed" -gt 0 ]; then
	echo "events.sh: $failed run(s) had errors; their figures are not results" >&2
	exit 1
fi
