#!/usr/bin/env bash
# bench/session.sh — the session layer's cost per request, against the
# same handler without it and against the Node equivalent, in one run.
#
#   bash bench/session.sh                  # about 6 minutes
#   RUNS=5 DUR=10s WARM=2s bash bench/session.sh   # fewer, longer rounds
#   PROFILE=yes bash bench/session.sh      # also CPU profiles of the Go server
#   PIN=no bash bench/session.sh           # no taskset
#   GOBENCH=no bash bench/session.sh       # skip the go test benchmarks
#   INTERLEAVE=0 bash bench/session.sh     # skip the interleaved runs (default 40s per pair)
#
# Builds cognate and bench/sessionapp, installs bench/sessionnode's
# pinned aws-jwt-verify (npm ci), starts `cognate serve` on a temporary
# data directory (HTTP only, no demo), creates a user (`cognate admin
# create-user`) and signs it in with SRP (`sessionapp -signin`), which
# gives the Cookie header every request carries. Then it starts
#   - sessionapp: the same tiny handler at /bare and, behind
#     session.Manager.Middleware (ModeServer), at /mw;
#   - bench/sessionnode: /bare, and /mw doing the per-request check of
#     @aws-amplify/adapter-nextjs with aws-jwt-verify;
# both pinned to CPU $SERVER_CPU, while wrk and Cognate (hit once, for
# the JWKS) share CPU $DRIVER_CPU. Each of $RUNS rounds drives Go /bare,
# Go /mw, Node /bare and Node /mw in turn (reversed every other round)
# with wrk ($WARM warm-up, then $DUR measured, $CONN keep-alive
# connections, one wrk thread), reading the server's CPU time from
# /proc/PID/stat and its CPU's busy time from /proc/stat around the
# measured run; the body of each route is checked with curl before and
# after. The report gives each ratio as the median of its per-round
# ratios, also over only the rounds no other process disturbed. Finally the
# in-process benchmarks of session/ and tokenverify/ (first-sight
# verification, cached verification, refresh) run pinned to CPU
# $SERVER_CPU. Results land in $OUT (default artifacts/bench/session-<time>,
# git-ignored): results.jsonl, gobench.txt, table.md, environment.txt and
# the servers' logs; `sessionapp -table a.jsonl,b.jsonl` pools the rounds
# of several runs. Exits non-zero if a run had errors.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-10}
DUR=${DUR:-5s}
WARM=${WARM:-1s}
INTERLEAVE=${INTERLEAVE:-40s}
WINDOW=${WINDOW:-100ms}
CONN=${CONN:-8}
BENCHTIME=${BENCHTIME:-2s}
BENCHCOUNT=${BENCHCOUNT:-3}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
PROFILE=${PROFILE:-no}
PROF_SECS=${PROF_SECS:-7}
GOBENCH=${GOBENCH:-yes}
OUT=${OUT:-artifacts/bench/session-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "== installing wrk (Debian package)"
		apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
	else
		echo "session.sh: wrk is required (apt-get install wrk)" >&2
		exit 1
	fi
fi

source bench/lib.sh
bench_workdir cognate-session-bench

bench_pinning

echo "== building"
go build -o "$work/cognate" ./cmd/cognate
go build -o "$work/sessionapp" ./bench/sessionapp
go test -c -o "$work/session.test" ./session
go test -c -o "$work/tokenverify.test" ./tokenverify
if [ ! -f bench/sessionnode/node_modules/aws-jwt-verify/package.json ]; then
	(cd bench/sessionnode && npm ci --no-audit --no-fund --loglevel=error)
fi
jwtver=$(node -p 'require("./bench/sessionnode/node_modules/aws-jwt-verify/package.json").version')

port() { "$work/sessionapp" -freeport; }
cport=$(port)
gport=$(port)
nport=$(port)
while [ "$gport" = "$cport" ]; do gport=$(port); done
while [ "$nport" = "$cport" ] || [ "$nport" = "$gport" ]; do nport=$(port); done
pport=""
if [ "$PROFILE" = yes ]; then
	pport=$(port)
fi

echo "== starting Cognate on 127.0.0.1:$cport (CPU $DRIVER_CPU, with the driver)"
data="$work/cognate-data"
cognate_url="http://127.0.0.1:$cport"
"${DRIVER_PIN[@]}" "$work/cognate" serve --addr "127.0.0.1:$cport" --data "$data" --public-url "$cognate_url" \
	--tls-addr off --demo-addr off --metrics-addr off --log-level warn >"$OUT/cognate.log" 2>&1 &
pids+=("$!")
waitfor "$cognate_url/healthz" Cognate

email="session-bench@example.com"
password="Bench-Passw0rd!"
"$work/cognate" admin --data "$data" --endpoint "$cognate_url" create-user --email "$email" --password "$password" >"$OUT/create-user.txt"
cookie=$("$work/sessionapp" -signin "$email" -password "$password" -endpoint "$cognate_url" -data "$data")
username=$(sed -n 's/.*\.LastAuthUser=\([^;]*\).*/\1/p' <<<"$cookie")
printf '%s\n' "$cookie" >"$OUT/cookie-header.txt"

echo "== starting the Go app on 127.0.0.1:$gport and the Node app on 127.0.0.1:$nport (CPU $SERVER_CPU, pinning: $pinning)"
gargs=(-addr "127.0.0.1:$gport" -endpoint "$cognate_url" -data "$data")
if [ -n "$pport" ]; then
	gargs+=(-pprof "127.0.0.1:$pport")
fi
"${SERVER_PIN[@]}" "$work/sessionapp" "${gargs[@]}" >"$OUT/sessionapp.log" 2>&1 &
gpid=$!
pids+=("$gpid")
# exec all the way down (subshell → taskset → node), so $! is node's own
# PID, whose /proc/PID/stat counts every thread of the server.
(cd bench/sessionnode && exec "${SERVER_PIN[@]}" node server.mjs --addr "127.0.0.1:$nport" \
	--endpoint "$cognate_url" --data "$data") >"$OUT/sessionnode.log" 2>&1 &
npid=$!
pids+=("$npid")
waitfor "http://127.0.0.1:$gport/bare" "the Go app"
waitfor "http://127.0.0.1:$nport/bare" "the Node app"
if [ "$(cat "/proc/$gpid/comm")" != sessionapp ] || [ "$(cat "/proc/$npid/comm")" != node ]; then
	echo "session.sh: the PIDs held are not the servers' own; their CPU figures would be wrong" >&2
	exit 1
fi

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "go: $(go version | cut -d' ' -f3), node: $(node --version), aws-jwt-verify: $jwtver, wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f2)"
	echo "pinning: $pinning (apps on CPU $SERVER_CPU: Go affinity $(taskset -cp "$gpid" 2>/dev/null | cut -d: -f2), node affinity $(taskset -cp "$npid" 2>/dev/null | cut -d: -f2); wrk and Cognate on CPU $DRIVER_CPU)"
	echo "load: wrk -t1 -c$CONN, $WARM warm-up + $DUR measured per target, $RUNS rounds; Cookie header $(printf '%s' "$cookie" | wc -c) bytes"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes')"
} | tee "$OUT/environment.txt"

