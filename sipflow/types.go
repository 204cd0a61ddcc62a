package sipflow

import (
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/internal/siplex"
	"github.com/voiptool/voiptool/pcap"
)

// Transport is how a message travelled above IP. It is the one
// transport type of the project: capture.Transport is an alias of it, so
// an event's transport goes into a Meta without conversion.
type Transport uint8

// Transports.
const (
	TransportUDP Transport = iota + 1
	TransportTCP
	TransportSCTP
	TransportWS  // SIP over WebSocket (RFC 7118)
	TransportTLS // SIP over TLS, decrypted
	TransportWSS // SIP over WebSocket over TLS, decrypted
)

func (t Transport) String() string {
	switch t {
	case TransportUDP:
		return "UDP"
	case TransportTCP:
		return "TCP"
	case TransportSCTP:
		return "SCTP"
	case TransportWS:
		return "WS"
	case TransportTLS:
		return "TLS"
	case TransportWSS:
		return "WSS"
	}
	return "unknown"
}

// TransportOf names the transport an IP protocol number stands for (as
// HEP's IP protocol chunk carries it): 6 TCP, 132 SCTP, else UDP.
func TransportOf(ipProto uint8) Transport {
	switch ipProto {
	case 6:
		return TransportTCP
	case 132:
		return TransportSCTP
	}
	return TransportUDP
}

// MarshalText renders the transport name.
func (t Transport) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Meta describes where and when a message was seen. It is stored with every
// message so a UI can re-read the original frame.
type Meta struct {
	Time      time.Time      `json:"time"`
	Src       netip.AddrPort `json:"src"`
	Dst       netip.AddrPort `json:"dst"`
	Transport Transport      `json:"transport"`
	Source    int            `json:"source"` // index of the capture source (file or interface)
	Frame     int            `json:"frame"`  // frame number within the source, 1-based
	Offset    int64          `json:"offset"` // byte offset of the frame in the source, -1 if unknown
	// Record is the capture record the message completed in, as the
	// reader returned it, so a call can be saved by re-reading exactly
	// those records by offset (zero when the message came from a HEP
	// collector rather than a file).
	Record pcap.Packet `json:"-"`
	// PayloadOffset is where the message starts in the record's data
	// when it lies there whole, as sent (not reassembled, decrypted,
	// unmasked or inflated), else 0. With StoreOptions.Raw, such a
	// message is re-read from the file instead of kept in memory.
	PayloadOffset int32 `json:"-"`
	// CorrelationID is set by the HEP path (HEP3 chunk 0x0011) and links
	// legs that share it.
	CorrelationID string `json:"correlation_id"`
}

// State is the state of a dialog. INVITE dialogs (calls) move through
// CALL SETUP, RINGING, IN CALL and end in one of the terminal states;
// other dialogs are PENDING until their final response.
type State uint8

// States.
const (
	StateSetup     State = iota + 1 // INVITE sent, no 18x yet
	StateRinging                    // 18x received
	StateInCall                     // 2xx to the INVITE
	StateCancelled                  // CANCEL/487, or BYE before answer
	StateRejected                   // final 4xx-6xx other than busy
	StateBusy                       // 486 Busy Here / 600 Busy Everywhere
	StateDiverted                   // 3xx
	StateCompleted                  // BYE after answer; 2xx to a non-INVITE request
	StateTimeout                    // no final response before idle expiry
	StatePending                    // non-INVITE request without final response yet
)

var stateNames = [...]string{"", "CALL SETUP", "RINGING", "IN CALL", "CANCELLED", "REJECTED", "BUSY", "DIVERTED", "COMPLETED", "TIMEOUT", "PENDING"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "UNKNOWN"
}

// MarshalText renders the state name ("IN CALL").
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Terminal reports whether no further state change is expected.
func (s State) Terminal() bool {
	switch s {
	case StateCancelled, StateRejected, StateBusy, StateDiverted, StateCompleted, StateTimeout:
		return true
	}
	return false
}

// ParseState accepts a state name case-insensitively, with '_' or ' '
// ("in_call", "IN CALL", "setup" for CALL SETUP).
func ParseState(s string) (State, bool) {
	b := []byte(s)
	for i, c := range b {
		if c == '_' || c == '-' {
			b[i] = ' '
		}
	}
	for i := 1; i < len(stateNames); i++ {
		if siplex.EqualFold(b, stateNames[i]) {
			return State(i), true
		}
	}
	if siplex.EqualFold(b, "setup") {
		return StateSetup, true
	}
	return 0, false
}

