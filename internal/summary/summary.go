package summary

import (
	"fmt"
	"io"
	"strings"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/sipstream"
)

// Capture prints what the decoder found (and how many events the command
// printed) and everything it skipped.
func Capture(w io.Writer, printed int, s *capture.Stats) {
	fmt.Fprintf(w, "voiptool: %d packets: %d SIP, %d RTP, %d RTCP, %d HEP; %d printed\n",
		s.Packets, s.SIP, s.RTP, s.RTCP, s.HEP, printed)
	var odd []string
	add := func(n int, what string) { odd = appendCount(odd, n, what) }
	add(s.Other, "other (not SIP/RTP/RTCP/HEP)")
	if st := s.Stream; st.TLSSessions > 0 {
		add(int(st.TLSSessions), "TLS connections decrypted")
		add(int(st.TLSSessionsUndecrypted), "TLS connections with records not decrypted (no key, unsupported suite, gap...)")
	} else {
		add(s.TLSStreams, "TLS streams (encrypted SIP, not decoded)")
	}
	add(s.DecodeErrors, "undecodable records")
	add(s.UnsupportedLinkTypes, "records of unsupported link types")
	add(s.Truncated, "records cut by snaplen")
	add(s.CaptureOverLength, "records with caplen > len")
	add(s.NonMonotonic, "records with time going backwards")
	add(s.Reassembled, "datagrams reassembled from fragments")
	add(s.FragmentsExpired+s.FragmentsDropped, "fragments dropped")
	add(s.FragmentsEvicted, "incomplete datagrams evicted (fragment table full)")
	add(s.SCTPDropped, "SCTP fragments dropped")
	add(s.RTPHeuristicDropped, "RTP-looking packets never confirmed as a stream (of the other)")
	add(s.MediaEvicted, "SDP media endpoints evicted (table full; their RTP found by content only)")
	odd = append(odd, StreamLosses(&s.Stream)...)
	if len(odd) > 0 {
		fmt.Fprintf(w, "voiptool: also %s\n", strings.Join(odd, ", "))
	}
}

// Loss is what the sources lost before anything was decoded.
type Loss struct {
	// Kernel is the sum of the kernel's drop counters over the live
	// interfaces (the capture did not keep up).
	Kernel uint64
	// Source is records a source dropped itself (a live source's queue
	// full while the merge waited on a slower one).
	Source uint64
	// Reordered is live records decoded after a later record of another
	// source (they reached the merge after its window): nothing is lost,
	// but an RTP packet may have come before the SIP that announced it.
	Reordered uint64
}

// Drops prints one line per kind of loss; nothing when nothing was lost.
func Drops(w io.Writer, l Loss) {
	if l.Kernel > 0 {
		fmt.Fprintf(w, "voiptool: the kernel dropped %d packets (capture did not keep up)\n", l.Kernel)
	}
	if l.Source > 0 {
		fmt.Fprintf(w, "voiptool: the live sources dropped %d packets (their queues were full)\n", l.Source)
	}
	if l.Reordered > 0 {
		fmt.Fprintf(w, "voiptool: %d packets from several live sources were decoded out of time order (they reached the merge after its window)\n", l.Reordered)
	}
}

// StreamLosses lists what TCP reassembly and SIP framing gave up on, for
// every summary (dump, calls, rtp, the capture command): SIP messages
// over the stream buffer, framing lost and found again, holes the
// capture left, bytes discarded, connections refused.
func StreamLosses(s *sipstream.Stats) []string {
	var out []string
	add := func(n uint64, what string) { out = appendCount(out, n, what) }
	add(s.BufferOverflows, "SIP messages over TCP larger than the stream buffer (dropped, framing resynchronised)")
	add(s.Resyncs, "TCP resynchronisations on the next start line")
	add(s.Gaps, "TCP holes given up on (the capture lost data)")
	add(s.OutOfOrderOverflows, "TCP holes given up on at the out-of-order limit")
	add(s.StreamsRefused, "TCP connections refused at the stream limit")
	add(s.BudgetEvictions, "TCP directions evicted to keep reassembly inside its memory budget (an eighth of --max-memory)")
	add(s.BudgetEvictedBytes, "TCP bytes of partial messages those evictions discarded")
	add(s.TLSBudgetEvictions, "TLS connections evicted whole for the same budget (their directions are among those above)")
	add(s.TLSBudgetEvictedBytes, "bytes of TLS records split across segments (or waiting for keys) those evictions discarded")
	add(s.DiscardedBytes, "TCP bytes discarded (non-SIP, TLS, unframeable, resync)")
	return out
}

// appendCount appends "N what" when N is not zero.
func appendCount[T int | uint64](list []string, n T, what string) []string {
	if n == 0 {
		return list
	}
	return append(list, fmt.Sprintf("%d %s", n, what))
}
