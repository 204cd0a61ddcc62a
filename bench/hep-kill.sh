#!/usr/bin/env bash
# hep-forward over TCP (with --spool) into `voiptool listen -w`, the
# collector killed with SIGKILL mid-run and started again on its port
# after a pause; prints what the sender counted and what the two
# collectors wrote. Expect: sent = messages in the capture, resent > 0 when
# the kill left packets unacknowledged, and the messages missing from both
# files few: those the killed collector's kernel had acknowledged but its
# process had not yet written (no sender can recover those). Loopback only.
# Usage: bench/hep-kill.sh [CALLS]   (default 2000 calls, 7 SIP each)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-2000}
tmp=$(mktemp -d)
lpid=""
cleanup() {
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
go run ./internal/pcapgen/cmd/genpcaps -large "$tmp/big.pcap" -calls "$calls" -rtp 0
port=$((20000 + RANDOM % 20000))
to="tcp:127.0.0.1:$port"
listen() {
	"$tmp/voiptool" listen "$to" --no-ui -w "$1" >/dev/null 2>"$1.err" &
	lpid=$!
	sleep 0.5
}
listen "$tmp/r1.pcap"
# The capture spans calls x 50 ms; at --speed 10 that is calls x 5 ms.
"$tmp/voiptool" hep-forward "$tmp/big.pcap" --to "$to" --speed 10 --spool "$tmp/spool" \
	--flush-timeout 30s 2>"$tmp/fwd.err" &
fpid=$!
sleep "$(awk -v c="$calls" 'BEGIN { printf "%.1f", c * 0.005 / 3 }')"
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null || true
lpid=""
sleep 1
listen "$tmp/r2.pcap"
wait "$fpid" || echo "hep-forward exited $?"
sleep 1
kill -INT "$lpid"
wait "$lpid" || true
lpid=""
# SIP messages in a file the collector wrote (its summary line).
sip() { { "$tmp/voiptool" stats "$1" 2>&1 >/dev/null || true; } | sed -n 's/.* packets, \([0-9]*\) SIP.*/\1/p' | head -1; }
r1=$(sip "$tmp/r1.pcap")
r2=$(sip "$tmp/r2.pcap")
echo "capture: $((calls * 7)) SIP messages"
grep -E 'sent [0-9]' "$tmp/fwd.err" | sed 's/^voiptool: /sender: /'
echo "collector killed: wrote ${r1:-0}; restarted collector: wrote ${r2:-0}; missing from both: $((calls * 7 - ${r1:-0} - ${r2:-0})) (negative: duplicates)"