cat >"$work/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %.1f %.1f\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
EOF

cputicks() { # PID → utime+stime in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}
tck=$(getconf CLK_TCK)
corestat() { # CPU → "busy softirq" clock ticks of that CPU since boot
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9, $8 }' /proc/stat
}

# check URL WANT: the route answers WANT for the benchmark's Cookie header.
check() {
	local got
	got=$(curl -sf -H "Cookie: $cookie" "$1") || got="(request failed)"
	if [ "$got" != "$2" ]; then
		echo "session.sh: $1 answered '$got', want '$2'" >&2
		return 1
	fi
}

failed=0
results="$OUT/results.jsonl"
: >"$results"
# drive ROUND TARGET URL PID WANT [PROFILE]: one warm-up and one measured
# wrk run, appended to $results (to $OUT/profiled.jsonl when PROFILE is
# set: then a CPU profile of the Go app is taken inside the measured run,
# and the figures, slightly disturbed by it, are kept apart).
drive() {
	local round=$1 target=$2 url=$3 pid=$4 want=$5 prof=${6:-} c0 c1 k0 k1 q0 q1 line t out=$results ppid=""
	echo "== round $round: $target$([ -n "$prof" ] && echo ' (profiled, kept apart)')"
	check "$url" "$want" || failed=$((failed + 1))
	"${DRIVER_PIN[@]}" wrk -t1 -c"$CONN" -d"$WARM" -H "Cookie: $cookie" "$url" >/dev/null
	if [ -n "$prof" ]; then
		out="$OUT/profiled.jsonl"
		sleep 1 && curl -sf -o "$OUT/$target.prof" "http://127.0.0.1:$pport/debug/pprof/profile?seconds=$PROF_SECS" &
		ppid=$!
	fi
	c0=$(cputicks "$pid")
	read -r k0 q0 <<<"$(corestat "$SERVER_CPU")"
	t=$( { TIMEFORMAT='%3U %3S'; time "${DRIVER_PIN[@]}" wrk -t1 -c"$CONN" -d"$DUR" -s "$work/report.lua" \
		-H "Cookie: $cookie" "$url" >"$work/wrk.out"; } 2>&1) || { echo "session.sh: wrk failed: $t" >&2; failed=$((failed + 1)); return; }
	c1=$(cputicks "$pid")
	read -r k1 q1 <<<"$(corestat "$SERVER_CPU")"
	line=$(grep '^WRK ' "$work/wrk.out") || { cat "$work/wrk.out" >&2; failed=$((failed + 1)); return; }
	check "$url" "$want" || failed=$((failed + 1))
	# shellcheck disable=SC2086 # word splitting intended
	set -- $line $t
	printf '{"run":%d,"target":"%s","requests":%d,"duration_us":%d,"errors":%d,"p50_us":%s,"p99_us":%s,"server_cpu_s":%s,"driver_cpu_s":%s,"core_busy_s":%s,"core_softirq_s":%s}\n' \
		"$round" "$target" "$2" "$3" $(($4 + $5)) "$6" "$7" "$(awk -v a="$c0" -v b="$c1" -v t="$tck" 'BEGIN { print (b - a) / t }')" \
		"$(awk -v u="$8" -v s="$9" 'BEGIN { print u + s }')" \
		"$(awk -v a="$k0" -v b="$k1" -v t="$tck" 'BEGIN { print (b - a) / t }')" \
		"$(awk -v a="$q0" -v b="$q1" -v t="$tck" 'BEGIN { print (b - a) / t }')" >>"$out"
	if [ $(($4 + $5)) -gt 0 ]; then
		echo "session.sh: $target had $(($4 + $5)) errors" >&2
		failed=$((failed + 1))
	fi
	tail -1 "$out"
	if [ -n "$ppid" ]; then
		wait "$ppid" || { echo "session.sh: no profile of $target" >&2; failed=$((failed + 1)); }
	fi
}

