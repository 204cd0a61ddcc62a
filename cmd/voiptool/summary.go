package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/voiptool/voiptool/capture"
)

// writeSummary prints, on stderr, what was found and everything that was
// skipped, so nothing is dropped silently.
func writeSummary(w io.Writer, printed int, s *capture.Stats) {
	fmt.Fprintf(w, "voiptool: %d packets: %d SIP, %d RTP, %d RTCP, %d HEP; %d printed\n",
		s.Packets, s.SIP, s.RTP, s.RTCP, s.HEP, printed)
	var odd []string
	add := func(n int, what string) {
		if n > 0 {
			odd = append(odd, fmt.Sprintf("%d %s", n, what))
		}
	}
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
	add(s.SCTPDropped, "SCTP fragments dropped")
	add(s.RTPHeuristicDropped, "RTP-looking packets never confirmed as a stream (of the other)")
	if len(odd) > 0 {
		fmt.Fprintf(w, "voiptool: also %s\n", strings.Join(odd, ", "))
	}
}
