#!/usr/bin/env bash
# A long day through one process, streamed: our generator writes CALLS
# calls (20 per second of packet time, RTP_PER_DIR RTP packets each way)
# to a pipe, `voiptool stats --max-memory BUDGET -` reads it from stdin,
# and the voiptool process's RSS is sampled every SAMPLE seconds from
# /proc. The question is the curve's shape: RSS must rise while the
# window fills and then stay flat inside the budget (plus the soft
# limit's quarter), with the evictions counted in the summary.
#
# Usage: bench/day.sh [BUDGET]   (default 256MiB)
# Sizes: CALLS (1000000: 14 hours of packet time) RTP_PER_DIR (5) SAMPLE (2)
set -euo pipefail
cd "$(dirname "$0")/.."
budget=${1:-256MiB}
CALLS=${CALLS:-1000000}
RTP_PER_DIR=${RTP_PER_DIR:-5}
SAMPLE=${SAMPLE:-2}

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
CGO_ENABLED=0 go build -o "$tmp/genpcaps" ./internal/pcapgen/cmd/genpcaps

mkfifo "$tmp/day.pcap"
"$tmp/genpcaps" -large "$tmp/day.pcap" -calls "$CALLS" -rtp "$RTP_PER_DIR" >/dev/null &
pids+=($!)
"$tmp/voiptool" stats --max-memory "$budget" - <"$tmp/day.pcap" >/dev/null 2>"$tmp/summary" &
vt=$!
pids+=("$vt")

echo "machine: $(nproc) cores, $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "$CALLS calls (20/s of packet time, $RTP_PER_DIR RTP packets each way), --max-memory $budget"
echo
echo "| wall (s) | RSS (MB) | peak RSS (MB) | CPU (s) |"
echo "|---|---|---|---|"
start=$(date +%s)
tick=$(getconf CLK_TCK)
while kill -0 "$vt" 2>/dev/null; do
	sleep "$SAMPLE"
	[ -r "/proc/$vt/status" ] || break
	rss=$(awk '/^VmRSS/ {print int($2/1024)}' "/proc/$vt/status" 2>/dev/null || echo "")
	hwm=$(awk '/^VmHWM/ {print int($2/1024)}' "/proc/$vt/status" 2>/dev/null || echo "")
	cpu=$(awk -v t="$tick" '{printf "%.1f", ($14+$15)/t}' "/proc/$vt/stat" 2>/dev/null || echo "")
	[ -n "$rss" ] && echo "| $(($(date +%s) - start)) | $rss | $hwm | $cpu |"
done
wait "$vt" || true
echo
echo "summary:"
sed 's/^/    /' "$tmp/summary"
