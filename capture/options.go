package capture

import (
	"time"

	"github.com/voiptool/voiptool/capture/sipstream"
	"github.com/voiptool/voiptool/pcap"
)

// Defaults used when an Options field is zero.
const (
	DefaultMaxDepth        = 8                // nested encapsulations (VLAN, PPPoE, tunnels) per record
	MaxMaxDepth            = 24               // the cap on Options.MaxDepth: keeps Layers' uint8 header index from wrapping
	DefaultFragTimeout     = 30 * time.Second // RFC 791 suggests 15 s; Linux ipfrag_time is 30 s
	DefaultMaxFragDatagram = 256              // datagrams under reassembly at once
	DefaultMediaTimeout    = 5 * time.Minute  // packet time an SDP-learned endpoint lives without traffic
	DefaultMaxMedia        = 1 << 16          // SDP-learned endpoints tracked at once
	DefaultMaxFlows        = 1 << 16          // UDP flows tracked by the RTP heuristic
	DefaultFlowTimeout     = 60 * time.Second // packet time a heuristic flow lives without traffic
	DefaultExpireInterval  = time.Second      // packet time between expiry sweeps
	maxIPDatagram          = 65535 + 40       // largest IPv4 datagram / IPv6 payload (no jumbograms)
	maxSCTPMessage         = 256 << 10        // largest reassembled SCTP user message
	maxSCTPPending         = 256              // SCTP fragmented messages in progress at once
)

// Options configures a Decoder (and Run). The zero value is useful: every
// zero field means the default named above.
type Options struct {
	// NoRTPHeuristic switches off both content heuristics (RTP by SSRC
	// continuity, RTCP by compound length walk): then only UDP to or from
	// an endpoint learned from SDP is classified as RTP/RTCP.
	NoRTPHeuristic bool
	// MaxDepth bounds nested encapsulations per record; at most
	// MaxMaxDepth (deeper nesting is not traffic, it is an attack).
	MaxDepth int
	// FragTimeout is the packet time an incomplete IP datagram waits for
	// its missing fragments.
	FragTimeout time.Duration
	// MaxFragDatagrams bounds datagrams under reassembly; a new datagram
	// beyond it evicts the one waiting longest (counted in
	// Stats.FragmentsEvicted).
	MaxFragDatagrams int
	// MediaTimeout is the packet time an SDP-learned endpoint lives
	// without traffic.
	MediaTimeout time.Duration
	// MaxMedia bounds SDP-learned endpoints.
	MaxMedia int
	// MaxFlows bounds UDP flows tracked by the RTP heuristic.
	MaxFlows int
	// FlowTimeout is the packet time a heuristic flow lives without traffic.
	FlowTimeout time.Duration
	// Stream configures TCP reassembly and SIP framing.
	Stream sipstream.Options

	// QueueLen bounds the records each live source may queue ahead of
	// the decoder in Run (DefaultQueueLen when zero).
	QueueLen int
	// MergeWindow is how long Run holds a record back for a quiet live
	// source (DefaultMergeWindow when zero). Files are merged exactly.
	MergeWindow time.Duration
	// OnRecord, when set, is called by Run with every record, in merged
	// order, before it is decoded (recording everything captured). data
	// aliases the source's buffer: valid only during the call.
	OnRecord func(source int, p pcap.Packet, data []byte)
	// Pipeline makes Run decode on a goroutine of its own, a few batches
	// of events ahead of fn, so reading, decoding and classifying use a
	// second core while fn (the engine's single writer) works. Events,
	// warnings and their order are exactly as without it; what changes
	// is where OnRecord runs: on the decoding goroutine, ahead of the
	// events of the same record. A hook that must run in step with fn
	// (a pacer, see internal/playback) needs Pipeline off.
	Pipeline bool
	// OnBatchEnd, when set, is called by Run on fn's goroutine between
	// events, at least once every few hundred: after each of the
	// pipeline's batches, and without Pipeline every few hundred
	// records, before each OnRecord, before Run waits for a live source
	// or reads from a pipe (pcap.Reader.OnWait), and before it returns. A consumer that holds a lock across its
	// events (the engine's writer lock) lets go of it there, so that
	// readers wait for at most a batch and never while Run waits.
	OnBatchEnd func()
	// Status, when set, receives Run's counters while it runs: the
	// decoder's Stats every few hundred records, and each source's.
	Status *Status
}

func (o Options) withDefaults() Options {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	o.MaxDepth = min(o.MaxDepth, MaxMaxDepth)
	if o.FragTimeout <= 0 {
		o.FragTimeout = DefaultFragTimeout
	}
	if o.MaxFragDatagrams <= 0 {
		o.MaxFragDatagrams = DefaultMaxFragDatagram
	}
	if o.MediaTimeout <= 0 {
		o.MediaTimeout = DefaultMediaTimeout
	}
	if o.MaxMedia <= 0 {
		o.MaxMedia = DefaultMaxMedia
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = DefaultMaxFlows
	}
	if o.FlowTimeout <= 0 {
		o.FlowTimeout = DefaultFlowTimeout
	}
	return o
}
