#!/usr/bin/env bash
# Times the TUI opening a capture in a real terminal (a tmux server of its
# own, 160x48): "first screen" is when the call list first shows a dialog
# count, "loaded" when the progress line has gone (the file is read to
# the end and the list is final). The pane is sampled every 20 ms, so
# both figures are late by up to that. The pane is read through one
# tmux control-mode client and tested with shell builtins: no process is
# started per sample (the first version forked tmux, grep, date and
# sleep 50 times a second, about a fifth of a core taken from the load
# it timed). "CPU when loaded" is the TUI process's CPU time
# (user+system) when it was seen loaded. Each round runs the default
# (decoding on a second goroutine) and --workers 1 alternately, then the
# same load without the TUI (`rtp --format json`, wall and CPU time) for
# what the TUI adds on top of loading; medians.
# Goal (issue 17) on the 3.2 M-packet RTP capture: first screen under
# 0.5 s, loaded under 2 s.
#
# Usage: bench/tui-load.sh [ROUNDS]   (default 3)
# FILE=path reuses a capture; else CALLS (default 4000) and RTP_PER_DIR
# (400) size a generated one (3.2 M packets). BIN=path times that binary
# instead of building the tree; BASELINE=path times a second binary in
# the same rounds, alternating with the first (which goes first changes
# every round), and prints the ratios. Needs tmux. Every process it
# starts is killed by PID (and the tmux server) at exit.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
CALLS=${CALLS:-4000}
RTP_PER_DIR=${RTP_PER_DIR:-400}
command -v tmux >/dev/null || { echo "tui-load: tmux not installed" >&2; exit 1; }

tmp=$(mktemp -d)
sock="voiptool-load-$$"
pid=""
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

bins=(cur)
if [ -n "${BIN:-}" ]; then
	cp "$BIN" "$tmp/cur"
else
	CGO_ENABLED=0 go build -o "$tmp/cur" ./cmd/voiptool
fi
if [ -n "${BASELINE:-}" ]; then
	cp "$BASELINE" "$tmp/base"
	bins=(cur base)
fi
file=${FILE:-}
if [ -z "$file" ]; then
	file="$tmp/large.pcap"
	go run ./internal/pcapgen/cmd/genpcaps -large "$file" -calls "$CALLS" -rtp "$RTP_PER_DIR" >/dev/null
fi
cat "$file" >/dev/null # in the page cache for every round
hz=$(getconf CLK_TCK)
# A pipe nobody writes to: read -t on it is a sleep without a process.
exec {nap}<> <(:)

# now: wall clock in ns, without a process.
now() { local t=${EPOCHREALTIME/./}; echo "${t}000"; }

# sample: the pane's first four lines (the header, the progress line and
# the list's bar with the dialog count), asked of the control-mode client
# (no process per sample; bash reads a pipe a byte at a time, so not the
# whole screen either).
sample() {
	local l
	s=""
	echo "capture-pane -p -t ui -S 0 -E 3" >&"${CTL[1]}"
	while IFS= read -r l <&"${CTL[0]}"; do
		case $l in
		%begin*) s="" ;;
		%end* | %error*) return 0 ;;
		%*) ;;
		*) s+=$l$'\n' ;;
		esac
	done
	return 1 # the client went away
}

