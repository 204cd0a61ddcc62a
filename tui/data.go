package tui

import (
	"context"
	"time"
)

// Data is everything the UI reads and the few actions it asks for.
//
// Implementations return copies (the UI keeps a snapshot until the next
// tick, while the capture keeps writing) and must be safe to call from the
// UI goroutine while one writer updates the store. Every method is called
// on the UI goroutine, so it must be quick: Calls is asked only for the
// visible window, never for the whole store.
type Data interface {
	// Calls returns the window [q.Offset, q.Offset+q.Limit) of the calls
	// matching q, sorted by q.Sort. An invalid q.Filter is reported in
	// CallPage.FilterErr; the page should then be the unfiltered one so the
	// list does not go blank while the user is still typing.
	Calls(q Query) CallPage
	// Flow returns the ladder of the given dialogs; with related, also the
	// legs the store correlates with them (same X-Call-ID, B2BUA legs…).
	// ok is false when none of the Call-IDs is known (any more).
	Flow(callIDs []string, related bool) (f Flow, ok bool)
	// Streams returns the RTP streams of one call with their metrics.
	Streams(callID string) []StreamRow
	// Stats returns the KPIs over the calls matching filter (the same
	// language as Query.Filter; "" means all calls).
	Stats(filter string) StatsView
	// Counters returns the global counters shown in the header.
	Counters() Counters
	// Save performs an export and returns a one-line message for the status
	// bar (for example "wrote 3 calls to calls.pcap"). Unlike the other
	// methods it runs on a goroutine of its own (a tea.Cmd), never inside
	// Update, because it may re-read whole captures: it must return soon
	// after ctx is cancelled (the user pressed Esc), with ctx.Err(), and
	// may report how far it has got through progress (nil-safe to ignore;
	// called from Save's goroutine).
	Save(ctx context.Context, req SaveRequest, progress func(SaveProgress)) (string, error)
}

// SaveProgress is how far a save has got, for the progress line.
type SaveProgress struct {
	Calls, TotalCalls int // calls gathered
	// Read and ReadTotal count capture records read again, when saving
	// packets needs a second pass over the files (ReadTotal 0: none).
	Read, ReadTotal int64
}

// Versioned is optionally implemented by a Data that can tell cheaply
// whether anything it would answer may have changed: Version grows when
// it may have, and is unchanged otherwise. The UI then pulls a snapshot
// on its tick only when Version moved, instead of copying the same
// window ten times a second.
type Versioned interface {
	Version() int64
}

// Loader is optionally implemented by a Data that loads files: the
// channel Loaded returns is closed once the input has been read and
// analysed to the end, when the list is final (never for a live
// source). The UI waits on it in a command and pulls the last snapshot
// the moment it closes, instead of at its next tick: the progress line
// goes as soon as the load is over, and not before.
type Loader interface {
	Loaded() <-chan struct{}
}

// Clearer is optionally implemented by a Data whose calls can be dropped
// from the UI (F5, sngrep's "clear call list"), typically for live sources.
type Clearer interface {
	Clear()
}

// Query selects a window of the call list.
type Query struct {
	// Filter is an expression in the shared filter language
	// (`from~1001 and code>=400`), passed through unparsed.
	Filter string
	// Search is plain text the user typed after / or F3; an implementation
	// keeps the calls in which any displayed column contains it, case
	// insensitively, as sngrep's display filter does.
	Search string
	// Sort is the column to sort by; Desc reverses the order.
	Sort Column
	Desc bool
	// HideNonInvite drops dialogs not started by INVITE (REGISTER,
	// OPTIONS, SUBSCRIBE…), sngrep's "only calls" toggle.
	HideNonInvite bool
	// Offset and Limit select the window after filtering and sorting.
	Offset, Limit int
}

// CallPage is one window of the call list.
type CallPage struct {
	Rows []CallRow
	// Total is the number of dialogs in the store, Matched the number that
	// pass Filter, Search and HideNonInvite (the length of the whole list).
	Total, Matched int
	// FilterErr says why Query.Filter could not be parsed; shown inline.
	FilterErr error
}

