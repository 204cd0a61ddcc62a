#!/usr/bin/env bash
# Times voiptool against tshark and sngrep on the same captures, in one
# run, alternating the tools round by round so that a drift in the
# machine's speed touches all of them alike, and prints medians of wall
# time, CPU time (user+sys) and peak RSS, plus the ratios to voiptool.
#
# Workloads (made fresh in a temporary directory):
#   rtp   RTP-heavy: CALLS_RTP calls with RTP both ways (our generator)
#   sip   SIP-only: CALLS_SIP calls, no RTP (our generator)
#   sipp  SIP from real peers: sipp uac -> sipp uas on loopback, recorded
#         by tcpdump (needs sipp and tcpdump; skipped without them)
# Commands compared on each capture:
#   voiptool rtp / calls / stats (JSON to /dev/null)
#   tshark -q -z rtp,streams   (rtp workload)  | tshark -q -z sip,stat (others)
#   sngrep -I FILE -N -q -l 10000000 -F        (reads the file, no UI)
#   floor: cat FILE > /dev/null                 (reading the bytes)
#   decode floor: bench/floor FILE               (pcap reader + bare gopacket
#                                                 DecodingLayerParser, nothing kept)
# "voiptool --workers 1" runs everything on one goroutine (the default
# decodes on a second one, ahead of the analysis): the two-core speed-up.
# With BASELINE=/path/to/older/voiptool the same commands of that binary
# run in the same rounds ("voiptool (baseline)"): before/after in one run.
#
# Usage: bench/compare.sh [ROUNDS]   (default 3)
# Sizes: CALLS_RTP (default 400) RTP_PER_DIR (400) CALLS_SIP (20000)
#        SIPP_CALLS (2000) SIPP_RATE (400)
# WORKLOADS (default "rtp sip sipp") picks the workloads; NO_PEERS=1
# leaves tshark and sngrep out (quick before/after runs).
# The results go to stdout as a markdown table (paste into bench/README.md
# with the machine described).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
CALLS_RTP=${CALLS_RTP:-400}
RTP_PER_DIR=${RTP_PER_DIR:-400}
CALLS_SIP=${CALLS_SIP:-20000}
SIPP_CALLS=${SIPP_CALLS:-2000}
SIPP_RATE=${SIPP_RATE:-400}
WORKLOADS=${WORKLOADS:-rtp sip sipp}
BASELINE=${BASELINE:-}
NO_PEERS=${NO_PEERS:-}
export PATH="$PATH:/usr/sbin:/sbin"

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$tmp/voiptool" ./cmd/voiptool
CGO_ENABLED=0 go build -o "$tmp/floor" ./bench/floor
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)" >&2
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

want() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
want rtp && go run ./internal/pcapgen/cmd/genpcaps -large "$tmp/rtp.pcap" -calls "$CALLS_RTP" -rtp "$RTP_PER_DIR" >/dev/null
want sip && go run ./internal/pcapgen/cmd/genpcaps -large "$tmp/sip.pcap" -calls "$CALLS_SIP" -rtp 0 >/dev/null

have_sipp=0
if want sipp && command -v sipp >/dev/null && command -v tcpdump >/dev/null; then
	have_sipp=1
	port=$((20000 + RANDOM % 20000))
	tcpdump -i lo -U -w "$tmp/sipp.pcap" "udp port $port" 2>"$tmp/tcpdump.err" &
	tpid=$!
	pids+=("$tpid")
	sleep 1
	sipp -sn uas -i 127.0.0.1 -p "$port" -bg >/dev/null 2>&1 || true
	uas=$(pgrep -n -f "sipp -sn uas -i 127.0.0.1 -p $port" || true)
	[ -n "$uas" ] && pids+=("$uas")
	timeout 300 sipp -sn uac -i 127.0.0.1 "127.0.0.1:$port" -r "$SIPP_RATE" -m "$SIPP_CALLS" -d 0 \
		-timeout 280s -nostdin >/dev/null 2>&1 || echo "sipp uac ended with an error (see its log)" >&2
	sleep 1
	[ -n "$uas" ] && kill "$uas" 2>/dev/null || true
	kill -INT "$tpid" 2>/dev/null || true
	wait "$tpid" 2>/dev/null || true
