#!/usr/bin/env bash
# Runs every fuzz target in the module for a short time (default 10s
# each), beyond the committed seed corpora that plain `go test` replays.
# Usage: bench/fuzz-short.sh [DURATION]
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for pkg in $(go list ./...); do
	for fz in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz: $pkg $fz ($dur)"
		dir="$(go list -f '{{.Dir}}' "$pkg")/testdata/fuzz/$fz"
		before=$( (ls "$dir" 2>/dev/null || true) | wc -l)
		if go test -run='^$' -fuzz="^${fz}\$" -fuzztime="$dur" "$pkg" >"$log" 2>&1; then
			continue
		fi
		after=$( (ls "$dir" 2>/dev/null || true) | wc -l)
		# Go's fuzzer can report "context deadline exceeded" when the
		# fuzz time ends while a worker is between inputs, without any
		# failing input (nothing new under testdata/fuzz): not a finding.
		if [ "$after" = "$before" ] && grep -q "context deadline exceeded" "$log"; then
			echo "fuzz: $fz: the fuzz time ended mid-run (context deadline exceeded, no failing input written): not a failure"
			continue
		fi
		cat "$log" >&2
		echo "fuzz: $fz found a failure; the input is under $dir" >&2
		exit 1
	done
done
