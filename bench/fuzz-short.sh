#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time (default 10s
# each), beyond the committed seed corpora that plain `go test` replays.
# Usage: bench/fuzz-short.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
for pkg in $(go list ./...); do
	for fz in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $fz ($dur)"
		go test -run='^$' -fuzz="^${fz}\$" -fuzztime="$dur" "$pkg" >/tmp/fuzz.$$.log 2>&1 || {
			cat /tmp/fuzz.$$.log >&2
			echo "fuzz: $fz found a failure; the input is under $(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$fz" >&2
			exit 1
		}
	done
done
rm -f /tmp/fuzz.$$.log
