#!/usr/bin/env bash
# Runs a command and samples its resident memory (VmRSS) every 20 ms:
# prints the peak, when it came, and the last samples. getrusage's peak
# (/usr/bin/time %M) says how high, not when; this says whether the peak
# is the load, the end of a run or the report.
#
# Usage: bench/rss-watch.sh COMMAND [ARGS...]   (its output is discarded)
set -u
"$@" >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null' EXIT INT TERM
start=$(date +%s%N)
peak=0 at=0 t=0
samples=()
while kill -0 "$pid" 2>/dev/null; do
	r=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
	[ -n "$r" ] || break
	t=$((($(date +%s%N) - start) / 1000000))
	samples+=("$t:$((r / 1024))")
	if [ "$r" -gt "$peak" ]; then peak=$r at=$t; fi
	sleep 0.02
done
wait "$pid"
rc=$?
echo "peak $((peak / 1024)) MiB at ${at} ms of ${t} ms (exit $rc); last samples (ms:MiB): ${samples[*]: -8}"
exit "$rc"