// Dialog types for CallSummary.Type. Other dialogs carry the method of their
// first request (REGISTER, OPTIONS, SUBSCRIBE, ...), verbatim.
const TypeCall = "CALL"

// MediaSummary is one m= line of an offer or answer.
type MediaSummary struct {
	Type   string         `json:"type"`
	Addr   netip.AddrPort `json:"addr"`
	RTCP   netip.AddrPort `json:"rtcp"`
	Proto  string         `json:"proto"`
	Codecs []string       `json:"codecs"`
	Dir    string         `json:"dir"`
	SRTP   bool           `json:"srtp"`
	Ptime  int            `json:"ptime"`
}

// Leg is a related call and the rule that linked it.
type Leg struct {
	CallID string `json:"call_id"`
	Rule   string `json:"rule"` // LinkXCallID, LinkCorrelation or LinkSDP
}

// Link rules recorded in Leg.Rule.
const (
	LinkXCallID     = "x-call-id"      // X-Call-ID/X-CID header names the other Call-ID
	LinkCorrelation = "correlation-id" // same Meta.CorrelationID (HEP)
	LinkSDP         = "sdp-media"      // same SDP media endpoint while both calls were open
)

// Stream is an RTP stream attached to a call. sipflow only stores it: the
// RTP engine fills it through Store.SetStreams.
type Stream struct {
	Src      netip.AddrPort `json:"src"`
	Dst      netip.AddrPort `json:"dst"`
	SSRC     uint32         `json:"ssrc"`
	Codec    string         `json:"codec"`
	Packets  int            `json:"packets"`
	Lost     int            `json:"lost"`
	JitterMS float64        `json:"jitter_ms"`
	MOS      float64        `json:"mos"`
	// Link says how the stream was tied to the call: "sdp" (an SDP
	// endpoint seen on the wire) or "sdp-nat-port" (same port as a private
	// SDP address: a guess, and labelled as one).
	Link string `json:"link"`
}

// CallEvent is a notable mid-dialog event (hold, resume, auth, fork, ...).
type CallEvent struct {
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
}

// CallSummary is one row of the call list. Durations are milliseconds and -1
// when they do not apply (for example setup_ms of an unanswered call).
// Slices are shared with the store and must be treated as read-only (no
// append either): the store never changes an element of a slice it has
// published; it replaces the slice, or appends past the published length.
type CallSummary struct {
	CallID          string         `json:"call_id"`
	Type            string         `json:"type"` // TypeCall or the first request's method
	State           State          `json:"state"`
	From            string         `json:"from"` // From URI user (host when there is no user)
	To              string         `json:"to"`
	FromDisplay     string         `json:"from_display"`
	ToDisplay       string         `json:"to_display"`
	PAI             string         `json:"pai"`
	Src             netip.AddrPort `json:"src"` // of the first request
	Dst             netip.AddrPort `json:"dst"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`         // time of the last message
	SetupMS         int64          `json:"setup_ms"`    // INVITE -> 2xx
	PDDMS           int64          `json:"pdd_ms"`      // INVITE -> first 18x
	RingMS          int64          `json:"ring_ms"`     // first 18x -> final response
	DurationMS      int64          `json:"duration_ms"` // 2xx -> BYE
	TotalMS         int64          `json:"total_ms"`    // first -> last message
	FinalCode       int            `json:"final_code"`
	Reason          string         `json:"reason"`
	HangupBy        string         `json:"hangup_by"` // "caller", "callee" or ""
	Messages        int            `json:"messages"`  // including retransmissions
	Retransmissions int            `json:"retransmissions"`
	// Duplicates are copies of a message on the same path within
	// DuplicateWindow of it: the same packet captured twice, not resent.
	Duplicates int `json:"duplicates"`
	// Sources name where the call was seen: the capture sources
	// (interfaces, HEP listeners, files) that carried its messages, in
	// source order. SourceSet is the same as a bit set (bit 63 stands for
	// every source from the 64th on).
	Sources        []string     `json:"sources"`
	SourceSet      uint64       `json:"-"`
	AuthChallenges int          `json:"auth_challenges"`
	Forks          int          `json:"forks"` // distinct To-tags answering the INVITE
	OnHold         bool         `json:"on_hold"`
	Expired        bool         `json:"expired"` // closed by idle expiry, not by signalling
	SRTP           bool         `json:"srtp"`
	Warnings       int          `json:"warnings"` // messages with parse warnings
	Methods        []string     `json:"methods"`
	UserAgents     []string     `json:"user_agents"`
	IPs            []netip.Addr `json:"ips"`
	// Offer and Answer are the latest completed SDP offer/answer exchange
	// (a re-INVITE, UPDATE or PRACK from either side moves them); before
	// any answer, Offer is the latest offer. SDPHistory keeps every
	// completed exchange with its times, oldest first.
	Offer      []MediaSummary `json:"offer"`
	Answer     []MediaSummary `json:"answer"`
	SDPHistory []Negotiation  `json:"sdp_history"`
	// SDPHistoryDropped counts exchanges left out of SDPHistory (it keeps
	// the first and the latest 31).
	SDPHistoryDropped int `json:"sdp_history_dropped"`
	// Codec is the negotiated voice codec: the answer's first audio
	// codec, or the one of them the RTP actually carries; "" before an
	// answer.
	Codec   string   `json:"codec"`
	Legs    []Leg    `json:"legs"`
	Streams []Stream `json:"streams"`
	// Problems are what internal/diagnose found (always a list, empty
	// when none), set through Store.SetProblems.
	Problems []Problem `json:"problems"`
}

