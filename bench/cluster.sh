#!/usr/bin/env bash
# bench/cluster.sh — scale-out (issue 11): what PostgreSQL storage and a
# network broker cost against one SQLite node, in one run, as ratios that
# hold whatever the machine's speed today.
#
#   bash bench/cluster.sh                                   # ≈ 9 minutes
#   PARTS="backend nodes" ROUNDS=1 bash bench/cluster.sh    # a subset, quicker
#   BACKEND_OPS="srp-signin getuser" DUR=8s bash bench/cluster.sh
#
# Needs the machine's services: PostgreSQL at $PG (trust auth), NATS at
# $NATS_URL, Redis at $REDIS_URL; it never restarts them. Every loadgen
# run on PostgreSQL gets a database of its own (CREATE DATABASE before,
# DROP … WITH (FORCE) after). Builds cognate, bench/loadgen and
# bench/eventsload, then runs $PARTS:
#
#   backend  per op of $BACKEND_OPS, $ROUNDS rounds of sqlite postgres
#            postgres sqlite (A B B A): `loadgen -start subprocess`, one
#            node on CPU $SERVER_CPU, the driver on CPU $DRIVER_CPU; the
#            PostgreSQL runs add `-db-cpu postgres -db-name <its db>`: the
#            CPU of that database's backends and of the server's
#            background processes (other databases' sessions — other
#            engineers' tests — are reported apart and not counted).
#   nodes    per op of $NODES_OPS, $ROUNDS rounds of 1 3 3 1 nodes on one
#            PostgreSQL database (`loadgen -nodes N`): all nodes on CPU
#            $SERVER_CPU, workers round-robin over them; ops per CPU-second
#            of the nodes and the database together.
#   events   $EV_ROUNDS rounds of memory nats redis redis nats memory:
#            memory is one node (--broker memory), publishers and
#            subscribers on it; nats and redis are two nodes on one
#            database with --broker, publishers on node 1
#            (`eventsload -publish-target`), $EV_N subscribers on node 2.
#            Phases c (latency at $EV_RATE publishes/s to one channel), a
#            (saturating, one channel), b (saturating, one channel per
#            subscriber) and b-rate (latency at $EV_BRATE publishes/s over
#            those channels).
#   brokers  `go test -run '^$' -bench PublishDeliver ./broker/...`, the
#            in-process broker benchmarks, -count 2.
#
# PostgreSQL, NATS and Redis are not pinned (they are the machine's), so
# they use whichever core is free. Results land in $OUT (default
# artifacts/bench-cluster/<time>, git-ignored): results.jsonl (loadgen),
# events-*.json, brokers.txt, environment.txt and summary.md, the tables
# with per-round ratios. Exits non-zero if any run had errors.
set -euo pipefail

cd "$(dirname "$0")/.."
PARTS=${PARTS:-backend nodes events brokers}
BACKEND_OPS=${BACKEND_OPS:-srp-signin password-signin refresh getuser}
NODES_OPS=${NODES_OPS:-srp-signin getuser}
ROUNDS=${ROUNDS:-2}
DUR=${DUR:-3s}
WARM=${WARM:-1s}
EV_ROUNDS=${EV_ROUNDS:-1}
EV_N=${EV_N:-1000}
EV_RATE=${EV_RATE:-10}
EV_BRATE=${EV_BRATE:-2000}
EV_DUR=${EV_DUR:-4s}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
SERVER_CPU=${SERVER_CPU:-0}
DRIVER_CPU=${DRIVER_CPU:-1}
OUT=${OUT:-artifacts/bench-cluster/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# Admin credentials every node of a PostgreSQL cluster must share.
KEY_ID=AKIACOGNATEBENCH0001
SECRET=cognate-bench-cluster-secret-0123456789

source bench/lib.sh
bench_workdir cognate-cluster
bench_pinning
dbs=()
cleanup_all() {
	bench_cleanup
	for d in "${dbs[@]}"; do
		psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
	done
}
trap cleanup_all EXIT

pin=()
if [ "$pinning" = yes ]; then
	pin=(-server-cpus "$SERVER_CPU")
fi

# newdb: a fresh database; its name in $db.
seq_db=0
newdb() {
	seq_db=$((seq_db + 1))
	db=cluster_$(date -u +%H%M%S)_$$_$seq_db
	psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db" >/dev/null
	dbs+=("$db")
}
dropdb() {
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null
}

echo "== building"
go build -o "$work/cognate" ./cmd/cognate
go build -o "$work/loadgen" ./bench/loadgen
go build -o "$work/eventsload" ./bench/eventsload

{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "postgres: $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW server_version') (synchronous_commit $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW synchronous_commit'), max_connections $(psql -h 127.0.0.1 -U postgres -Atc 'SHOW max_connections')); other databases' sessions at start: $(psql -h 127.0.0.1 -U postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")"
	echo "pinning: $pinning (cognate nodes on CPU $SERVER_CPU, drivers on CPU $DRIVER_CPU, postgres/nats/redis unpinned); $WARM warm-up + $DUR measured, $ROUNDS rounds"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes')"
} | tee "$OUT/environment.txt"

