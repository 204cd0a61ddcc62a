#!/usr/bin/env bash
# Measures what the TUI costs when nobody touches it: `voiptool open` on a
# generated SIP+RTP capture in a real terminal (a tmux server of its own),
# left alone once the file has loaded. Samples the process's CPU time
# (utime+stime from /proc/PID/stat) and VmRSS over SECONDS and prints the
# CPU as a percentage of one core and the RSS at the start and end of the
# window. Goal (issue 17): under 1 % of a core, RSS flat.
# Measured on 2 shared cores, 182 MiB capture (2000 calls, 800 k packets),
# 160x48: before the cached frame 1.9 % of a core and RSS +17 MiB in 20 s;
# with it 0.9 % (0.6 % with the renderer at 30 Hz), RSS flat.
#
# Usage: bench/tui-idle.sh [SECONDS]   (default 20)
# Sizes: CALLS (default 2000) RTP_PER_DIR (200); FILE=path reuses a capture.
# Needs tmux. Every process it starts is killed by PID at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
CALLS=${CALLS:-2000}
RTP_PER_DIR=${RTP_PER_DIR:-200}
command -v tmux >/dev/null || { echo "tui-idle: tmux not installed" >&2; exit 1; }

tmp=$(mktemp -d)
sock="voiptool-idle-$$"
pid=""
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
file=${FILE:-}
if [ -z "$file" ]; then
	file="$tmp/large.pcap"
	go run ./internal/pcapgen/cmd/genpcaps -large "$file" -calls "$CALLS" -rtp "$RTP_PER_DIR"
fi
size=$(stat -c %s "$file")

tmux -L "$sock" new-session -d -s ui -x 160 -y 48 -e TERM=xterm-256color -- "$tmp/voiptool" open "$file"
# With a command of several words tmux execs it directly: the pane's
# process is voiptool itself.
pid=$(tmux -L "$sock" list-panes -t ui -F '#{pane_pid}')
[ "$(cat "/proc/$pid/comm")" = voiptool ] || { echo "tui-idle: pane process is $(cat /proc/$pid/comm), not voiptool" >&2; exit 1; }

# Loaded: the list shows its dialog count and the progress line is gone.
t0=$(date +%s.%N)
for _ in $(seq 1 1200); do
	s=$(tmux -L "$sock" capture-pane -p -t ui)
	if grep -q ' dialogs' <<<"$s" && ! grep -q 'loading [0-9]' <<<"$s"; then break; fi
	sleep 0.1
done
t1=$(date +%s.%N)
grep -q 'loading [0-9]' <<<"$s" && { echo "tui-idle: still loading after 120 s" >&2; exit 1; }
sleep 2 # let the last refreshes and the GC settle

ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
hz=$(getconf CLK_TCK)
c0=$(ticks) r0=$(rss) w0=$(date +%s.%N) rmax=$r0
for _ in $(seq 1 "$secs"); do
	sleep 1
	r=$(rss)
	[ "$r" -gt "$rmax" ] && rmax=$r
done
c1=$(ticks) r1=$(rss) w1=$(date +%s.%N)
awk -v c0="$c0" -v c1="$c1" -v w0="$w0" -v w1="$w1" -v hz="$hz" -v r0="$r0" -v r1="$r1" -v rmax="$rmax" \
	-v load="$(echo "$t1 - $t0" | bc)" -v size="$size" -v file="$file" 'BEGIN {
	printf "capture %s (%.1f MiB), loaded in %.1f s\n", file, size / 1048576, load
	printf "idle %.0f s: cpu %.2f%% of a core (%d ticks), rss %.1f -> %.1f MiB (max %.1f)\n",
		w1 - w0, 100 * (c1 - c0) / hz / (w1 - w0), c1 - c0, r0 / 1024, r1 / 1024, rmax / 1024
}'