// MessageDetail is one message of a call, for the ladder view.
type MessageDetail struct {
	Meta           Meta           `json:"meta"`
	Request        bool           `json:"request"`
	Method         string         `json:"method,omitempty"` // request method
	StatusCode     int            `json:"status_code,omitempty"`
	Phrase         string         `json:"phrase,omitempty"`
	CSeq           uint32         `json:"cseq"`
	CSeqMethod     string         `json:"cseq_method"`
	Retransmission bool           `json:"retransmission"`
	Duplicate      bool           `json:"duplicate"` // a copy of an earlier message within DuplicateWindow
	Warnings       string         `json:"warnings,omitempty"`
	SDP            []MediaSummary `json:"sdp,omitempty"`
	Raw            string         `json:"raw"`
	// RawError says why Raw is empty: the message was to be re-read
	// from its capture file and could not be (ErrRawGone).
	RawError string `json:"raw_error,omitempty"`
}

// Label is the ladder arrow text: the method or "code phrase".
func (d *MessageDetail) Label() string {
	if d.Request {
		return d.Method
	}
	if d.Phrase == "" {
		return itoa(d.StatusCode)
	}
	return itoa(d.StatusCode) + " " + d.Phrase
}

// Transaction counts the messages of one transaction (top Via branch, CSeq
// number and method).
type Transaction struct {
	CSeq            uint32 `json:"cseq"`
	Method          string `json:"method"`
	Branch          string `json:"branch"`
	Messages        int    `json:"messages"`
	Retransmissions int    `json:"retransmissions"`
}

// CallDetail is a call with its messages.
type CallDetail struct {
	Summary      CallSummary     `json:"summary"`
	Messages     []MessageDetail `json:"messages"`
	Transactions []Transaction   `json:"transactions"`
	Events       []CallEvent     `json:"events"`
}

// Stats are the store's counters.
type Stats struct {
	Calls           int   `json:"calls"` // dialogs currently held, all types
	Messages        int64 `json:"messages"`
	Retransmissions int64 `json:"retransmissions"`
	NotSIP          int64 `json:"not_sip"`    // payloads without a start line (skipped)
	NoCallID        int64 `json:"no_call_id"` // messages without Call-ID (skipped)
	WithWarnings    int64 `json:"with_warnings"`
	Bytes           int64 `json:"bytes"` // accounted memory
	Evicted         int64 `json:"evicted"`
	EvictedActive   int64 `json:"evicted_active"` // evicted before reaching a terminal state
	EvictedBytes    int64 `json:"evicted_bytes"`
	Expired         int64 `json:"expired"`
	Cleared         int64 `json:"cleared"` // dialogs dropped by Clear
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
