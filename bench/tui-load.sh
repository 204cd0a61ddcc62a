#!/usr/bin/env bash
# Times the TUI opening a capture in a real terminal (a tmux server of its
# own, 160x48): "first screen" is when the call list first shows a dialog
# count, "loaded" when the progress line has gone (the file is read to
# the end and the list is final). The pane is sampled every 20 ms, so
# both figures are late by up to that. Each round runs the default
# (decoding on a second goroutine) and --workers 1 alternately; medians.
# Goal (issue 17) on the 3.2 M-packet RTP capture: first screen under
# 0.5 s, loaded under 2 s.
#
# Usage: bench/tui-load.sh [ROUNDS]   (default 3)
# FILE=path reuses a capture; else CALLS (default 4000) and RTP_PER_DIR
# (400) size a generated one (3.2 M packets). Needs tmux. Every process
# it starts is killed by PID (and the tmux server) at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
CALLS=${CALLS:-4000}
RTP_PER_DIR=${RTP_PER_DIR:-400}
command -v tmux >/dev/null || { echo "tui-load: tmux not installed" >&2; exit 1; }

tmp=$(mktemp -d)
sock="voiptool-load-$$"
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
file=${FILE:-}
if [ -z "$file" ]; then
	file="$tmp/large.pcap"
	go run ./internal/pcapgen/cmd/genpcaps -large "$file" -calls "$CALLS" -rtp "$RTP_PER_DIR" >/dev/null
fi
cat "$file" >/dev/null # in the page cache for every round

# once NAME ARGS...: one open; appends "first loaded" (seconds) to $tmp/NAME.
once() {
	local name=$1
	shift
	local t0 first="" s now
	t0=$(date +%s%N)
	tmux -L "$sock" new-session -d -s ui -x 160 -y 48 -e TERM=xterm-256color -- "$tmp/voiptool" open "$@" "$file"
	local pid
	pid=$(tmux -L "$sock" list-panes -t ui -F '#{pane_pid}')
	for _ in $(seq 1 6000); do
		s=$(tmux -L "$sock" capture-pane -p -t ui 2>/dev/null || true)
		now=$(date +%s%N)
		if [ -z "$first" ] && grep -q ' dialogs' <<<"$s"; then first=$now; fi
		if [ -n "$first" ] && ! grep -q 'loading [0-9]' <<<"$s"; then break; fi
		sleep 0.02
	done
	tmux -L "$sock" kill-server 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	sleep 0.3 # the next round's server must not meet this one shutting down
	awk -v t0="$t0" -v f="$first" -v l="$now" 'BEGIN {printf "%.3f %.3f\n", (f - t0) / 1e9, (l - t0) / 1e9}' >>"$tmp/$name"
}
median() { sort -n | awk '{a[NR] = $1} END {if (NR % 2) {print a[(NR + 1) / 2]} else {print (a[NR / 2] + a[NR / 2 + 1]) / 2}}'; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for _ in $(seq "$rounds"); do
	once default
	once w1 --workers 1
done
pkts=$(stat -c %s "$file")
echo "capture $(basename "$file") ($((pkts / 1048576)) MiB), $rounds rounds, 160x48"
echo "| voiptool open | first screen (median) | loaded (median) |"
echo "|---|---|---|"
for n in default w1; do
	label="default (2 goroutines)"
	[ "$n" = w1 ] && label="--workers 1"
	printf "| %s | %.2f s | %.2f s |\n" "$label" "$(cut -d' ' -f1 "$tmp/$n" | median)" "$(cut -d' ' -f2 "$tmp/$n" | median)"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