// CallRow is one dialog in the call list. Integer durations use -1 and
// float metrics NaN (math.NaN()) for "not available": zero is a real
// jitter or loss.
type CallRow struct {
	// Index is the 1-based arrival order of the dialog, stable across sorts.
	Index                                     int
	CallID, Method, From, To, Src, Dst, State string
	UA, Codec                                 string
	Start                                     time.Time
	Messages                                  int
	SetupMS, PDDMS, DurationMS                int64
	LossPct, JitterMS, MOS                    float64
	FinalCode                                 int
	// Problems are the diagnosed problem codes, worst first ("" when none).
	Problems string
}

// Endpoint is one column of the ladder.
type Endpoint struct {
	// Addr is "ip:port" or "[ipv6]:port"; it is always shown in full.
	Addr string
	// Alias replaces Addr in the column header when set (a host name or a
	// user-supplied name); Addr is still shown under it.
	Alias string
}

// MessageClass colours an arrow in the ladder.
type MessageClass int

// Message classes, after the status-code classes of RFC 3261 section 7.2.
const (
	ClassRequest     MessageClass = iota // a request (INVITE, BYE…)
	ClassProvisional                     // 1xx
	ClassSuccess                         // 2xx
	ClassRedirect                        // 3xx
	ClassError                           // 4xx, 5xx, 6xx
)

// FlowMessage is one SIP message in the ladder.
type FlowMessage struct {
	Time     time.Time
	From, To int // indexes into Flow.Endpoints
	// Label is the method or status line shown on the arrow ("INVITE",
	// "180 Ringing").
	Label   string
	Class   MessageClass
	Retrans bool
	// SDP is a short summary of the body ("PCMU 10.0.0.1:4000"), or "".
	SDP    string
	Raw    string
	CallID string
}

// FlowStream is one RTP stream drawn between two endpoints.
type FlowStream struct {
	From, To   int
	Label      string // "PCMU 250 pkts 0.4% MOS 4.3"
	Start, End time.Time
}

// Flow is the ladder of one or more dialogs.
type Flow struct {
	Endpoints []Endpoint
	Messages  []FlowMessage // in time order
	Streams   []FlowStream  // in start order
	// Problems are the calls' diagnosed problems, one "code (severity):
	// detail" each, shown on a line above the ladder.
	Problems []string
}

// SeriesPoint is one interval of a stream's time series.
type SeriesPoint struct {
	T             time.Time
	Packets, Lost int
	Jitter, MOS   float64 // jitter in ms
}

// StreamRow is one RTP stream with its metrics.
type StreamRow struct {
	SSRC                                uint32
	Src, Dst, Codec                     string
	Packets, Lost                       int
	LossPct                             float64
	JitterMean, JitterMax               float64 // ms
	MOS, MOSJB50, MOSJB200, MOSAdaptive float64
	Series                              []SeriesPoint
	// RTCP holds one pre-formatted line per RTCP report about this stream.
	RTCP []string
	// DTMF holds the digits seen (RFC 4733 events), in order.
	DTMF string
}

// Count is one bar of a histogram (a method or a status code).
type Count struct {
	Name string
	N    int
}

// Dist summarises a duration distribution; N == 0 means no sample.
type Dist struct {
	N             int
	Min, Avg, Max time.Duration
}

// StatsView holds the KPIs. Ratios are percentages, NaN when undefined
// (no attempt yet). Definitions follow RFC 6076 where it has one.
type StatsView struct {
	Calls, Answered, Failed int
	ASR                     float64 // answer-seizure ratio, RFC 6076 section 4.6 (SER analogue)
	NER                     float64 // network effectiveness ratio
	SDR                     float64 // session defects: % of calls ending in 500, 503 or 504
	ISA                     float64 // ineffective session attempts, RFC 6076 section 4.3
	AHR                     float64 // average hops per request
	Methods, Codes          []Count
	Setup, PDD, Dur         Dist
}

