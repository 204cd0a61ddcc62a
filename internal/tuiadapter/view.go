package tuiadapter

import (
	"context"
	"fmt"
	"github.com/voiptool/voiptool/capture"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/extract"
	"github.com/voiptool/voiptool/internal/report"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
	"github.com/voiptool/voiptool/tui"
)

// View adapts an Engine to the TUI's Data interface. The TUI calls it on
// its own goroutine (Save on one of its own) while the engine's writer
// writes; every answer is a copy, and what should change in the store
// (Clear, stream summaries) is asked of the writer.
type View struct {
	e     *engine.Engine
	files []string // the capture files, for saving calls to pcap
	// secrets are the inputs' decryption secrets, written into saved
	// pcapng files (SetSecrets); set before the UI runs.
	secrets []pcap.Secrets
	live    bool
	// total is the input size in bytes when known, for the progress bar.
	total int64
	done  func() int64
	// loaded is closed by Finish, when the engine's Run has returned.
	loaded     chan struct{}
	finishOnce sync.Once

	mu        sync.Mutex // guards the filter cache
	lastSrc   string
	lastF     sipflow.Filter
	lastFErr  error
	callsOnly sipflow.Filter // INVITE dialogs, for the "calls" counter
	forward   func() string  // a HEP forwarder's counters, or nil
	refreshed time.Time      // wall time of the last stream-summary request (display pace, not packet time)

	cmu      sync.Mutex // guards the counters cache
	cver     int64      // engine Version of cached
	cached   tui.Counters
	haveLast bool
}

// refreshEvery bounds how often the list asks the writer to copy stream
// summaries into the calls: twice a second is as fast as anyone reads a
// MOS column, and it keeps a fast file load from paying for it per tick.
const refreshEvery = 500 * time.Millisecond

// loadRefreshEvery is the same pace while a file loads. Every summary
// copied then is replaced by the one the end of the run copies anyway,
// and on the writer's goroutine it delays the load itself (a twentieth
// of the writer's time at 500 ms on an RTP-heavy file): a load shorter
// than this pays nothing, a long one still sees the MOS column fill.
const loadRefreshEvery = 3 * time.Second

func (v *View) refresh() {
	every := refreshEvery
	if v.loading() {
		every = loadRefreshEvery
	}
	v.mu.Lock()
	due := time.Since(v.refreshed) >= every
	if due {
		v.refreshed = time.Now()
	}
	v.mu.Unlock()
	if due {
		v.e.RequestStreams()
	}
}

// loading is true while a file is loading: its size is known and the
// engine's Run has not returned.
func (v *View) loading() bool {
	if v.total <= 0 {
		return false
	}
	select {
	case <-v.loaded:
		return false
	default:
		return true
	}
}

// New wraps e for the TUI. files are the inputs (for Save), done
// reports bytes read so far and total the input size (0: unknown). With
// a total, the caller calls Finish when the engine's Run has returned:
// until then the progress shown stops short of the end.
func New(e *engine.Engine, files []string, live bool, done func() int64, total int64) *View {
	v := &View{e: e, files: files, live: live, done: done, total: total, loaded: make(chan struct{})}
	// The filter language has a type column; should it ever fail to
	// parse, the counter shows every dialog rather than nothing.
	v.callsOnly, _ = sipflow.ParseFilter("type=CALL")
	return v
}

// SetSecrets gives the decryption secrets (pcapng Decryption Secrets
// Blocks of the inputs) that calls saved to pcapng carry; nil (as with
// --strip-secrets) saves none. Call it before the UI runs.
func (v *View) SetSecrets(s []pcap.Secrets) { v.secrets = s }

func (v *View) filter(src string) (sipflow.Filter, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if src == v.lastSrc && (v.lastF.String() == src || v.lastFErr != nil) {
		return v.lastF, v.lastFErr
	}
	f, err := sipflow.ParseFilter(src)
	v.lastSrc, v.lastF, v.lastFErr = src, f, err
	return f, err
}

