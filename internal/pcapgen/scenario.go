package pcapgen

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

// Scenario is one committed capture and what a correct reader finds in it.
type Scenario struct {
	Name        string // short id, e.g. "basic-call"
	File        string // file name under testdata/pcaps
	Description string
	Want        Expect

	data []byte
	// sipFrames is the number of frames `tshark -Y sip` shows, or -1
	// where tshark's view (TCP reassembly, tunnels …) is not checked.
	sipFrames int
}

// Expect holds the values computed from a scenario's definition.
type Expect struct {
	LinkType uint32 // link type of the first (or only) interface; 0 when not a capture
	Packets  int    // complete records a reader returns
	UDP      int    // records whose innermost transport is UDP (VXLAN/HEP carriers count once)
	TCP      int    // records whose innermost transport is TCP
	SCTP     int    // records carrying SCTP
	// Fragments counts records that are IP fragments (reassembly input).
	Fragments int
	// SIP counts complete SIP messages after IP reassembly, TCP stream
	// reassembly, WebSocket defragmentation and HEP decapsulation.
	SIP        int
	RTP        int // RTP packets (records), RFC 4733 and CN included
	RTCP       int // RTCP compound packets
	HEP        int // HEP3 packets
	TLSStreams int // TCP connections carrying TLS
	Calls      int // distinct INVITE dialogs (Call-IDs whose first request is INVITE)
	// ReadErr is true when reading must end with an error after Packets
	// records (truncated.pcap) or at once (garbage-not-pcap.bin).
	ReadErr bool
	Streams []StreamExpect
	Dialogs []DialogExpect
	Notes   string
}

// Dialog states, named after sngrep's call states.
const (
	StateSetup     = "setup"     // INVITE without a final response
	StateInCall    = "in-call"   // answered, no BYE seen
	StateCompleted = "completed" // answered and ended with BYE/200
	StateCancelled = "cancelled" // CANCEL then 487
	StateRejected  = "rejected"  // 4xx/5xx/6xx other than busy
	StateBusy      = "busy"      // 486 Busy Here or 600 Busy Everywhere
	StateDiverted  = "diverted"  // 3xx final response
)

// DialogExpect is the expected outcome of one Call-ID.
type DialogExpect struct {
	CallID    string
	Method    string // first request's method
	FinalCode int    // final response to the last request with the first request's method (e.g. INVITE after a 407 challenge)
	State     string // one of the State* constants; empty for non-INVITE
	Messages  int    // SIP messages carrying this Call-ID (retransmissions included)
	ToTags    int    // distinct To tags seen in responses (2 when forked)
	LinkedTo  string // Call-ID named by X-Call-ID (B2BUA B-leg → A-leg)
	// Problems are the internal/diagnose codes the call must show, with
	// the default thresholds, in the detectors' order (nil: not checked).
	Problems []string
	Notes    string
}

// StreamExpect is the expected reception statistics of one RTP stream
// (same 5-tuple and SSRC), computed the RFC 3550 appendix A.1/A.3/A.8 way.
type StreamExpect struct {
	Src, Dst    netip.AddrPort
	SSRC        uint32
	PayloadType uint8 // of the first packet
	Packets     int   // packets received, duplicates included
	Expected    int   // extended highest seq - first seq + 1
	Lost        int   // distinct sequence numbers between the lowest and highest received that never arrived
	// Missing is the same figure from the drop list alone (sender indices
	// never captured strictly between the first and last captured), the
	// ground truth Lost must equal; Dropped counts every dropped index,
	// at the edges too.
	Missing, Dropped int
	Duplicates       int // packets whose sequence number was already received
	OutOfOrder       int // packets arriving with a seq older than the highest so far (not duplicates)
	SeqWraps         int // times the sequence number wrapped past 65535
	FirstSeq         uint16
	HighestSeq       uint16
	Markers          int // packets with the marker bit
	// JitterMs is the RFC 3550 A.8 interarrival jitter after the last
	// packet, in milliseconds, computed in float64 over arrival order;
	// an implementation using integer timestamp units may differ by <0.2 ms.
	JitterMs float64
	// CallID is the call whose SDP announced both ends of the stream,
	// where a scenario is about linking streams to calls ("" elsewhere).
	CallID string
	Notes  string
}

// Scenarios builds every scenario (in memory; about 1.5 MB) and returns
// the table. Each call builds afresh: there is no package state.
func Scenarios() []Scenario {
	var out []Scenario
	for _, b := range builders() {
		s := b()
		out = append(out, s)
	}
	return out
}

// Bytes returns the file content of s.
func (s Scenario) Bytes() []byte { return s.data }

// Write writes every scenario file into dir (created if missing).
func Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("pcapgen: %w", err)
	}
	all := Scenarios()
	for _, s := range all {
		if err := os.WriteFile(filepath.Join(dir, s.File), s.data, 0o644); err != nil {
			return fmt.Errorf("pcapgen: %s: %w", s.File, err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "README.md"), readme(all), 0o644); err != nil {
		return fmt.Errorf("pcapgen: README.md: %w", err)
	}
	return nil
}

// readme lists every file with its description, so the index cannot
// drift from the generator either.
func readme(all []Scenario) []byte {
	var b strings.Builder
	b.WriteString("# Generated test captures\n\n")
	b.WriteString("Every file here is written by `go generate ./internal/pcapgen` (package\n")
	b.WriteString("`internal/pcapgen`, command `internal/pcapgen/cmd/genpcaps`); do not edit\n")
	b.WriteString("them by hand. `TestCommittedFilesUpToDate` fails when they drift. The expected\n")
	b.WriteString("values for each file (packets, SIP messages, RTP streams, dialog states …) are\n")
	b.WriteString("in `pcapgen.Scenarios()`; the \"mini call\" is INVITE(SDP)/200(SDP)/ACK, two\n")
	b.WriteString("PCMU RTP packets each way, BYE/200. Timestamps start at 2026-01-01T10:00:00Z.\n\n")
	b.WriteString("| file | packets | what it holds |\n|---|---:|---|\n")
	for _, s := range all {
		fmt.Fprintf(&b, "| `%s` | %d | %s |\n", s.File, s.Want.Packets, s.Description)
	}
	return []byte(b.String())
}
