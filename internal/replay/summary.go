package replay

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/internal/pace"
)

// TargetCount is what was sent to one destination over one transport.
type TargetCount struct {
	Target    netip.AddrPort `json:"target"`
	Transport string         `json:"transport"`
	Packets   int64          `json:"packets"`
	Bytes     int64          `json:"bytes"`
	Errors    int64          `json:"errors"`
}

// Counts are everything a replay counted; nothing is left out silently.
type Counts struct {
	Sent       int64 `json:"sent"`
	SentBytes  int64 `json:"sent_bytes"`
	SendErrors int64 `json:"send_errors"`
	// Received counts what came back to the local sockets (read and
	// discarded); PeerSDP the live SDP answers learnt from it.
	Received      int64 `json:"received"`
	ReceivedBytes int64 `json:"received_bytes"`
	PeerSDP       int64 `json:"peer_sdp"`
	// Refused: no target for the destination; RefusedPeer: a live
	// peer's SDP pointed media at an address nobody gave.
	Refused     int64 `json:"refused_no_target"`
	RefusedPeer int64 `json:"refused_peer_address"`
	// SocketsFull: packets dropped because MaxSockets were open.
	SocketsFull int64 `json:"refused_sockets_full"`
	// Skipped: not in a selected call; OtherSide: sent by the party
	// the live peer plays; Unattributed: media no SDP of a call names,
	// while calls or a side were selected; HEP: encapsulated payloads
	// (not replayed).
	Skipped      int64 `json:"skipped_not_selected"`
	OtherSide    int64 `json:"skipped_other_side"`
	Unattributed int64 `json:"skipped_unattributed"`
	HEP          int64 `json:"skipped_hep"`
	// RewriteErrors: SIP that did not parse and went out unchanged.
	RewriteErrors int64 `json:"rewrite_errors"`
	// With NewRTP: RTCP packets mapped onto the new RTP bases, those
	// that did not decode (or encode) and went out unchanged, and
	// member packets of a type that names no SSRC we map (sent as
	// decoded). StreamsFull: streams beyond the table, each packet of
	// which got a base of its own.
	RTCPRewritten int64 `json:"rtcp_rewritten"`
	RTCPUnchanged int64 `json:"rtcp_unchanged"`
	RTCPUnknown   int64 `json:"rtcp_unknown_types"`
	StreamsFull   int64 `json:"streams_full"`
	Sockets       int   `json:"sockets"`
}

// Summary is the outcome of Run.
type Summary struct {
	Runs     int           `json:"runs"`
	Calls    int           `json:"calls_selected"` // -1: no selection
	Elapsed  time.Duration `json:"elapsed_ns"`
	Targets  []TargetCount `json:"targets"`
	Counts   Counts        `json:"counts"`
	Lateness pace.Lateness `json:"-"`
	// Timing is Lateness in microseconds, for JSON readers.
	Timing    Timing `json:"timing_error_us"`
	Cancelled bool   `json:"cancelled"`
	// Frames is set by a frame replay (--iface).
	Frames *FrameCounts `json:"frames,omitempty"`
}