fi

# measure NAME CMD... : one run, appends "wall cpu rss_kb" to $tmp/NAME.
measure() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$tmp/time.out" "$@" >/dev/null 2>"$tmp/cmd.err" || true
	awk '{printf "%s %.3f %s\n", $1, $2 + $3, $4}' "$tmp/time.out" >>"$tmp/$name"
}

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) {print "nan"} else if (NR % 2) {print a[(NR + 1) / 2]} else {print (a[NR / 2] + a[NR / 2 + 1]) / 2}}'; }

declare -A label
run_workload() {
	local w=$1 file=$2
	local names=()
	names+=("$w.floor");      label[$w.floor]="cat (read floor)"
	names+=("$w.dfloor");     label[$w.dfloor]="decode floor"
	names+=("$w.voiptool");   label[$w.voiptool]="voiptool"
	names+=("$w.w1");         label[$w.w1]="voiptool --workers 1"
	names+=("$w.baseline");   label[$w.baseline]="voiptool (baseline)"
	names+=("$w.tshark");     label[$w.tshark]="tshark"
	names+=("$w.sngrep");     label[$w.sngrep]="sngrep -I -N -q"
	local cmd=calls
	[ "$w" = rtp ] && cmd=rtp
	for r in $(seq "$rounds"); do
		measure "$w.floor" cat "$file"
		measure "$w.dfloor" "$tmp/floor" "$file"
		measure "$w.voiptool" "$tmp/voiptool" "$cmd" "$file" --format json
		measure "$w.w1" "$tmp/voiptool" "$cmd" "$file" --format json --workers 1
		if [ -n "$BASELINE" ]; then
			measure "$w.baseline" "$BASELINE" "$cmd" "$file" --format json
		fi
		if [ -z "$NO_PEERS" ]; then
			if [ "$w" = rtp ]; then
				measure "$w.tshark" tshark -q -o rtp.heuristic_rtp:TRUE -z rtp,streams -r "$file"
			else
				measure "$w.tshark" tshark -q -z sip,stat -r "$file"
			fi
			if command -v sngrep >/dev/null; then
				measure "$w.sngrep" sngrep -F -I "$file" -N -q -l 10000000
			fi
		fi
	done
	local vwall vcpu
	vwall=$(cut -d' ' -f1 "$tmp/$w.voiptool" | median)
	vcpu=$(cut -d' ' -f2 "$tmp/$w.voiptool" | median)
	local pkts size
	pkts=$(capinfos -M -c "$file" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
	pkts=${pkts:-?}
	size=$(du -h "$file" | cut -f1)
	echo
	echo "### $w: $(basename "$file") ($size, $pkts packets), $rounds rounds"
	echo
	local dcpu
	dcpu=$(cut -d' ' -f2 "$tmp/$w.dfloor" | median)
	echo "| tool | wall (median) | CPU user+sys | peak RSS | wall / voiptool | CPU / voiptool | CPU / decode floor |"
	echo "|---|---|---|---|---|---|---|"
	for n in "${names[@]}"; do
		[ -s "$tmp/$n" ] || continue
		local wall cpu rss
		wall=$(cut -d' ' -f1 "$tmp/$n" | median)
		cpu=$(cut -d' ' -f2 "$tmp/$n" | median)
		rss=$(cut -d' ' -f3 "$tmp/$n" | median)
		awk -v l="${label[$n]}" -v w="$wall" -v c="$cpu" -v r="$rss" -v vw="$vwall" -v vc="$vcpu" -v dc="$dcpu" 'BEGIN {
			printf "| %s | %.2f s | %.2f s | %.0f MB | %.2f | %.2f | %.2f |\n", l, w, c, r / 1024, (vw > 0 ? w / vw : 0), (vc > 0 ? c / vc : 0), (dc > 0 ? c / dc : 0) }'
	done
}

want rtp && run_workload rtp "$tmp/rtp.pcap"
want sip && run_workload sip "$tmp/sip.pcap"
if [ "$have_sipp" = 1 ] && [ -s "$tmp/sipp.pcap" ]; then
	run_workload sipp "$tmp/sipp.pcap"
elif want sipp; then
	echo >&2 "sipp workload skipped (sipp or tcpdump missing, or nothing recorded)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