// Calls answers the call list. The common case (creation order, no text
// search) is windowed in the store; sorting by another column or
// searching needs every matching summary, which costs a copy of each.
func (v *View) Calls(q tui.Query) tui.CallPage {
	v.refresh()
	f, ferr := v.filter(q.Filter)
	if ferr != nil {
		f = sipflow.Filter{}
	}
	page := tui.CallPage{FilterErr: ferr}
	if v.e.ClearPending() {
		// The writer has not got to the Clear yet: show what it will
		// leave, not the calls the user just cleared.
		return page
	}
	store := v.e.Store()
	page.Total = store.Count(sipflow.Filter{})
	keep := func(c *sipflow.CallSummary) bool {
		if q.HideNonInvite && c.Type != sipflow.TypeCall {
			return false
		}
		return q.Search == "" || matchesSearch(c, q.Search)
	}
	if q.Sort == tui.ColIndex && q.Search == "" && !q.HideNonInvite && !q.Desc {
		page.Matched = store.Count(f)
		calls := store.Calls(f, q.Offset, q.Limit)
		for i := range calls {
			page.Rows = append(page.Rows, row(&calls[i], q.Offset+i+1))
		}
		return page
	}
	all := store.Calls(f, 0, -1)
	rows := make([]tui.CallRow, 0, len(all))
	for i := range all {
		if keep(&all[i]) {
			rows = append(rows, row(&all[i], i+1))
		}
	}
	sortRows(rows, q.Sort, q.Desc)
	page.Matched = len(rows)
	if q.Offset < len(rows) {
		rows = rows[q.Offset:]
	} else {
		rows = nil
	}
	if q.Limit > 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	page.Rows = rows
	return page
}

func matchesSearch(c *sipflow.CallSummary, s string) bool {
	s = strings.ToLower(s)
	for _, f := range []string{c.CallID, c.From, c.To, c.FromDisplay, c.ToDisplay, c.Src.String(), c.Dst.String(), c.State.String(), c.Type, strings.Join(c.UserAgents, " ")} {
		if strings.Contains(strings.ToLower(f), s) {
			return true
		}
	}
	return false
}

func row(c *sipflow.CallSummary, index int) tui.CallRow {
	r := tui.CallRow{
		Index: index, CallID: c.CallID, Method: method(c), From: c.From, To: c.To,
		Src: c.Src.String(), Dst: c.Dst.String(), State: state(c),
		Start: c.Start, Messages: c.Messages,
		SetupMS: c.SetupMS, PDDMS: c.PDDMS, DurationMS: c.DurationMS,
		LossPct: math.NaN(), JitterMS: math.NaN(), MOS: math.NaN(), FinalCode: c.FinalCode,
		Problems: problemCodes(c.Problems),
	}
	if len(c.UserAgents) > 0 {
		r.UA = c.UserAgents[0]
	}
	if len(c.Streams) > 0 {
		// Loss, jitter and MOS of the worst direction: one bad leg is
		// what the row must not hide behind an average.
		worstMOS, maxJ, maxLoss := math.Inf(1), 0.0, math.NaN()
		for _, s := range c.Streams {
			if exp := s.Packets + s.Lost; exp > 0 {
				l := 100 * float64(s.Lost) / float64(exp)
				if math.IsNaN(maxLoss) || l > maxLoss {
					maxLoss = l
				}
			}
			maxJ = math.Max(maxJ, s.JitterMS)
			if s.MOS > 0 {
				worstMOS = math.Min(worstMOS, s.MOS)
			}
		}
		r.Codec = c.Streams[0].Codec
		if c.Codec != "" {
			r.Codec = c.Codec // the negotiated one, confirmed by the streams
		}
		r.LossPct = maxLoss
		r.JitterMS = maxJ
		if !math.IsInf(worstMOS, 1) {
			r.MOS = worstMOS
		}
	} else {
		r.Codec = c.Codec // the answer's choice, never the offer's first
	}
	return r
}

func method(c *sipflow.CallSummary) string {
	if c.Type == sipflow.TypeCall {
		return "INVITE"
	}
	return c.Type
}

func state(c *sipflow.CallSummary) string {
	if c.State == sipflow.StateRejected && c.FinalCode != 0 {
		return c.State.String() + " " + strconv.Itoa(c.FinalCode)
	}
	return c.State.String()
}

// problemCodes joins the problem codes for the call list's column.
func problemCodes(ps []sipflow.Problem) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 && p.Code == ps[i-1].Code {
			continue // a per-stream problem found on both directions
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.Code)
	}
	return b.String()
}