// Counters are the global figures shown in the header.
type Counters struct {
	Packets, Dialogs, Calls int64
	DecodeErrors, Dropped   int64
	Skipped                 int64
	// TLSStreams counts TCP directions carrying TLS: encrypted SIP the
	// UI cannot show, named in the header so the list does not just look
	// empty.
	TLSStreams int64
	// TLSReasons says why TLS connections were not (fully) decrypted
	// ("no key 2, CBC suite 1"), for the tls counter's legend; empty
	// when none failed.
	TLSReasons  string
	MemoryBytes int64
	// LoadDone and LoadTotal are bytes read of the input files; the UI
	// shows a progress bar while LoadTotal > 0 and LoadDone < LoadTotal,
	// so LoadDone reaches LoadTotal only when the list is final (the
	// analysis of the last bytes read included).
	LoadDone, LoadTotal int64
	// Live is true for an interface capture; it enables pause.
	Live bool
	// Forward, when set, is a HEP forwarder's counters ("hep sent 120
	// queued 0 dropped 0"): forwarding never loses packets silently.
	Forward string
}

// SaveScope says which calls an export covers.
type SaveScope int

// Save scopes.
const (
	SaveSelected  SaveScope = iota // the calls marked with Space (or the one under the cursor)
	SaveDisplayed                  // every call matching the current filter and search
	SaveAll                        // every call in the store
)

func (s SaveScope) String() string {
	switch s {
	case SaveSelected:
		return "selected"
	case SaveDisplayed:
		return "displayed"
	case SaveAll:
		return "all"
	}
	return "scope?"
}

// SaveFormat is the file format of an export.
type SaveFormat int

// Save formats.
const (
	FormatPcapSIP      SaveFormat = iota // pcap, SIP packets only
	FormatPcapSIPRTP                     // pcap, SIP and RTP/RTCP
	FormatFlowText                       // the ladder as plain text
	FormatFlowMarkdown                   // the ladder as a markdown table
	FormatFlowMermaid                    // the ladder as a mermaid sequenceDiagram
	FormatCSV                            // the call list as CSV
	FormatJSON                           // the call list as JSON
	FormatFlowPlantUML                   // the ladder as PlantUML
	FormatFlowSVG                        // the ladder as a standalone SVG picture
	FormatFlowHTML                       // the ladder as an HTML page (SVG and message table)
	numSaveFormats
)

func (f SaveFormat) String() string {
	switch f {
	case FormatPcapSIP:
		return "pcap (SIP)"
	case FormatPcapSIPRTP:
		return "pcap (SIP+RTP)"
	case FormatFlowText:
		return "flow text"
	case FormatFlowMarkdown:
		return "flow markdown"
	case FormatFlowMermaid:
		return "flow mermaid"
	case FormatCSV:
		return "CSV"
	case FormatJSON:
		return "JSON"
	case FormatFlowPlantUML:
		return "flow plantuml"
	case FormatFlowSVG:
		return "flow svg"
	case FormatFlowHTML:
		return "flow html"
	}
	return "format?"
}

// ext is the file name extension proposed for a format.
func (f SaveFormat) ext() string {
	switch f {
	case FormatPcapSIP, FormatPcapSIPRTP:
		return ".pcapng" // extract writes pcapng (sources of several link types, secrets)
	case FormatFlowText:
		return ".txt"
	case FormatFlowMarkdown:
		return ".md"
	case FormatFlowMermaid:
		return ".mmd"
	case FormatCSV:
		return ".csv"
	case FormatJSON:
		return ".json"
	case FormatFlowPlantUML:
		return ".puml"
	case FormatFlowSVG:
		return ".svg"
	case FormatFlowHTML:
		return ".html"
	}
	return ""
}

// SaveRequest describes one export.
type SaveRequest struct {
	Scope  SaveScope
	Format SaveFormat
	Path   string
	// CallIDs are the selected calls (Scope == SaveSelected, and flow
	// exports, which always cover the calls of the ladder on screen).
	CallIDs []string
	// Related mirrors the extended-flow toggle for flow exports.
	Related bool
	// Query is the current list query (Scope == SaveDisplayed); its
	// Offset and Limit are zero.
	Query Query
}
