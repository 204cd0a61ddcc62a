#!/usr/bin/env bash
# A busy day, compressed in time, through `voiptool calls` and `stats`:
# peak RSS (GNU time's maximum resident set size) with the default memory
# budget and with smaller --max-memory budgets, and what each run had to
# evict or refuse to stay inside it (the summary's own lines).
#
# The captures are made fresh by bench/busyday (internal/pcapgen):
#   calls.pcap    CALLS calls with RTP_PER_DIR RTP packets each way
#   hostile.pcap  over the same span: TCP short connections (one REGISTER
#                 each), STALLED TCP connections each sending
#                 STALLED_BYTES of a header that never ends, a FLOOD of
#                 unanswered INVITEs with new Call-IDs, JUNK datagrams
#
# Usage: bench/busy-day.sh [BUDGET...]   (default: 256MiB 64MiB)
# Sizes: CALLS (20000) RTP_PER_DIR (10) TCP (20000) STALLED (1000)
#        STALLED_BYTES (204800) FLOOD (100000) JUNK (20000)
# GOMEMLIMIT_TOO=1 adds, for each budget, a run with the Go runtime's soft
# memory limit (GOMEMLIMIT) set to it: how much of the RSS above a budget
# is garbage the collector has not yet been asked to return.
# CAPTURES=DIR reuses calls.pcap and hostile.pcap from DIR.
# Prints a markdown table (paste into bench/README.md with the machine).
set -euo pipefail
cd "$(dirname "$0")/.."
budgets=("$@")
[ ${#budgets[@]} -eq 0 ] && budgets=(256MiB 64MiB)
CALLS=${CALLS:-20000}
RTP_PER_DIR=${RTP_PER_DIR:-10}
TCP=${TCP:-20000}
STALLED=${STALLED:-1000}
STALLED_BYTES=${STALLED_BYTES:-204800}
FLOOD=${FLOOD:-100000}
JUNK=${JUNK:-20000}
[ -x /usr/bin/time ] || { echo "busy-day: needs GNU time at /usr/bin/time" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
caps=${CAPTURES:-$tmp}
if [ -z "${CAPTURES:-}" ]; then
	go run ./bench/busyday -out "$tmp" -calls "$CALLS" -rtp "$RTP_PER_DIR" -tcp "$TCP" \
		-stalled "$STALLED" -stalled-bytes "$STALLED_BYTES" -flood "$FLOOD" -junk "$JUNK"
fi
size=$(du -cm "$caps/calls.pcap" "$caps/hostile.pcap" | tail -1 | cut -f1)
echo "captures: ${size} MB; $CALLS calls x $RTP_PER_DIR RTP each way, $TCP short TCP connections," \
	"$STALLED stalled x $STALLED_BYTES bytes, $FLOOD flood INVITEs, $JUNK junk datagrams"
echo
runs=(default "${budgets[@]}")
if [ -n "${GOMEMLIMIT_TOO:-}" ]; then
	for b in "${budgets[@]}"; do runs+=("$b+GOMEMLIMIT"); done
fi
echo "| command | --max-memory | peak RSS | wall | evicted, refused or dropped (summary) |"
echo "|---|---|---|---|---|"
for cmd in calls stats; do
	for b in "${runs[@]}"; do
		args=()
		env=()
		case $b in
		default) ;;
		*+GOMEMLIMIT) args=(--max-memory "${b%+GOMEMLIMIT}"); env=(GOMEMLIMIT="${b%+GOMEMLIMIT}") ;;
		*) args=(--max-memory "$b") ;;
		esac
		env "${env[@]}" /usr/bin/time -f '%M %e' -o "$tmp/time" "$tmp/voiptool" "$cmd" "${args[@]}" \
			"$caps/calls.pcap" "$caps/hostile.pcap" >/dev/null 2>"$tmp/err"
		read -r kb secs <"$tmp/time"
		# The summary's second line and the store's eviction notes, shortened.
		notes=$(sed -e 's/^voiptool: //' -e 's/^also //' "$tmp/err" | tr ';,' '\n\n' |
			grep -E 'evicted|refused|dropped|discarded' | sed -e 's/^ *//' -e 's/ (raise [^)]*)//' -e 's/ (.*//' |
			paste -sd ';' - | sed -e 's/;/; /g' -e 's/|/\\|/g')
		printf '| %s | %s | %d MB | %s s | %s |\n' "$cmd" "$b" $((kb / 1024)) "$secs" "${notes:--}"
	done
done