results=$OUT/results.jsonl
failed=0

# lg LABEL OP NODES BACKEND: one loadgen run.
lg() {
	local label=$1 op=$2 nodes=$3 backend=$4 args=()
	if [ "$backend" = postgres ]; then
		newdb
		args=(-access-key-id "$KEY_ID" -secret-access-key "$SECRET" -db-cpu postgres -db-name "$db"
			"-serve-arg=--storage=$PG/$db?sslmode=disable")
	fi
	echo "== $label"
	"${DRIVER_PIN[@]}" "$work/loadgen" -start subprocess -cognate-bin "$work/cognate" "${pin[@]}" -nodes "$nodes" "${args[@]}" \
		-op "$op" -d "$DUR" -w "$WARM" -label "$label" -json "$results" | grep -E 'ops/s|error' || failed=$((failed + 1))
	if [ "$backend" = postgres ]; then
		dropdb "$db"
	fi
}

for part in $PARTS; do
	case $part in
	backend)
		for op in $BACKEND_OPS; do
			for round in $(seq 1 "$ROUNDS"); do
				for which in sqlite postgres postgres sqlite; do
					lg "backend/$op/$round/$which" "$op" 1 "$which"
				done
			done
		done
		;;
	nodes)
		for op in $NODES_OPS; do
			for round in $(seq 1 "$ROUNDS"); do
				for n in 1 3 3 1; do
					lg "nodes/$op/$round/$n" "$op" "$n" postgres
				done
			done
		done
		;;
	events)
		# start_node N DB BROKER: cognate node N (data $work/evN) on DB;
		# sets port_N and appends its PID to pids.
		start_node() {
			local n=$1 port
			port=$("$work/eventsload" -freeport)
			rm -rf "$work/ev$n"
			"${SERVER_PIN[@]}" "$work/cognate" serve --addr "127.0.0.1:$port" --tls-addr off --data "$work/ev$n" \
				--public-url "http://127.0.0.1:$port" --log-level warn --demo-addr off --metrics-addr off \
				--events-max-connections=-1 --events-max-connections-per-address=-1 --events-max-connections-per-api-key=-1 \
				--admin-access-key-id "$KEY_ID" --admin-secret-access-key "$SECRET" \
				--storage "$PG/$2?sslmode=disable" --broker "$3" >"$OUT/events-node$n.log" 2>&1 &
			pids+=($!)
			eval "port_$n=$port"
			waitfor "http://127.0.0.1:$port/healthz" "cognate node $n"
		}
		for round in $(seq 1 "$EV_ROUNDS"); do
			for which in memory nats redis redis nats memory; do
				newdb
				npids=${#pids[@]}
				case $which in
				memory) start_node 1 "$db" memory ;;
				nats) start_node 1 "$db" "$NATS_URL" && start_node 2 "$db" "$NATS_URL" ;;
				redis) start_node 1 "$db" "$REDIS_URL" && start_node 2 "$db" "$REDIS_URL" ;;
				esac
				for _ in $(seq 1 50); do
					[ -s "$work/ev1/events-dev-key" ] && break
					sleep 0.2
				done
				sub=$port_1
				if [ "$which" != memory ]; then
					sub=$port_2
				fi
				label=events-$which-$round-$(date -u +%H%M%S)
				echo "== $label: publishers on node 1 ($port_1), subscribers on $sub"
				"${DRIVER_PIN[@]}" "$work/eventsload" -target "http://127.0.0.1:$sub" -publish-target "http://127.0.0.1:$port_1" \
					-key "$(cat "$work/ev1/events-dev-key")" -label "$which" -scenarios c,a,b -n "$EV_N" \
					-rate "$EV_RATE" -b-rate "$EV_BRATE" -w "$WARM" -d "$EV_DUR" -out "$OUT/$label.json" 2>&1 |
					grep -E '^ +[a-e]' || failed=$((failed + 1))
				for p in "${pids[@]:$npids}"; do
					kill "$p" 2>/dev/null || true
					wait "$p" 2>/dev/null || true
				done
				pids=("${pids[@]:0:$npids}")
				dropdb "$db"
			done
		done
		;;
	brokers)
		echo "== go test -bench PublishDeliver ./broker/..."
		go test -run '^$' -bench PublishDeliver -benchtime 2s -count 2 ./broker/... 2>&1 | tee "$OUT/brokers.txt" | grep -E '^(Benchmark|ok|FAIL|---)' || failed=$((failed + 1))
		;;
	*)
		echo "cluster.sh: unknown part $part (backend, nodes, events, brokers)" >&2
		exit 2
		;;
	esac
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/environment.txt"

