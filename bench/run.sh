#!/usr/bin/env bash
# Runs the benchmarks that carry the project's speed and memory goals and
# prints their figures. Usage: bench/run.sh [COUNT]   (default 3)
#   capture: decode+classify vs a bare DecodingLayerParser loop (target <= 1.5x, 0 allocs)
#   pcap, sipstream, hep, rtpstats: per-packet paths (0 allocs)
#   engine: the whole chain, packets/s, calls/s, store bytes per call
#   tui: View() of a 100 000-call list and a 500-message flow (target < 5 ms)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
run() { go test -run '^$' -bench "$2" -benchmem -count "$count" "$1" | grep -E '^(Benchmark|ok|FAIL)'; }
run ./capture/ 'BenchmarkDecode|BenchmarkBareParser'
run ./pcap/ 'BenchmarkReadPcap$|BenchmarkNext'
run ./capture/sipstream/ .
run ./hep/ 'Unmarshal|MarshalTo'
run ./rtpstats/ 'AddRTP'
run ./sipflow/ .
run ./internal/engine/ BenchmarkEngine
run ./tui/ 'View'
