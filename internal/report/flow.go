package report

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// Flow is a neutral call-flow (ladder) model that every FlowFormat renders.
// It owns its data: FlowFromCalls copies what it needs from sipflow.
type Flow struct {
	Endpoints []Endpoint    // columns, in order of first appearance
	CallIDs   []string      // the merged legs; FlowMessage.Leg indexes it
	Messages  []FlowMessage // sorted by time
	Streams   []FlowStream
	// Problems are the calls' diagnosed problems, "code (severity):
	// detail", shown above the text ladder.
	Problems []string
}

// Endpoint is one ladder column. Columns are per IP:port and never merged,
// so two IPv6 peers that share a prefix always stay apart.
type Endpoint struct {
	Addr  netip.AddrPort
	Alias string // replaces the IP in Name when set
}

// Name is the column title: the alias with the port when set, else the
// full address ("[2001:db8::1]:5060").
func (e Endpoint) Name() string {
	if e.Alias != "" {
		return e.Alias + ":" + strconv.Itoa(int(e.Addr.Port()))
	}
	if !e.Addr.IsValid() {
		return "?"
	}
	return e.Addr.String()
}

// MessageClass colours an arrow.
type MessageClass uint8

// Message classes, after the status code classes of RFC 3261 7.2.
const (
	ClassRequest     MessageClass = iota
	ClassProvisional              // 1xx
	ClassSuccess                  // 2xx
	ClassRedirect                 // 3xx
	ClassFailure                  // 4xx, 5xx, 6xx
)