func sortRows(rows []tui.CallRow, col tui.Column, desc bool) {
	less := func(a, b *tui.CallRow) bool {
		switch col {
		case tui.ColStart:
			return a.Start.Before(b.Start)
		case tui.ColMethod:
			return a.Method < b.Method
		case tui.ColFrom:
			return a.From < b.From
		case tui.ColTo:
			return a.To < b.To
		case tui.ColSrc:
			return a.Src < b.Src
		case tui.ColDst:
			return a.Dst < b.Dst
		case tui.ColMsgs:
			return a.Messages < b.Messages
		case tui.ColState:
			return a.State < b.State
		case tui.ColSetup:
			return a.SetupMS < b.SetupMS
		case tui.ColPDD:
			return a.PDDMS < b.PDDMS
		case tui.ColDuration:
			return a.DurationMS < b.DurationMS
		case tui.ColCodec:
			return a.Codec < b.Codec
		case tui.ColLoss:
			return nanLess(a.LossPct, b.LossPct)
		case tui.ColJitter:
			return nanLess(a.JitterMS, b.JitterMS)
		case tui.ColMOS:
			return nanLess(a.MOS, b.MOS)
		case tui.ColUA:
			return a.UA < b.UA
		case tui.ColCallID:
			return a.CallID < b.CallID
		case tui.ColProblems:
			return a.Problems < b.Problems
		}
		return a.Index < b.Index
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if desc {
			return less(&rows[j], &rows[i])
		}
		return less(&rows[i], &rows[j])
	})
}

// nanLess sorts "not applicable" before every number.
func nanLess(a, b float64) bool {
	if math.IsNaN(a) {
		return !math.IsNaN(b)
	}
	return !math.IsNaN(b) && a < b
}

// Streams answers the stream view for one call.
func (v *View) Streams(callID string) []tui.StreamRow {
	reps := v.e.Streams(callID)
	out := make([]tui.StreamRow, 0, len(reps))
	for i := range reps {
		out = append(out, streamRow(&reps[i]))
	}
	return out
}

func streamRow(r *rtpstats.StreamReport) tui.StreamRow {
	s := tui.StreamRow{
		SSRC: r.SSRC, Src: r.Src.String(), Dst: r.Dst.String(), Codec: r.Codec,
		Packets: r.Packets, Lost: r.Lost, LossPct: r.LostPct,
		JitterMean: r.MeanJitterMs, JitterMax: r.MaxJitterMs,
		MOS: r.MOS, MOSJB50: r.MOSJB50, MOSJB200: r.MOSJB200, MOSAdaptive: r.MOSAdaptive,
	}
	for _, p := range r.Series {
		s.Series = append(s.Series, tui.SeriesPoint{T: p.Start, Packets: p.Packets, Lost: p.Lost, Jitter: p.MaxJitterMs, MOS: p.MOS})
	}
	var digits strings.Builder
	for _, d := range r.DTMF {
		digits.WriteString(d.Digit)
	}
	s.DTMF = digits.String()
	s.RTCP = rtcpLines(r)
	if r.Link == rtpstats.LinkNATPort {
		s.RTCP = append([]string{"linked to the call by port only: the SDP said " + r.SDPEndpoint.String() +
			" (a private address never seen on the wire); a NAT guess, not a fact"}, s.RTCP...)
	}
	return s
}

// Stats answers the KPI view.
func (v *View) Stats(filter string) tui.StatsView {
	f, err := v.filter(filter)
	if err != nil {
		f = sipflow.Filter{}
	}
	k := v.e.Store().KPIs(f)
	sv := tui.StatsView{
		Calls: k.Calls, Answered: k.Answered, Failed: k.Calls - k.Answered,
		ASR: k.ASR, NER: k.NER, SDR: k.SDPercent, ISA: k.ISAPercent, AHR: k.AHR,
		Setup: dist(k.Setup), PDD: dist(k.PDD),
	}
	// Talk time is per answered call; the KPIs do not carry it.
	var talk sipflow.MinAvgMax
	for _, c := range v.e.Store().Calls(f, 0, -1) {
		if c.Type != sipflow.TypeCall || c.DurationMS < 0 {
			continue
		}
		if talk.Count == 0 || c.DurationMS < talk.Min {
			talk.Min = c.DurationMS
		}
		talk.Max = max(talk.Max, c.DurationMS)
		talk.Avg += (float64(c.DurationMS) - talk.Avg) / float64(talk.Count+1)
		talk.Count++
	}
	sv.Dur = dist(talk)
	for m, n := range k.Methods {
		sv.Methods = append(sv.Methods, tui.Count{Name: m, N: n})
	}
	for c, n := range k.Codes {
		sv.Codes = append(sv.Codes, tui.Count{Name: strconv.Itoa(c), N: n})
	}
	byCount := func(c []tui.Count) {
		sort.Slice(c, func(i, j int) bool {
			if c[i].N != c[j].N {
				return c[i].N > c[j].N
			}
			return c[i].Name < c[j].Name
		})
	}
	byCount(sv.Methods)
	byCount(sv.Codes)
	return sv
}