// Timing is the lateness distribution in microseconds.
type Timing struct {
	Count uint64  `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func timingOf(l pace.Lateness) Timing {
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	return Timing{Count: l.Count, Mean: us(l.Mean), P50: us(l.P50), P99: us(l.P99), Max: us(l.Max)}
}

// Progress is a replay's state while it runs.
type Progress struct {
	Run, Runs int // Runs 0: forever
	Sent      int64
	Bytes     int64
	Errors    int64
	Elapsed   time.Duration
	// Done is the fraction of the current run's capture time played.
	Done float64
	ETA  time.Duration // -1: unknown
	// Late is the lateness of the latest departure.
	Late time.Duration
}

// String is the one-line progress report.
func (p Progress) String() string {
	rate := 0.0
	if p.Elapsed > 0 {
		rate = float64(p.Sent) / p.Elapsed.Seconds()
	}
	runs := "∞"
	if p.Runs > 0 {
		runs = fmt.Sprint(p.Runs)
	}
	eta := "?"
	if p.ETA >= 0 {
		eta = p.ETA.Round(time.Second).String()
	}
	return fmt.Sprintf("run %d/%s %3.0f%%  %d pkts %.0f pkt/s  %d errors  elapsed %s  ETA %s  late %s",
		p.Run, runs, 100*p.Done, p.Sent, rate, p.Errors, p.Elapsed.Round(100*time.Millisecond), eta, p.Late.Round(time.Microsecond))
}

// WriteSummary prints s as "text" or "json".
func WriteSummary(w io.Writer, s Summary, format string) error {
	s.Timing = timingOf(s.Lateness)
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	c := s.Counts
	state := ""
	if s.Cancelled {
		state = " (interrupted)"
	}
	fmt.Fprintf(w, "replay%s: %d run(s) in %s, %d packets (%d bytes) sent, %d send errors, %d received back\n",
		state, s.Runs, s.Elapsed.Round(time.Millisecond), c.Sent, c.SentBytes, c.SendErrors, c.Received)
	for _, t := range s.Targets {
		fmt.Fprintf(w, "  -> %s %-21s %8d pkts %10d bytes %6d errors\n", t.Transport, t.Target, t.Packets, t.Bytes, t.Errors)
	}
	if s.Frames != nil {
		fmt.Fprintf(w, "  payloads not selected: %d of other calls, %d of the other side, %d unattributed\n",
			c.Skipped, c.OtherSide, c.Unattributed)
	} else {
		fmt.Fprintf(w, "  not sent: %d no target, %d peer address refused, %d sockets full, %d not selected, %d other side, %d unattributed media, %d HEP\n",
			c.Refused, c.RefusedPeer, c.SocketsFull, c.Skipped, c.OtherSide, c.Unattributed, c.HEP)
	}
	if c.RewriteErrors > 0 {
		fmt.Fprintf(w, "  %d SIP messages could not be parsed and were sent unchanged\n", c.RewriteErrors)
	}
	if c.RTCPRewritten+c.RTCPUnchanged+c.RTCPUnknown+c.StreamsFull > 0 {
		fmt.Fprintf(w, "  RTCP: %d mapped to the new RTP bases, %d undecodable sent unchanged, %d packets of unmapped types; %d streams beyond the table\n",
			c.RTCPRewritten, c.RTCPUnchanged, c.RTCPUnknown, c.StreamsFull)
	}
	if s.Lateness.Count > 0 {
		fmt.Fprintf(w, "  timing error: p50 %s, p99 %s, max %s (%d departures)\n",
			s.Lateness.P50, s.Lateness.P99, s.Lateness.Max, s.Lateness.Count)
	}
	if f := s.Frames; f != nil {
		fmt.Fprintf(w, "  frames on %s: %d of %d records sent (%d bytes); refused by the kernel: %d no room (EAGAIN/ENOBUFS), %d above the MTU, %d other errors\n",
			f.Iface, f.Sent, f.Records, f.Bytes, f.Dropped, f.TooBig, f.Errors)
		fmt.Fprintf(w, "  frames not sent: %d not selected, %d without a VoIP payload (--only-voip), %d headers not located, %d lengths/checksums not repairable, %d without Ethernet header; %d sent with checksums as captured\n",
			f.NotSelected, f.SkippedUnclassified, f.NoHeaders, f.FixupErrors, f.NoEthernet, f.ChecksumsKept)
		if f.Unclassified > 0 {
			fmt.Fprintf(w, "  frames without a VoIP payload (ARP, TCP handshakes and ACKs, ...) sent as captured: %d (--only-voip leaves them out)\n", f.Unclassified)
		}
		fmt.Fprintf(w, "  frames rewritten: %d addresses (--map), %d Ethernet headers built; %d payloads classified too late\n",
			f.Rewritten, f.Synthesised, f.LateEvents)
		return nil
	}
	_, err := fmt.Fprintf(w, "  %d local sockets\n", c.Sockets)
	return err
}