# Tables: medians over the runs, and per-round ratios (mean of each
# round's two B runs over the mean of its two A runs) with their
# geometric mean.
{
	if [ -s "$results" ]; then
		echo "### backend: PostgreSQL ÷ SQLite, one node"
		echo
		echo "| op | SQLite ops/s | SQLite cognate CPU/op | PostgreSQL ops/s | cognate CPU/op | postgres CPU/op | sum | ratio of sums, per round | geo. mean | others (machine) |"
		echo "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"
		jq -rs '
			def med: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
			def r3: . * 1000 | round / 1000;
			def gm: (map(log) | add / length | exp);
			[ .[] | select(.ok and (.label | startswith("backend/"))) | . + {op2: (.label | split("/")[1]), round: (.label | split("/")[2]), which: (.label | split("/")[3])} ]
			| group_by(.op2)[]
			| . as $runs
			| ($runs | map(select(.which == "sqlite"))) as $a
			| ($runs | map(select(.which == "postgres"))) as $b
			| ($runs | group_by(.round) | map(
				(map(select(.which == "postgres") | .total_cpu_ms_per_op) | add / length)
				/ (map(select(.which == "sqlite") | .server_cpu_ms_per_op) | add / length))) as $ratios
			| "| \($runs[0].op2) | \($a | map(.ops_per_sec) | med | round) | \($a | map(.server_cpu_ms_per_op) | med | r3) ms | \($b | map(.ops_per_sec) | med | round) | \($b | map(.server_cpu_ms_per_op) | med | r3) ms | \($b | map(.db_cpu_ms_per_op) | med | r3) ms | \($b | map(.total_cpu_ms_per_op) | med | r3) ms | \($ratios | map(r3) | join(" ")) | **\($ratios | gm | r3)** | \($runs | map(.others_util) | med * 100 | round) % |"
			' "$results"
		echo
		echo "### nodes: 3 nodes ÷ 1 node, one PostgreSQL database, the same cores"
		echo
		echo "| op | 1 node ops/s | CPU/op (cognate + postgres) | 3 nodes ops/s | CPU/op (cognate + postgres) | ops per CPU-second 3 ÷ 1, per round | geo. mean | ops/s 3 ÷ 1 (geo. mean) |"
		echo "|---|---:|---:|---:|---:|---|---:|---:|"
		jq -rs '
			def med: sort | if length == 0 then null else .[(length - 1) / 2 | floor] end;
			def r3: . * 1000 | round / 1000;
			def gm: (map(log) | add / length | exp);
			def cpu: "\(.server_cpu_ms_per_op | r3) + \(.db_cpu_ms_per_op | r3)";
			[ .[] | select(.ok and (.label | startswith("nodes/"))) | . + {op2: (.label | split("/")[1]), round: (.label | split("/")[2]), n: (.label | split("/")[3])} ]
			| group_by(.op2)[]
			| . as $runs
			| ($runs | map(select(.n == "1"))) as $a
			| ($runs | map(select(.n == "3"))) as $b
			| ($runs | group_by(.round) | map(
				(map(select(.n == "1") | .total_cpu_ms_per_op) | add / length)
				/ (map(select(.n == "3") | .total_cpu_ms_per_op) | add / length))) as $eff
			| ($runs | group_by(.round) | map(
				(map(select(.n == "3") | .ops_per_sec) | add / length)
				/ (map(select(.n == "1") | .ops_per_sec) | add / length))) as $thr
			| "| \($runs[0].op2) | \($a | map(.ops_per_sec) | med | round) | \($a | map(.total_cpu_ms_per_op) | med | r3) ms | \($b | map(.ops_per_sec) | med | round) | \($b | map(.total_cpu_ms_per_op) | med | r3) ms | \($eff | map(r3) | join(" ")) | **\($eff | gm | r3)** | \($thr | gm | r3) |"
			' "$results"
		echo
		echo "Every run (median-free):"
		echo
		echo "| label | ops/s | p50 / p99 ms | cognate CPU/op (busy) | postgres CPU/op (busy; other dbs) | sum | machine busy, others |"
		echo "|---|---:|---:|---:|---:|---:|---:|"
		jq -r 'select(.ok) | "| \(.label) | \(.ops_per_sec | round) | \(.p50_ms * 10 | round / 10) / \(.p99_ms * 10 | round / 10) | \(.server_cpu_ms_per_op * 1000 | round / 1000) ms (\(.server_util * 100 | round) %) | \((.db_cpu_ms_per_op // 0) * 1000 | round / 1000) ms (\((.db_util // 0) * 100 | round) %; \((.db_others_util // 0) * 100 | round) %) | \((.total_cpu_ms_per_op // .server_cpu_ms_per_op) * 1000 | round / 1000) ms | \((.machine_util // 0) * 100 | round) %, \((.others_util // 0) * 100 | round) % |"' "$results"
		echo
	fi
	if compgen -G "$OUT/events-*.json" >/dev/null; then
		echo "### events: cross-node through a broker ÷ one node in memory"
		echo
		echo "| broker | phase | deliveries/s (each run) | p50 ms | p99 ms |"
		echo "|---|---|---|---|---|"
		jq -rs '
			[ .[] | .label as $l | .phases[] | select(.name != "e" and .name != "e2") | . + {broker: $l} ]
			| group_by(.broker + " " + .name)[]
			| "| \(.[0].broker) | \(.[0].name) | \(map(.deliveries_per_sec | round) | join(", ")) | \(map(.p50_ms * 100 | round / 100) | join(", ")) | \(map(.p99_ms * 100 | round / 100) | join(", ")) |"
			' "$OUT"/events-*.json
		echo
	fi
	if [ -s "$OUT/brokers.txt" ]; then
		echo "### in-process broker benchmarks"
		echo
		echo '```'
		grep -E '^(Benchmark|pkg:)' "$OUT/brokers.txt"
		echo '```'
	fi
} >"$OUT/summary.md"
cat "$OUT/summary.md"
echo "results: $OUT"
if [ "$failed" -gt 0 ]; then
	echo "cluster.sh: $failed run(s) had errors; their figures are not results" >&2
	exit 1
fi