func dist(m sipflow.MinAvgMax) tui.Dist {
	ms := func(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }
	return tui.Dist{N: m.Count, Min: ms(float64(m.Min)), Avg: ms(m.Avg), Max: ms(float64(m.Max))}
}

// SetForward shows a HEP forwarder's counters in the header.
func (v *View) SetForward(f func() string) { v.forward = f }

// Finish says the engine's Run has returned: the input is read and
// analysed to the end (or the run stopped), and the list is final.
// Safe to call more than once, from any goroutine.
func (v *View) Finish() { v.finishOnce.Do(func() { close(v.loaded) }) }

// Loaded is closed by Finish (tui.Loader): the UI pulls the final
// list the moment the load is over.
func (v *View) Loaded() <-chan struct{} { return v.loaded }

// Version is the engine's change counter (tui.Versioned): the UI pulls
// a snapshot only when it moved.
func (v *View) Version() int64 { return v.e.Version() }

// Counters answers the header line from one engine Status, taken only
// when the engine's Version moved; the load progress and the forwarder's
// counters are read every time (they move on their own).
func (v *View) Counters() tui.Counters {
	v.cmu.Lock()
	defer v.cmu.Unlock()
	if ver := v.e.Version(); !v.haveLast || ver != v.cver {
		v.cached, v.cver, v.haveLast = v.counters(), ver, true
	}
	c := v.cached
	if v.done != nil && v.total > 0 {
		c.LoadDone, c.LoadTotal = v.done(), v.total
		if c.LoadDone >= c.LoadTotal && v.loading() {
			// Read to the end but still being analysed (the decoder's
			// queue, the end of the run's stream reports): the list is
			// not final yet, so the progress line stays.
			c.LoadDone = c.LoadTotal - 1
		}
	}
	if v.forward != nil {
		c.Forward = v.forward()
	}
	return c
}

func (v *View) counters() tui.Counters {
	s := v.e.Status()
	d := &s.Decoder
	kernel, queue := capture.SourceDrops(s.Sources) // live losses before decoding
	lost := int64(kernel + queue)
	return tui.Counters{
		Packets: s.Records,
		Dialogs: int64(s.Store.Calls),
		Calls:   int64(v.e.Store().Count(v.callsOnly)),
		// Warnings, with the spill file's refusals and failures: those
		// messages are not lost, but held in memory, inside the budget.
		DecodeErrors: s.Engine.Warnings + s.Spill.Refused + s.Spill.Errors,
		// Everything lost, refused or given up on: by the kernel and the
		// live queues, the store, the tracker and the decoder (the
		// decoder's part published while it runs).
		Dropped: lost + s.Store.Evicted + int64(s.RTP.Evicted+s.RTP.FinishedDropped) + int64(d.FragmentsDropped+d.FragmentsExpired+d.FragmentsEvicted+d.SCTPDropped+d.RTPHeuristicDropped+d.MediaEvicted) +
			int64(d.Stream.StreamsRefused+d.Stream.Gaps+d.Stream.BufferOverflows+d.Stream.OutOfOrderOverflows+d.Stream.BudgetEvictions),
		// Other includes the heuristic's drops, counted as dropped above.
		Skipped:     int64(d.Other-d.RTPHeuristicDropped) + s.Store.NotSIP + s.Store.NoCallID,
		TLSStreams:  int64(d.TLSStreams),
		TLSReasons:  s.TLSReasons,
		MemoryBytes: s.Store.Bytes,
		Live:        v.live,
	}
}

// rtcpLines renders what each reporter said about the stream, one line
// per reporter, for the stream view.
func rtcpLines(r *rtpstats.StreamReport) []string {
	if r.RTCP == nil {
		return nil
	}
	var out []string
	for _, rep := range r.RTCP.Reports {
		var b strings.Builder
		b.WriteString(rep.Time.UTC().Format("15:04:05.000"))
		b.WriteString(" " + strings.ToUpper(rep.Type))
		b.WriteString(" from " + rep.From.String())
		b.WriteString(" lost " + strconv.FormatFloat(100*rep.FractionLost, 'f', 1, 64) + "%")
		b.WriteString(" cum " + strconv.Itoa(int(rep.CumulativeLost)))
		b.WriteString(" jitter " + strconv.FormatFloat(rep.JitterMs, 'f', 1, 64) + "ms")
		if rep.HasRTT {
			b.WriteString(" rtt " + strconv.FormatFloat(rep.RTTMs, 'f', 0, 64) + "ms")
		}
		if rep.XR != nil && rep.XR.MOSLQ > 0 {
			b.WriteString(" XR MOS-LQ " + strconv.FormatFloat(rep.XR.MOSLQ, 'f', 1, 64))
		}
		out = append(out, b.String())
	}
	return out
}

