#!/usr/bin/env bash
# Measures `voiptool hep-forward --speed max` of a large generated capture
# over UDP loopback into `voiptool listen --no-ui`, and prints messages/s
# sent and received. Loopback only; bounded by the size of the capture.
# Usage: bench/hep-forward.sh [CALLS]   (default 2000 calls, 7 SIP each)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-2000}
tmp=$(mktemp -d)
trap 'kill $lpid 2>/dev/null || true; rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
go run ./internal/pcapgen/cmd/genpcaps -large "$tmp/big.pcap" -calls "$calls" -rtp 10
port=$((20000 + RANDOM % 20000))
"$tmp/voiptool" listen "udp:127.0.0.1:$port" --no-ui --dedup-window 0 >"$tmp/recv.txt" 2>"$tmp/listen.err" &
lpid=$!
sleep 0.5
start=$(date +%s.%N)
"$tmp/voiptool" hep-forward "$tmp/big.pcap" --to "udp:127.0.0.1:$port" --speed max 2>"$tmp/fwd.err"
end=$(date +%s.%N)
sleep 1
kill -INT $lpid; wait $lpid || true
sent=$((calls * 7))
recv=$(wc -l <"$tmp/recv.txt")
awk -v s="$start" -v e="$end" -v n="$sent" -v r="$recv" 'BEGIN {
	d = e - s; printf "hep-forward: %d SIP messages in %.2f s = %.0f msg/s; listen received %d (%.1f%%)\n", n, d, n / d, r, 100 * r / n }'
cat "$tmp/fwd.err"
