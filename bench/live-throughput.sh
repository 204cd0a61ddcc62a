#!/usr/bin/env bash
# Live capture throughput: voiptool, tcpdump and sngrep capture the same
# replayed traffic on a veth pair in a network namespace of their own, at
# increasing packet rates; for each rate and tool it prints what was sent,
# what the tool kept, and the kernel drops it reported. The highest rate
# at which a tool kept everything is its zero-drop rate (issue goal for
# voiptool: 300 k packets/s on one core).
#
# Every tool writes what it captured to a file in /dev/shm (voiptool -w,
# tcpdump -w, sngrep -O), and the SIP messages in each file are counted
# by one reader (voiptool's), so "kept" means the same for all three:
# SIP messages that reached the file. Tools are alternated within each
# rate, so a drift in the machine's load touches all of them alike.
#
# Needs root (ip netns), tcpreplay, tcpdump, sngrep. Everything it starts
# is killed by PID and the namespace deleted on exit.
#
# Usage: bench/live-throughput.sh [RATES]   (default "50000 100000 200000 300000 500000")
# TOOLS (default "voiptool voiptool-w1 tcpdump sngrep"): voiptool-w1 is
# voiptool --workers 1 (decoding and analysis on one goroutine).
# Size: CALLS (default 300) RTP_PER_DIR (300): about 2*CALLS*RTP_PER_DIR packets.
set -euo pipefail
cd "$(dirname "$0")/.."
rates=${1:-"50000 100000 200000 300000 500000"}
CALLS=${CALLS:-300}
RTP_PER_DIR=${RTP_PER_DIR:-300}
export PATH="$PATH:/usr/sbin:/sbin"

for t in ip tcpreplay tcpdump sngrep; do
	command -v "$t" >/dev/null || { echo "live-throughput: $t is missing (apt-get install iproute2 tcpreplay tcpdump sngrep)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "live-throughput: needs root for its network namespace" >&2; exit 2; }

ns="vtbench$$"
tmp=$(mktemp -d)
out=$(mktemp -d /dev/shm/vtbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp" "$out"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
go run ./internal/pcapgen/cmd/genpcaps -large "$tmp/load.pcap" -calls "$CALLS" -rtp "$RTP_PER_DIR" >/dev/null

ip netns add "$ns"
ip -n "$ns" link add vta type veth peer name vtb
ip -n "$ns" link set vta up
ip -n "$ns" link set vtb up
ip -n "$ns" link set lo up
inns() { ip netns exec "$ns" "$@"; }

# sip FILE: SIP messages in a capture, by voiptool's reader
sip() { "$tmp/voiptool" stats "$1" 2>&1 >/dev/null | sed -n 's/^voiptool: [0-9]* packets, \([0-9]*\) SIP.*/\1/p' | head -1; }
sent_sip=$(sip "$tmp/load.pcap")
packets=$("$tmp/voiptool" stats "$tmp/load.pcap" 2>&1 >/dev/null | sed -n 's/^voiptool: \([0-9]*\) packets.*/\1/p' | head -1)

echo "machine: $(nproc) cores, $(uname -sr); load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "workload: $packets packets ($sent_sip SIP) replayed by tcpreplay onto a veth pair"
echo
echo "| rate (pps) | tool | SIP kept | of | kernel drops (voiptool: also its queue and recorder) | replay pps achieved |"
echo "|---|---|---|---|---|---|"

# run TOOL RATE: start TOOL on vtb, replay at RATE on vta, stop TOOL
run() {
	local tool=$1 rate=$2 f="$out/$1.pcap" log="$out/$1.log" pid drops="-"
	rm -f "$f" "$log"
	case $tool in
	# `ip netns exec` execs the tool, so $! is the tool itself and the
	# SIGINT below reaches it (a backgrounded shell function would not)
	voiptool) ip netns exec "$ns" "$tmp/voiptool" capture -i vtb --no-ui -w "$f" --status-interval 1h >/dev/null 2>"$log" & ;;
	voiptool-w1) ip netns exec "$ns" "$tmp/voiptool" capture -i vtb --no-ui --workers 1 -w "$f" --status-interval 1h >/dev/null 2>"$log" & ;;
	tcpdump) ip netns exec "$ns" tcpdump -i vtb -n -U -B 65536 -w "$f" 2>"$log" & ;;
	sngrep) ip netns exec "$ns" sngrep -d vtb -N -q -O "$f" >"$log" 2>&1 & ;;
	esac
	pid=$!
	pids+=("$pid")
	sleep 1.5
	local rep
	rep=$(inns tcpreplay -i vta --pps="$rate" "$tmp/load.pcap" 2>&1 || true)
	sleep 1
	kill -INT "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	case $tool in
	voiptool*) # the summary names each kind of drop only when there were some
		local k q r
		k=$(sed -n 's/.*the kernel dropped \([0-9]*\) packets.*/\1/p' "$log" | tail -1)
		q=$(sed -n 's/.*the live sources dropped \([0-9]*\) packets.*/\1/p' "$log" | tail -1)
		r=$(sed -n 's/.*the recorder could not write \([0-9]*\) packets.*/\1/p' "$log" | tail -1)
		drops="${k:-0} (queue ${q:-0}, recorder ${r:-0})" ;;
	tcpdump) drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$log" | tail -1) ;;
	esac
	local kept=0
	[ -s "$f" ] && kept=$(sip "$f")
	local achieved
	achieved=$(printf '%s\n' "$rep" | sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | head -1)
	echo "| $rate | $tool | ${kept:-0} | $sent_sip | ${drops:--} | ${achieved:-?} |"
	rm -f "$f"
}

for rate in $rates; do
	for tool in ${TOOLS:-voiptool voiptool-w1 tcpdump sngrep}; do
		run "$tool" "$rate"
	done
done
echo
echo "sngrep reports no kernel drop counter; its 'SIP kept' is what reached its -O file." >&2