// Flow answers the ladder view: the report package's ladder, plus the
// raw text of each message for the message pane.
func (v *View) Flow(callIDs []string, related bool) (tui.Flow, bool) {
	fl, calls := extract.Flow(v.e, callIDs, related, nil)
	if len(calls) == 0 {
		return tui.Flow{}, false
	}
	raw := make(map[msgKey]string)
	for _, c := range calls {
		for i := range c.Messages {
			m := &c.Messages[i]
			text := m.Raw
			if text == "" && m.RawError != "" {
				// re-read from a capture file that changed or went away
				text = "(" + m.RawError + ")"
			}
			raw[msgKey{c.Summary.CallID, m.Meta.Time.UnixNano(), m.Label()}] = text
		}
	}
	out := tui.Flow{}
	for _, ep := range fl.Endpoints {
		out.Endpoints = append(out.Endpoints, tui.Endpoint{Addr: ep.Addr.String(), Alias: ep.Alias})
	}
	for _, m := range fl.Messages {
		out.Messages = append(out.Messages, tui.FlowMessage{
			Time: m.Time, From: m.From, To: m.To, Label: m.Label,
			Class: class(m.Class), Retrans: m.Retrans, SDP: m.SDP, CallID: m.CallID,
			Raw: raw[msgKey{m.CallID, m.Time.UnixNano(), m.Label}],
		})
	}
	for _, s := range fl.Streams {
		out.Streams = append(out.Streams, tui.FlowStream{From: s.From, To: s.To, Label: s.Label, Start: s.Start, End: s.End})
	}
	for _, c := range calls {
		for _, p := range c.Summary.Problems {
			out.Problems = append(out.Problems, p.Code+" ("+p.Severity+"): "+p.Detail)
		}
	}
	// Reports a capture agent sent about the call over HEP (LOG lines,
	// RTCP-JSON) are drawn as notes on the first column, in time order,
	// with the report itself in the message pane.
	added := false
	for _, c := range calls {
		for _, ev := range c.Events {
			if !strings.HasPrefix(ev.Kind, engine.HEPEventPrefix) || len(out.Endpoints) == 0 {
				continue
			}
			out.Messages = append(out.Messages, tui.FlowMessage{
				Time: ev.Time, Label: strings.TrimPrefix(ev.Kind, engine.HEPEventPrefix), Class: tui.ClassRequest,
				Raw: ev.Detail, CallID: c.Summary.CallID,
			})
			added = true
		}
	}
	if added {
		sort.SliceStable(out.Messages, func(i, j int) bool { return out.Messages[i].Time.Before(out.Messages[j].Time) })
	}
	return out, true
}

// msgKey finds a ladder message's raw text: the ladder keeps call, time
// and label of each message, which together name one message.
type msgKey struct {
	callID string
	t      int64
	label  string
}