func (c MessageClass) String() string {
	switch c {
	case ClassRequest:
		return "request"
	case ClassProvisional:
		return "1xx"
	case ClassSuccess:
		return "2xx"
	case ClassRedirect:
		return "3xx"
	case ClassFailure:
		return "4xx-6xx"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

func classOf(d *sipflow.MessageDetail) MessageClass {
	if d.Request {
		return ClassRequest
	}
	switch {
	case d.StatusCode < 200:
		return ClassProvisional
	case d.StatusCode < 300:
		return ClassSuccess
	case d.StatusCode < 400:
		return ClassRedirect
	}
	return ClassFailure
}

// FlowMessage is one arrow.
type FlowMessage struct {
	Time     time.Time
	From, To int    // indexes into Flow.Endpoints
	Label    string // method, or "code phrase"
	Class    MessageClass
	Retrans  bool
	SDP      string // "PCMU,PCMA 10.0.0.1:4000 sendrecv", "" without SDP
	CallID   string
	Leg      int // index into Flow.CallIDs
}

// FlowStream is one RTP stream drawn as an arrow between media endpoints.
// Start and End are zero when the source (sipflow.Stream) has no times;
// renderers then list the stream after the messages.
type FlowStream struct {
	From, To   int
	Label      string
	Start, End time.Time
}

// flowBuilder assigns endpoint columns.
type flowBuilder struct {
	f       *Flow
	idx     map[netip.AddrPort]int
	aliases map[netip.Addr]string
}

func (b *flowBuilder) endpoint(a netip.AddrPort) int {
	// Unmap so ::ffff:10.0.0.1 and 10.0.0.1 share one column and one alias.
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if i, ok := b.idx[a]; ok {
		return i
	}
	i := len(b.f.Endpoints)
	b.idx[a] = i
	b.f.Endpoints = append(b.f.Endpoints, Endpoint{Addr: a, Alias: b.aliases[a.Addr()]})
	return i
}

// mediaEndpoint places a media address: on its own column when one
// exists, else on the column of a signalling endpoint with the same IP
// (the usual phone or media-anchoring proxy), else on a new column.
func (b *flowBuilder) mediaEndpoint(a netip.AddrPort) int {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if i, ok := b.idx[a]; ok {
		return i
	}
	for i, e := range b.f.Endpoints {
		if e.Addr.Addr() == a.Addr() {
			return i
		}
	}
	return b.endpoint(a)
}

// FlowFromCalls merges related calls (legs) into one ladder. Messages of
// all calls are sorted by time (stable: ties keep call, then capture,
// order); endpoints appear in order of first use. aliases, keyed by IP,
// replace the IP in column titles (sngrep's alias file); nil is fine.
// Streams attached to the calls (CallSummary.Streams) are added last.
func FlowFromCalls(calls []sipflow.CallDetail, aliases map[netip.Addr]string) Flow {
	var f Flow
	b := flowBuilder{f: &f, idx: make(map[netip.AddrPort]int), aliases: unmapAliases(aliases)}
	type ref struct{ call, msg int }
	var order []ref
	for ci := range calls {
		f.CallIDs = append(f.CallIDs, calls[ci].Summary.CallID)
		for _, p := range calls[ci].Summary.Problems {
			f.Problems = append(f.Problems, p.Code+" ("+p.Severity+"): "+p.Detail)
		}
		for mi := range calls[ci].Messages {
			order = append(order, ref{ci, mi})
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a := &calls[order[i].call].Messages[order[i].msg]
		c := &calls[order[j].call].Messages[order[j].msg]
		return a.Meta.Time.Before(c.Meta.Time)
	})
	f.Messages = make([]FlowMessage, 0, len(order))
	for _, r := range order {
		d := &calls[r.call].Messages[r.msg]
		m := FlowMessage{
			Time:    d.Meta.Time,
			From:    b.endpoint(d.Meta.Src),
			To:      b.endpoint(d.Meta.Dst),
			Label:   d.Label(),
			Class:   classOf(d),
			Retrans: d.Retransmission,
			CallID:  calls[r.call].Summary.CallID,
			Leg:     r.call,
		}
		if len(d.SDP) > 0 {
			parts := make([]string, len(d.SDP))
			for i := range d.SDP {
				parts[i] = mediaSummary(&d.SDP[i])
			}
			m.SDP = strings.Join(parts, "; ")
		}
		f.Messages = append(f.Messages, m)
	}
	type skey struct {
		src, dst netip.AddrPort
		ssrc     uint32
	}
	seen := make(map[skey]bool)
	for ci := range calls {
		for _, s := range calls[ci].Summary.Streams {
			k := skey{s.Src, s.Dst, s.SSRC}
			if seen[k] {
				continue
			}
			seen[k] = true
			f.Streams = append(f.Streams, FlowStream{
				From:  b.mediaEndpoint(s.Src),
				To:    b.mediaEndpoint(s.Dst),
				Label: streamLabel(s.Codec, s.SSRC, s.Src, s.Dst, s.Packets, lossPct(s.Lost, s.Packets), s.MOS),
			})
		}
	}
	return f
}

// AddStreams adds RTP streams measured by rtpstats, with their times, so
// renderers can place them among the messages. Streams already present
// from CallSummary.Streams (same label) are replaced.
func (f *Flow) AddStreams(streams []rtpstats.StreamReport, aliases map[netip.Addr]string) {
	b := flowBuilder{f: f, idx: make(map[netip.AddrPort]int), aliases: unmapAliases(aliases)}
	for i, e := range f.Endpoints {
		b.idx[e.Addr] = i
	}
	kept := f.Streams[:0:0]
	byLabel := make(map[string]bool)
	for i := range streams {
		s := &streams[i]
		fs := FlowStream{
			From:  b.mediaEndpoint(s.Src),
			To:    b.mediaEndpoint(s.Dst),
			Label: streamLabel(s.Codec, s.SSRC, s.Src, s.Dst, s.Packets, s.LostPct, s.MOS),
			Start: s.Start,
			End:   s.End,
		}
		byLabel[fs.Label] = true
		kept = append(kept, fs)
	}
	for _, s := range f.Streams {
		if !byLabel[s.Label] {
			kept = append(kept, s)
		}
	}
	// Timed streams by start, untimed ones after them in their order.
	sort.SliceStable(kept, func(i, j int) bool {
		a, b := kept[i].Start, kept[j].Start
		return !a.IsZero() && (b.IsZero() || a.Before(b))
	})
	f.Streams = kept
}

// streamLabel is "RTP PCMA MOS 4.38 loss 0.5% 1000 pkts 0x1234ABCD
// 10.0.0.1:4000 > 10.0.0.2:5000": quality first, since a narrow ladder
// cuts labels at the end. The media addresses are spelled out because the
// arrow may sit on the signalling columns of the same hosts.
func streamLabel(codec string, ssrc uint32, src, dst netip.AddrPort, pkts int, loss, mos float64) string {
	return fmt.Sprintf("RTP %s MOS %.2f loss %.1f%% %d pkts %s %s > %s", codecOr(codec), mos, loss, pkts, ssrcHex(ssrc), fmtAddr(src), fmtAddr(dst))
}

func unmapAliases(in map[netip.Addr]string) map[netip.Addr]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[netip.Addr]string, len(in))
	for a, s := range in {
		out[a.Unmap()] = s
	}
	return out
}

// FlowFormat selects a ladder renderer.
type FlowFormat uint8

// Flow formats.
const (
	FlowText     FlowFormat = iota // ASCII ladder like sngrep's
	FlowMarkdown                   // a table: time | delta | from | to | message | SDP
	FlowMermaid                    // sequenceDiagram
	FlowPlantUML                   // @startuml ... @enduml
	FlowSVG                        // self-contained SVG
	FlowHTML                       // standalone page: the SVG and a message table
)

func flowFormatNames() []string {
	return []string{"text", "markdown", "mermaid", "plantuml", "svg", "html"}
}

func (f FlowFormat) String() string {
	if n := flowFormatNames(); int(f) < len(n) {
		return n[f]
	}
	return fmt.Sprintf("FlowFormat(%d)", uint8(f))
}

// FlowFormats lists the accepted names, for flag help.
func FlowFormats() []string { return flowFormatNames() }

