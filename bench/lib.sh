# bench/lib.sh — sourced by the bench scripts (run.sh, session.sh,
# events.sh): a work directory removed on exit, CPU pinning, and waiting
# for a server's health endpoint. Expects SERVER_CPU, DRIVER_CPU and OUT.

# bench_workdir NAME: a fresh $work directory, removed on exit together
# with every PID the script appended to the pids array.
bench_workdir() {
	work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	pids=()
	trap bench_cleanup EXIT
}

bench_cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$work"
}

# bench_pinning sets pinning (yes/no; PIN=no turns it off) and the
# SERVER_PIN and DRIVER_PIN prefixes that run a command on one CPU. They
# are plain command words (no shell function), so that "$!" of a
# backgrounded server is the server's own PID.
bench_pinning() {
	pinning=${PIN:-yes}
	if ! command -v taskset >/dev/null || [ "$(nproc)" -lt 2 ]; then
		pinning=no
	fi
	SERVER_PIN=()
	DRIVER_PIN=()
	if [ "$pinning" = yes ]; then
		SERVER_PIN=(taskset -c "$SERVER_CPU")
		DRIVER_PIN=(taskset -c "$DRIVER_CPU")
	fi
}

# waitfor URL NAME: wait up to 30 s for URL to answer 2xx.
waitfor() {
	for _ in $(seq 1 150); do
		if curl -sf -o /dev/null "$1"; then
			return 0
		fi
		sleep 0.2
	done
	echo "$(basename "$0"): $2 did not come up at $1 (logs in $OUT)" >&2
	exit 1
}
