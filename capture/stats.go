package capture

import "github.com/voiptool/voiptool/capture/sipstream"

// Stats counts what a Decoder saw. Every record lands in Packets; every
// classified payload in exactly one of SIP/RTP/RTCP/HEP; UDP and SCTP
// payloads that are none of them in Other.
type Stats struct {
	Packets int // records given to Decode

	SIP, RTP, RTCP, HEP int // events emitted per Kind
	RTPBySDP            int // of RTP+RTCP, classified through SDP-learned endpoints
	RTPByHeuristic      int // of RTP+RTCP, classified by the content heuristics
	// RTPHeuristicDropped counts packets, also in Other, that looked like
	// RTP but were never delivered: held until their SSRC was confirmed,
	// then discarded because the sequence broke, other SSRCs on the
	// 5-tuple evicted it, it expired or input ended; or not held at all
	// (flow table or hold budget full). Non-RTP UDP that happens to start
	// with version 2 lands here too, so on noisy captures it is not all
	// lost RTP.
	RTPHeuristicDropped int
	// MediaEvicted counts SDP-learned media endpoints evicted, the one
	// seen longest ago first, to learn a new one when MaxMedia were held.
	// Packets to an evicted endpoint are then classified by content only.
	MediaEvicted int

	UDP, TCP, SCTP  int // L4 segments/datagrams decoded (inner ones for tunnels)
	SCTPChunks      int // SCTP DATA chunks
	SCTPReassembled int // SCTP user messages rebuilt from several DATA chunks
	SCTPDropped     int // SCTP fragments dropped (out of order, too large, too many)

	IPv4, IPv6           int
	Fragments            int // IPv4/IPv6 fragments received
	Reassembled          int // datagrams rebuilt from fragments
	FragmentsExpired     int // incomplete datagrams dropped by FragTimeout
	FragmentsDropped     int // fragments dropped (bad offsets, too many parts, too large)
	FragmentsEvicted     int // incomplete datagrams evicted, oldest first, to make room for new ones (MaxFragDatagrams)
	VLAN                 int // records with at least one 802.1Q/QinQ tag
	PPPoE                int
	TunnelIPIP           int
	TunnelGRE            int
	TunnelERSPAN         int // type II and III
	TunnelVXLAN          int
	TLSStreams           int // TCP directions recognised as TLS (encrypted SIP), from sipstream
	Other                int // payloads or frames not classified (ARP, STUN, DNS, ICMP, non-IP ...)
	DecodeErrors         int // records for which Decode returned an error
	UnsupportedLinkTypes int // records with a link type Decode cannot read
	Truncated            int // records with caplen < len (cut by snaplen)
	CaptureOverLength    int // records with caplen > len
	NonMonotonic         int // records whose time is before the previous record's

	Stream sipstream.Stats // TCP reassembly and SIP framing
}