gurl="http://127.0.0.1:$gport"
nurl="http://127.0.0.1:$nport"
# Odd rounds run the targets in one order, even rounds in the reverse
# one, so that a drift in the machine's speed during a round weighs on
# both sides of each ratio alike over the rounds.
for round in $(seq 1 "$RUNS"); do
	order=(go-bare go-mw node-bare node-mw)
	if [ $((round % 2)) = 0 ]; then
		order=(node-mw node-bare go-mw go-bare)
	fi
	for target in "${order[@]}"; do
		case $target in
		go-bare) drive "$round" go-bare "$gurl/bare" "$gpid" anonymous ;;
		go-mw) drive "$round" go-mw "$gurl/mw" "$gpid" "$username" ;;
		node-bare) drive "$round" node-bare "$nurl/bare" "$npid" anonymous ;;
		node-mw) drive "$round" node-mw "$nurl/mw" "$npid" "$username" ;;
		esac
	done
done
# The same pairs interleaved: sessionapp -interleave alternates the two
# URLs in $WINDOW windows (A B B A …) over $INTERLEAVE, so that drift in
# the machine's speed, which moves wrk's runs by tens of percent, weighs
# on both sides alike.
if [ "$INTERLEAVE" != 0 ]; then
	for pair in go node; do
		if [ $pair = go ]; then url=$gurl pid=$gpid; else url=$nurl pid=$npid; fi
		echo "== interleaved: $pair /bare and /mw, $WINDOW windows for $INTERLEAVE"
		"${DRIVER_PIN[@]}" "$work/sessionapp" -interleave "$url/bare,$url/mw" -cookie-file "$OUT/cookie-header.txt" \
			-want "anonymous,$username" -labels "$pair-bare,$pair-mw" -conns "$CONN" -window "$WINDOW" \
			-duration "$INTERLEAVE" -server-pid "$pid" -out "$OUT/interleaved-$pair.json" |
			tee -a "$OUT/interleaved.txt" || failed=$((failed + 1))
	done