// ParseFlowFormat accepts a name case-insensitively, plus "md", "ascii"
// and "puml". The error wraps ErrUnknownFormat.
func ParseFlowFormat(s string) (FlowFormat, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "md":
		return FlowMarkdown, nil
	case "ascii":
		return FlowText, nil
	case "puml":
		return FlowPlantUML, nil
	}
	names := flowFormatNames()
	for i, n := range names {
		if s == n {
			return FlowFormat(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, s, strings.Join(names, ", "))
}

// FlowOptions tunes WriteFlow. The zero value is useful.
type FlowOptions struct {
	// Width is the text ladder's target width: 0 means DefaultWidth,
	// negative means unlimited. Other formats ignore it.
	Width int
	// Title heads the markdown, PlantUML, SVG and HTML output; empty means
	// "Call flow".
	Title string
}

func (o FlowOptions) title() string {
	if o.Title == "" {
		return "Call flow"
	}
	return o.Title
}

// WriteFlow renders f. Every format is deterministic: the same Flow gives
// the same bytes.
func WriteFlow(w io.Writer, ff FlowFormat, f Flow, o FlowOptions) error {
	if err := f.validate(); err != nil {
		return err
	}
	out := newWriter(w)
	switch ff {
	case FlowText:
		writeFlowText(out, &f, o)
	case FlowMarkdown:
		writeFlowMarkdown(out, &f, o)
	case FlowMermaid:
		writeFlowMermaid(out, &f)
	case FlowPlantUML:
		writeFlowPlantUML(out, &f, o)
	case FlowSVG:
		writeFlowSVG(out, &f, o)
	case FlowHTML:
		writeFlowHTML(out, &f, o)
	default:
		return fmt.Errorf("%w %v", ErrUnknownFormat, ff)
	}
	return out.flush()
}

// event is a message or a stream in timeline order, shared by renderers.
type event struct {
	msg    *FlowMessage
	stream *FlowStream
	t      time.Time
}

// timeline merges messages and timed streams by time; untimed streams
// come last, in order.
func (f *Flow) timeline() []event {
	ev := make([]event, 0, len(f.Messages)+len(f.Streams))
	for i := range f.Messages {
		ev = append(ev, event{msg: &f.Messages[i], t: f.Messages[i].Time})
	}
	var untimed []event
	for i := range f.Streams {
		s := &f.Streams[i]
		if s.Start.IsZero() {
			untimed = append(untimed, event{stream: s})
			continue
		}
		ev = append(ev, event{stream: s, t: s.Start})
	}
	sort.SliceStable(ev, func(i, j int) bool { return ev[i].t.Before(ev[j].t) })
	return append(ev, untimed...)
}

// label is the arrow text: the leg number when several calls are merged,
// the label, and a retransmission mark.
func (f *Flow) label(m *FlowMessage) string {
	s := m.Label
	if len(f.CallIDs) > 1 {
		s = "[" + strconv.Itoa(m.Leg+1) + "] " + s
	}
	if m.Retrans {
		s += " [R]"
	}
	return s
}

// clockTime is the per-message time layout (UTC, ms); the date goes in
// the header because a ladder rarely spans midnight.
const clockTime = "15:04:05.000"

func clock(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(clockTime)
}

// deltas returns, per timeline event, the time since the previous timed
// event ("+0.123"), "" when either time is unknown. Times are truncated to
// the millisecond first, as clock prints them, so the deltas add up to the
// printed times.
func deltas(ev []event) []string {
	out := make([]string, len(ev))
	var prev time.Time
	for i, e := range ev {
		if e.t.IsZero() {
			continue
		}
		e.t = e.t.Truncate(time.Millisecond)
		if prev.IsZero() {
			out[i] = "+0.000"
		} else {
			d := e.t.Sub(prev)
			out[i] = fmt.Sprintf("+%d.%03d", d/time.Second, (d%time.Second)/time.Millisecond)
			if d < 0 {
				out[i] = fmt.Sprintf("-%d.%03d", -d/time.Second, (-d%time.Second)/time.Millisecond)
			}
		}
		prev = e.t
	}
	return out
}

// firstTime is the time of the first timed event, zero if none.
func firstTime(ev []event) time.Time {
	for _, e := range ev {
		if !e.t.IsZero() {
			return e.t
		}
	}
	return time.Time{}
}

// validate checks the endpoint indexes a hand-built Flow may get wrong, so
// renderers can index without checks.
func (f *Flow) validate() error {
	n := len(f.Endpoints)
	for i := range f.Messages {
		m := &f.Messages[i]
		if m.From < 0 || m.From >= n || m.To < 0 || m.To >= n {
			return fmt.Errorf("%w: message %d (%q) goes %d -> %d, have %d endpoints", ErrBadFlow, i, m.Label, m.From, m.To, n)
		}
	}
	for i := range f.Streams {
		s := &f.Streams[i]
		if s.From < 0 || s.From >= n || s.To < 0 || s.To >= n {
			return fmt.Errorf("%w: stream %d goes %d -> %d, have %d endpoints", ErrBadFlow, i, s.From, s.To, n)
		}
	}
	return nil
}
