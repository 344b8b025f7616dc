#!/usr/bin/env bash
# bench/ab.sh — the server CPU per request of this tree against a baseline
# revision (by default the last performance record), in one run, so that a
# regression shows whatever the machine's speed today.
#
#   bash bench/ab.sh                        # getuser, 4 rounds of 10 s per binary
#   BASE=080ba4f OPS="getuser refresh" ROUNDS=6 bash bench/ab.sh
#
# Builds cognate at $BASE (in a temporary git worktree) and from the
# working tree, and bench/loadgen from the working tree. Each round runs
# loadgen -start subprocess against the base binary, then this one, then
# this one, then the base (A B B A), the server pinned to $SERVER_CPU and
# the driver to $DRIVER_CPU, and reads the server's CPU time per
# operation. Prints per-round ratios (this / base) and their geometric
# mean per operation, and exits 1 if a mean exceeds $MAX_RATIO (default
# 1.03): a ratio of server CPU per request is robust to the machine being
# faster or slower today, not to it being busy, so rerun a failure once.
set -euo pipefail

cd "$(dirname "$0")/.."
# 5ba7776 is the commit of the last performance record
# (docs/PERFORMANCE.md); move BASE forward with each new record.
BASE=${BASE:-5ba7776}
OPS=${OPS:-getuser}
ROUNDS=${ROUNDS:-4}
DUR=${DUR:-10s}
MAX_RATIO=${MAX_RATIO:-1.03}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
OUT=${OUT:-artifacts/bench/ab-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

source bench/lib.sh
bench_workdir cognate-ab
bench_pinning

echo "== building $BASE and the working tree"
git worktree add --detach -q "$work/base" "$BASE"
trap 'git worktree remove --force "$work/base" 2>/dev/null; bench_cleanup' EXIT
(cd "$work/base" && go build -o "$work/cognate-base" ./cmd/cognate)
go build -o "$work/cognate-this" ./cmd/cognate
go build -o "$work/loadgen" ./bench/loadgen

pin=()
if [ "$pinning" = yes ]; then
	pin=(-server-cpus "$SERVER_CPU")
fi
results=$OUT/results.jsonl
for op in $OPS; do
	for round in $(seq 1 "$ROUNDS"); do
		for which in base this this base; do
			echo "== $op round $round: $which"
			"${DRIVER_PIN[@]}" "$work/loadgen" -start subprocess -cognate-bin "$work/cognate-$which" "${pin[@]}" \
				-op "$op" -d "$DUR" -label "$op/$round/$which" -json "$results" | grep -E 'ops/s|error' || true
		done
	done
done

# Per round: mean CPU per op of "this" over that of "base"; then the
# geometric mean of the rounds.
echo
echo "server CPU per operation, this tree / $BASE:"
failed=0
for op in $OPS; do
	line=$(jq -rs --arg op "$op" '
		[ .[] | select(.label | startswith($op + "/")) | {round: (.label | split("/")[1]), which: (.label | split("/")[2]), cpu: .server_cpu_ms_per_op} ]
		| group_by(.round)
		| map( (map(select(.which == "this") | .cpu) | add / length) / (map(select(.which == "base") | .cpu) | add / length) )
		| "\(map(. * 1000 | round / 1000) | join(" ")) \((map(log) | add / length | exp) * 1000 | round / 1000)"' "$results")
	rounds=${line% *}
	mean=${line##* }
	echo "  $op: rounds $rounds; geometric mean $mean"
	if awk -v m="$mean" -v max="$MAX_RATIO" 'BEGIN { exit !(m > max) }'; then
		echo "  $op: over $MAX_RATIO" >&2
		failed=1
	fi
done
echo "results: $results"
exit "$failed"