// Save answers the save dialog with the same writers as the CLI. The UI
// runs it on a goroutine of its own; it stops at ctx's cancellation with
// ctx.Err() and leaves no file behind (every format is written under a
// temporary name and renamed when complete). Its cost is linear in the
// calls saved and their messages and streams, plus one re-read of the
// capture for packets that are not saved by offset. Calls from a live
// source (one v.files does not name) are saved as frames built around
// their stored messages, without media (extract.Pcap).
func (v *View) Save(ctx context.Context, req tui.SaveRequest, progress func(tui.SaveProgress)) (string, error) {
	if progress == nil {
		progress = func(tui.SaveProgress) {}
	}
	ids := req.CallIDs
	switch req.Scope {
	case tui.SaveDisplayed:
		q := req.Query
		q.Offset, q.Limit = 0, -1 // every displayed call, not a screenful
		page := v.Calls(q)
		ids = make([]string, 0, len(page.Rows))
		for _, r := range page.Rows {
			ids = append(ids, r.CallID)
		}
	case tui.SaveAll:
		ids = v.e.Store().IDs() // not a summary of every call just for its id
	}
	if len(ids) == 0 {
		return "", ErrNothingSelected
	}
	progress(tui.SaveProgress{TotalCalls: len(ids)})
	switch req.Format {
	case tui.FormatPcapSIP, tui.FormatPcapSIPRTP:
		n, err := extract.Pcap(ctx, v.e, ids, req.Path, extract.Options{
			Files: v.files, Media: req.Format == tui.FormatPcapSIPRTP, Secrets: v.secrets,
			Progress: func(p extract.Progress) {
				progress(tui.SaveProgress{Calls: p.Calls, TotalCalls: p.TotalCalls, Read: p.Records, ReadTotal: p.TotalRecords})
			},
		})
		if err != nil && n > 0 && ctx.Err() == nil {
			// The file is saved, and err counts what it lacks: a capture
			// damaged past some point, the media of a live call
			// (extract.ErrMediaNotKept), messages whose bytes are gone.
			return fmt.Sprintf("saved %d packets of %d call(s) to %s; %v", n, len(ids), req.Path, err), nil
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("saved %d packets of %d call(s) to %s", n, len(ids), req.Path), nil
	}
	var write func(f *os.File) error
	switch req.Format {
	case tui.FormatFlowText, tui.FormatFlowMarkdown, tui.FormatFlowMermaid, tui.FormatFlowPlantUML, tui.FormatFlowSVG, tui.FormatFlowHTML:
		ff := map[tui.SaveFormat]report.FlowFormat{
			tui.FormatFlowText: report.FlowText, tui.FormatFlowMarkdown: report.FlowMarkdown, tui.FormatFlowMermaid: report.FlowMermaid,
			tui.FormatFlowPlantUML: report.FlowPlantUML, tui.FormatFlowSVG: report.FlowSVG, tui.FormatFlowHTML: report.FlowHTML,
		}[req.Format]
		fl, _ := extract.Flow(v.e, ids, req.Related, nil)
		write = func(f *os.File) error { return report.WriteFlow(f, ff, fl, report.FlowOptions{Width: -1}) }
	case tui.FormatCSV, tui.FormatJSON:
		// Written call by call as the summaries are made: a save of every
		// call never holds every summary at once.
		store := v.e.Store()
		calls := func(yield func(*sipflow.CallSummary) bool) {
			for i, id := range ids {
				if i%saveCheckEvery == 0 {
					if ctx.Err() != nil {
						return
					}
					progress(tui.SaveProgress{Calls: i, TotalCalls: len(ids)})
				}
				if c, ok := store.Summary(id); ok && !yield(&c) {
					return
				}
			}
		}
		rf := report.FormatCSV
		if req.Format == tui.FormatJSON {
			rf = report.FormatJSON
		}
		// A walk cut short by ctx leaves no file: writeFile checks ctx.
		write = func(f *os.File) error { return report.WriteCallSeq(f, rf, calls, report.TableOptions{}) }
	default:
		return "", fmt.Errorf("%w: %v", ErrUnknownFormat, req.Format)
	}
	if err := writeFile(ctx, req.Path, write); err != nil {
		return "", err
	}
	progress(tui.SaveProgress{Calls: len(ids), TotalCalls: len(ids)})
	return fmt.Sprintf("saved %d call(s) as %s to %s", len(ids), req.Format, req.Path), nil
}

// saveCheckEvery is how many calls pass between looks at the context
// and progress reports.
const saveCheckEvery = 256

// writeFile writes path through a temporary file beside it, renamed
// once write succeeded and ctx is still live: a cancelled or failed save
// leaves path as it was.
func writeFile(ctx context.Context, path string, write func(*os.File) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

var (
	_ tui.Data      = (*View)(nil)
	_ tui.Clearer   = (*View)(nil)
	_ tui.Versioned = (*View)(nil)
)

// Clear answers F5: the writer forgets the calls and streams seen so far
// at its next event (at once when it has finished); until then Calls
// answers with an empty page.
func (v *View) Clear() { v.e.Clear() }

// class maps the report's arrow classes onto the TUI's.
func class(c report.MessageClass) tui.MessageClass {
	switch c {
	case report.ClassProvisional:
		return tui.ClassProvisional
	case report.ClassSuccess:
		return tui.ClassSuccess
	case report.ClassRedirect:
		return tui.ClassRedirect
	case report.ClassFailure:
		return tui.ClassError
	}
	return tui.ClassRequest
}
