#!/usr/bin/env bash
# bench/profile.sh — CPU profiles of Cognate serving loadgen's load, the
# same set-up as bench/run.sh (server on CPU $SERVER_CPU, driver on CPU
# $DRIVER_CPU, loopback, keep-alive), for each operation given:
#
#   bash bench/profile.sh                      # getuser srp-signin refresh password-signin
#   bash bench/profile.sh refresh-rotate
#
# For each op it starts bench/profserve (Cognate plus a pprof port) on a
# fresh data directory, runs loadgen, takes a $PROF_SECS-second CPU
# profile in the middle of the measured window, and writes to $OUT
# (default artifacts/profile/<time>): OP.prof, OP.top.txt (pprof -top)
# and OP.categories.md (bench/pprofcat: storage vs crypto vs JSON …).
set -euo pipefail

cd "$(dirname "$0")/.."
ops=("$@")
if [ ${#ops[@]} -eq 0 ]; then
	ops=(getuser srp-signin refresh password-signin)
fi
DUR=${DUR:-10s}
PROF_SECS=${PROF_SECS:-7}
CONC=${CONC:-32}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
OUT=${OUT:-artifacts/profile/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"

work=$(mktemp -d "${TMPDIR:-/tmp}/cognate-profile.XXXXXX")
spid=""
cleanup() {
	if [ -n "$spid" ]; then
		kill "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

SERVER_PIN=()
DRIVER_PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	SERVER_PIN=(taskset -c "$SERVER_CPU")
	DRIVER_PIN=(taskset -c "$DRIVER_CPU")
fi

go build -o "$work/profserve" ./bench/profserve
go build -o "$work/loadgen" ./bench/loadgen
go build -o "$work/pprofcat" ./bench/pprofcat

for op in "${ops[@]}"; do
	port=$("$work/loadgen" -freeport)
	pport=$("$work/loadgen" -freeport)
	data="$work/data-$op"
	"${SERVER_PIN[@]}" "$work/profserve" -addr "127.0.0.1:$port" -pprof "127.0.0.1:$pport" -data "$data" >"$OUT/$op.server.log" 2>&1 &
	spid=$!
	for _ in $(seq 1 150); do
		curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
		sleep 0.2
	done
	echo "== $op"
	"${DRIVER_PIN[@]}" "$work/loadgen" -target "http://127.0.0.1:$port" -data "$data" -server-pid "$spid" \
		-op "$op" -c "$CONC" -d "$DUR" -w 2s -json "$OUT/results.jsonl" &
	lpid=$!
	# Set-up takes about a second and the warm-up two: profile from then on.
	sleep 4
	curl -sf -o "$OUT/$op.prof" "http://127.0.0.1:$pport/debug/pprof/profile?seconds=$PROF_SECS"
	wait "$lpid" || echo "profile.sh: the $op run had errors" >&2
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	spid=""
	go tool pprof -top -nodecount 40 "$work/profserve" "$OUT/$op.prof" >"$OUT/$op.top.txt" 2>/dev/null
	go tool pprof -traces "$work/profserve" "$OUT/$op.prof" 2>/dev/null | "$work/pprofcat" >"$OUT/$op.categories.md"
	cat "$OUT/$op.categories.md"
done
echo "profiles: $OUT"