fi
if [ -n "$pport" ]; then
	drive 0 go-bare "$gurl/bare" "$gpid" anonymous yes
	drive 0 go-mw "$gurl/mw" "$gpid" "$username" yes
fi

: >"$OUT/gobench.txt"
if [ "$GOBENCH" = yes ]; then
	echo "== go test -bench (session/, tokenverify/; CPU $SERVER_CPU, the apps idle)"
	{
		(cd session && "${SERVER_PIN[@]}" "$work/session.test" -test.run '^$' -test.benchmem \
			-test.bench 'FirstSight|Refresh|MiddlewareRatio|BareHandler|MiddlewareValidSession/^inproc$' \
			-test.benchtime "$BENCHTIME" -test.count "$BENCHCOUNT")
		(cd tokenverify && "${SERVER_PIN[@]}" "$work/tokenverify.test" -test.run '^$' -test.benchmem \
			-test.bench 'VerifyCached/serial|VerifyFirstSight' -test.benchtime "$BENCHTIME" -test.count "$BENCHCOUNT")
	} 2>&1 | tee "$OUT/gobench.txt" | grep -E '^(Benchmark|FAIL|ok|panic)' || true
	if grep -qE '^(FAIL|panic)' "$OUT/gobench.txt"; then
		echo "session.sh: go test -bench failed (see $OUT/gobench.txt)" >&2
		failed=$((failed + 1))
	fi
fi

if [ -n "$pport" ]; then
	for t in go-bare go-mw; do
		if [ -f "$OUT/$t.prof" ]; then
			go tool pprof -top -nodecount 40 "$work/sessionapp" "$OUT/$t.prof" >"$OUT/$t.top.txt" 2>/dev/null
			go tool pprof -top -cum -nodecount 60 "$work/sessionapp" "$OUT/$t.prof" >"$OUT/$t.cum.txt" 2>/dev/null
		fi
	done
	cp "$work/sessionapp" "$OUT/sessionapp.bin"
fi

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/environment.txt"
echo
"$work/sessionapp" -table "$results" -gobench "$OUT/gobench.txt" | tee "$OUT/table.md"
if [ -f "$OUT/interleaved.txt" ]; then
	echo
	tee -a "$OUT/table.md" <"$OUT/interleaved.txt"
fi
echo "results: $OUT"
if [ "$failed" -gt 0 ]; then
	echo "session.sh: $failed run(s) had errors; their figures are not results" >&2
	exit 1
fi