# once BIN NAME ARGS...: one open with binary BIN; appends "first loaded
# cpu" (seconds) to $tmp/NAME.
once() {
	local bin=$1 name=$2
	shift 2
	local t0 first="" t cpu=0 stat f
	t0=$(now)
	tmux -L "$sock" new-session -d -s ui -x 160 -y 48 -e TERM=xterm-256color -- "$tmp/$bin" open "$@" "$file"
	pid=$(tmux -L "$sock" list-panes -t ui -F '#{pane_pid}')
	# One control-mode client for the whole open: it neither draws nor
	# resizes the window.
	coproc CTL { tmux -L "$sock" -C attach -t ui -f no-output,ignore-size 2>/dev/null; }
	local ctl=$CTL_PID # bash unsets CTL_PID when the client exits
	for _ in $(seq 1 6000); do
		sample || break
		t=$(now)
		if [ -z "$first" ] && [[ $s == *' dialogs'* ]]; then first=$t; fi
		if [ -n "$first" ] && ! [[ $s =~ loading\ [0-9] ]]; then break; fi
		read -r -t 0.02 -u "$nap" || true
	done
	if read -r stat <"/proc/$pid/stat" 2>/dev/null; then
		stat=${stat##*) } # fields from the state on: utime and stime are the 12th and 13th
		read -r -a f <<<"$stat"
		cpu=$((f[11] + f[12]))
	fi
	tmux -L "$sock" kill-server 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	wait "$ctl" 2>/dev/null || true
	sleep 0.3 # the next round's server must not meet this one shutting down
	awk -v t0="$t0" -v f="$first" -v l="$t" -v c="$cpu" -v hz="$hz" \
		'BEGIN {printf "%.3f %.3f %.2f\n", (f - t0) / 1e9, (l - t0) / 1e9, c / hz}' >>"$tmp/$name"
}

# bare BIN NAME: the same load without the TUI; appends "wall cpu"
# (bash's time: the child's user+system time).
bare() {
	local TIMEFORMAT='%R %U %S' out
	out=$({ time "$tmp/$1" rtp --format json "$file" >/dev/null 2>"$tmp/rtp.err"; } 2>&1)
	awk -v o="$out" 'BEGIN {split(o, a, " "); printf "%.3f %.2f\n", a[1], a[2] + a[3]}' >>"$tmp/$2"
}
median() { sort -n | awk '{a[NR] = $1} END {if (NR % 2) {print a[(NR + 1) / 2]} else {print (a[NR / 2] + a[NR / 2 + 1]) / 2}}'; }
col() { cut -d' ' -f"$2" "$tmp/$1" | median; }

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$rounds"); do
	order=("${bins[@]}")
	if [ $((r % 2)) -eq 0 ] && [ ${#bins[@]} -eq 2 ]; then order=(base cur); fi
	for b in "${order[@]}"; do once "$b" "$b.default"; done
	for b in "${order[@]}"; do once "$b" "$b.w1" --workers 1; done
	for b in "${order[@]}"; do bare "$b" "$b.rtp"; done
done
pkts=$(stat -c %s "$file")
echo "capture $(basename "$file") ($((pkts / 1048576)) MiB), $rounds rounds, 160x48"
echo "| binary | voiptool open | first screen (median) | loaded (median) | CPU when loaded | rtp --format json (wall; CPU) |"
echo "|---|---|---|---|---|---|"
for b in "${bins[@]}"; do
	label=${BIN:-this tree}
	[ "$b" = base ] && label=$BASELINE
	for n in default w1; do
		mode="default (2 goroutines)"
		[ "$n" = w1 ] && mode="--workers 1"
		rtp="-"
		if [ "$n" = default ]; then rtp=$(printf "%.2f s; %.2f s" "$(col "$b.rtp" 1)" "$(col "$b.rtp" 2)"); fi
		printf "| %s | %s | %.2f s | %.2f s | %.2f s | %s |\n" "$label" "$mode" "$(col "$b.$n" 1)" "$(col "$b.$n" 2)" "$(col "$b.$n" 3)" "$rtp"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ ${#bins[@]} -eq 2 ]; then
	# Ratios of the medians: this tree over the baseline (under 1: faster).
	ratio() { awk -v a="$(col "cur.$1" "$2")" -v b="$(col "base.$1" "$2")" 'BEGIN {printf "%.2f", a / b}'; }
	echo "ratios of the medians (this / baseline): loaded $(ratio default 2) (--workers 1: $(ratio w1 2)), first screen $(ratio default 1), CPU when loaded $(ratio default 3); rtp wall $(ratio rtp 1)"
	# The same, paired: each round's two runs were neighbours in time,
	# so the median of the per-round ratios shrugs off the machine's drift.
	pair() { paste -d' ' <(cut -d' ' -f"$2" "$tmp/cur.$1") <(cut -d' ' -f"$2" "$tmp/base.$1") | awk '{print $1 / $2}' | median; }
	printf "median of per-round ratios: loaded %.2f (--workers 1: %.2f), CPU when loaded %.2f; rtp wall %.2f\n" "$(pair default 2)" "$(pair w1 2)" "$(pair default 3)" "$(pair rtp 1)"
	# What the TUI adds to the bare load, per binary.
	for b in "${bins[@]}"; do
		awk -v l="$(col "$b.default" 2)" -v r="$(col "$b.rtp" 1)" -v n="$b" 'BEGIN {printf "%s: loaded / rtp wall %.2f\n", n, l / r}'
	done
fi
