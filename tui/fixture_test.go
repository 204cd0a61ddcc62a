package tui

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// memData is an in-memory Data for tests: fixed rows, a tiny filter
// language (`field~text`, `code>=N`, joined by " and "), fixed flows and
// streams. It records the last Query and SaveRequest so tests can assert
// what the UI asked for.
type memData struct {
	rows     []CallRow
	flows    map[string]Flow
	streams  map[string][]StreamRow
	counters Counters
	stats    StatsView

	lastQuery Query
	queries   int
	saved     []SaveRequest
	saveErr   error
	cleared   bool
	// saveGate, when set, makes Save behave like a long save: it reports
	// progress, then waits for the gate or for its context.
	saveGate chan struct{}
}

var t0 = time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)

func nan() float64 { return math.NaN() }

func fixtureRows(n int) []CallRow {
	states := []string{"COMPLETED", "IN CALL", "CALL SETUP", "REJECTED", "CANCELLED", "BUSY"}
	methods := []string{"INVITE", "INVITE", "INVITE", "REGISTER", "OPTIONS"}
	rows := make([]CallRow, n)
	for i := range rows {
		r := CallRow{
			Index:      i + 1,
			CallID:     fmt.Sprintf("call-%06d@example.com", i+1),
			Method:     methods[i%len(methods)],
			From:       fmt.Sprintf("sip:%d@a.example", 1000+i%7),
			To:         fmt.Sprintf("sip:%d@b.example", 2000+i%5),
			Src:        fmt.Sprintf("10.0.%d.%d:5060", i/250%250, i%250+1),
			Dst:        "10.0.0.254:5060",
			State:      states[i%len(states)],
			UA:         "fixture-ua/1.0",
			Codec:      "PCMU",
			Start:      t0.Add(time.Duration(i) * 1500 * time.Millisecond),
			Messages:   5 + i%9,
			SetupMS:    int64(100 + i%400),
			PDDMS:      int64(50 + i%200),
			DurationMS: int64(i%300) * 1000,
			LossPct:    float64(i%50) / 10,
			JitterMS:   float64(i%40) / 2,
			MOS:        4.4 - float64(i%20)/10,
			FinalCode:  200,
		}
		if i%7 == 3 {
			r.Problems = "one-way-audio,high-loss"
		}
		if r.Method != "INVITE" {
			r.Problems = ""
			r.State, r.Codec, r.DurationMS, r.SetupMS, r.PDDMS = "COMPLETED", "", -1, -1, -1
			r.LossPct, r.JitterMS, r.MOS = nan(), nan(), nan()
		}
		// Failed calls carry their final code; a few rows have the long
		// addresses and the wild jitter the column layout must fit.
		switch r.State {
		case "REJECTED":
			r.FinalCode = 403 + i%2
		case "BUSY":
			r.FinalCode = 486
		case "CANCELLED":
			r.FinalCode = 487
		}
		switch i % 10 {
		case 4:
			r.Src, r.Dst = "10.186.207.1:6060", "10.186.207.254:6060"
		case 8:
			r.Src = "[2001:db8:85a3::8a2e:370:7334]:5060"
		case 6:
			r.JitterMS = 2730.5
		}
		rows[i] = r
	}
	return rows
}

func newMemData(n int) *memData {
	d := &memData{
		rows:    fixtureRows(n),
		flows:   map[string]Flow{},
		streams: map[string][]StreamRow{},
		counters: Counters{
			Packets: 123456, Dialogs: int64(n), Calls: int64(n * 3 / 5),
			DecodeErrors: 2, Dropped: 1, MemoryBytes: 12 << 20,
		},
		stats: StatsView{
			Calls: 60, Answered: 42, Failed: 18, ASR: 70, NER: 85, SDR: 1.5, ISA: 30, AHR: 2.25,
			Methods: []Count{{"INVITE", 60}, {"ACK", 50}, {"BYE", 42}, {"REGISTER", 20}},
			Codes:   []Count{{"200", 110}, {"180", 50}, {"486", 8}, {"487", 6}},
			Setup:   Dist{N: 42, Min: 80 * time.Millisecond, Avg: 310 * time.Millisecond, Max: 2 * time.Second},
			PDD:     Dist{N: 50, Min: 40 * time.Millisecond, Avg: 150 * time.Millisecond, Max: 900 * time.Millisecond},
		},
	}
	if n > 0 {
		id := d.rows[0].CallID
		d.flows[id] = fixtureFlow(id, 0)
		d.streams[id] = fixtureStreams()
	}
	return d
}

// fixtureFlow is a call through a proxy to an IPv6 phone: INVITE with
// SDP, a retransmission, 100/180/200, ACK, RTP both ways, BYE/200, then
// extra OPTIONS pings to make the list longer than a screen when extra > 0.
func fixtureFlow(id string, extra int) Flow {
	eps := []Endpoint{
		{Addr: "192.168.1.10:5060", Alias: "alice"},
		{Addr: "10.0.0.254:5060", Alias: "proxy"},
		{Addr: "[2001:db8:85a3::8a2e:370:7334]:5060"},
	}
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	invite := "INVITE sip:2000@b.example SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\nFrom: <sip:1000@a.example>;tag=a\r\nTo: <sip:2000@b.example>\r\nCall-ID: " + id + "\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n\r\nv=0\r\nc=IN IP4 192.168.1.10\r\nm=audio 4000 RTP/AVP 0\r\n"
	invite2 := strings.Replace(strings.Replace(invite, "branch=z9hG4bK1", "branch=z9hG4bK2", 1), "Via: SIP/2.0/UDP 192.168.1.10:5060", "Via: SIP/2.0/UDP 10.0.0.254:5060", 1)
	resp := func(code string) string {
		return "SIP/2.0 " + code + "\r\nVia: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK1\r\nCall-ID: " + id + "\r\nCSeq: 1 INVITE\r\n\r\n"
	}
	msgs := []FlowMessage{
		{Time: at(0), From: 0, To: 1, Label: "INVITE", Class: ClassRequest, SDP: "PCMU 192.168.1.10:4000", Raw: invite, CallID: id},
		{Time: at(5), From: 1, To: 0, Label: "100 Trying", Class: ClassProvisional, Raw: resp("100 Trying"), CallID: id},
		{Time: at(7), From: 1, To: 2, Label: "INVITE", Class: ClassRequest, SDP: "PCMU 192.168.1.10:4000", Raw: invite2, CallID: id},
		{Time: at(507), From: 1, To: 2, Label: "INVITE", Class: ClassRequest, Retrans: true, Raw: invite2, CallID: id},
		{Time: at(600), From: 2, To: 1, Label: "180 Ringing", Class: ClassProvisional, Raw: resp("180 Ringing"), CallID: id},
		{Time: at(602), From: 1, To: 0, Label: "180 Ringing", Class: ClassProvisional, Raw: resp("180 Ringing"), CallID: id},
		{Time: at(3200), From: 2, To: 1, Label: "200 OK", Class: ClassSuccess, SDP: "PCMU [2001:db8:85a3::8a2e:370:7334]:6000", Raw: resp("200 OK"), CallID: id},
		{Time: at(3202), From: 1, To: 0, Label: "200 OK", Class: ClassSuccess, Raw: resp("200 OK"), CallID: id},
		{Time: at(3250), From: 0, To: 1, Label: "ACK", Class: ClassRequest, Raw: "ACK sip:2000@b.example SIP/2.0\r\nCall-ID: " + id + "\r\n\r\n", CallID: id},
		{Time: at(9000), From: 1, To: 1, Label: "OPTIONS", Class: ClassRequest, Raw: "OPTIONS sip:proxy SIP/2.0\r\n\r\n", CallID: id},
		{Time: at(60000), From: 0, To: 1, Label: "BYE", Class: ClassRequest, Raw: "BYE sip:2000@b.example SIP/2.0\r\n\r\n", CallID: id},
		{Time: at(60010), From: 1, To: 0, Label: "486 Busy Here", Class: ClassError, Raw: resp("486 Busy Here"), CallID: id},
	}
	for i := range extra {
		msgs = append(msgs, FlowMessage{Time: at(61000 + i*10), From: i % 3, To: (i + 1) % 3, Label: "OPTIONS", Class: ClassRequest, Raw: "OPTIONS sip:x SIP/2.0\r\n\r\n", CallID: id})
	}
	return Flow{
		Endpoints: eps,
		Messages:  msgs,
		Streams: []FlowStream{
			{From: 0, To: 2, Label: "PCMU 2840 pkts 0.4% MOS 4.3", Start: at(3300), End: at(60000)},
			{From: 2, To: 0, Label: "PCMU 2838 pkts 0.0% MOS 4.4", Start: at(3310), End: at(60000)},
		},
		Problems: []string{"short-call (info): answered call hung up by the callee after 1.2 s"},
	}
}

func fixtureStreams() []StreamRow {
	series := make([]SeriesPoint, 57)
	for i := range series {
		series[i] = SeriesPoint{T: t0.Add(time.Duration(i) * time.Second), Packets: 50, Lost: i % 13 / 12, Jitter: float64(i%10) * 1.5, MOS: 4.4 - float64(i%13/12)*0.8}
	}
	return []StreamRow{
		{SSRC: 0xdeadbeef, Src: "192.168.1.10:4000", Dst: "[2001:db8:85a3::8a2e:370:7334]:6000", Codec: "PCMU", Packets: 2840, Lost: 12, LossPct: 0.42,
			JitterMean: 3.1, JitterMax: 13.5, MOS: 4.31, MOSJB50: 4.25, MOSJB200: 4.3, MOSAdaptive: 4.33, Series: series,
			RTCP: []string{"20:00:08.300 SR ssrc=0xdeadbeef pkts=250 lost=0 jitter=2.1ms", "20:00:13.300 RR fraction=0.4% cum=3 jitter=3.0ms rtt=41ms"}, DTMF: "1234#"},
		{SSRC: 0x1234, Src: "[2001:db8:85a3::8a2e:370:7334]:6000", Dst: "192.168.1.10:4000", Codec: "PCMU", Packets: 2838, Lost: 0, LossPct: 0,
			JitterMean: 1.2, JitterMax: 4, MOS: 4.41, MOSJB50: 4.4, MOSJB200: 4.41, MOSAdaptive: 4.41},
	}
}

var errBadFilter = errors.New("filter: expected field~text or code>=N")

// match applies the fixture filter language to one row.
func match(r *CallRow, filter string) (bool, error) {
	if strings.TrimSpace(filter) == "" {
		return true, nil
	}
	for _, term := range strings.Split(filter, " and ") {
		term = strings.TrimSpace(term)
		switch {
		case strings.HasPrefix(term, "code>="):
			n, err := strconv.Atoi(strings.TrimPrefix(term, "code>="))
			if err != nil {
				return false, fmt.Errorf("filter: %q at offset 6: %w", term, errBadFilter)
			}
			if r.FinalCode < n {
				return false, nil
			}
		case strings.Contains(term, "~"):
			f, v, _ := strings.Cut(term, "~")
			var s string
			switch f {
			case "from":
				s = r.From
			case "to":
				s = r.To
			case "state":
				s = r.State
			case "method":
				s = r.Method
			default:
				return false, fmt.Errorf("filter: unknown field %q: %w", f, errBadFilter)
			}
			if !strings.Contains(strings.ToLower(s), strings.ToLower(v)) {
				return false, nil
			}
		default:
			return false, fmt.Errorf("filter: %q: %w", term, errBadFilter)
		}
	}
	return true, nil
}

func (d *memData) Calls(q Query) CallPage {
	d.lastQuery, d.queries = q, d.queries+1
	var p CallPage
	p.Total = len(d.rows)
	var idx []int
	filter := q.Filter
	if len(d.rows) > 0 {
		if _, err := match(&d.rows[0], filter); err != nil {
			p.FilterErr, filter = err, ""
		}
	}
	for i := range d.rows {
		r := &d.rows[i]
		if q.HideNonInvite && r.Method != "INVITE" {
			continue
		}
		if ok, _ := match(r, filter); !ok {
			continue
		}
		if q.Search != "" && !strings.Contains(strings.ToLower(r.CallID+" "+r.From+" "+r.To+" "+r.State), strings.ToLower(q.Search)) {
			continue
		}
		idx = append(idx, i)
	}
	if q.Sort != ColIndex || q.Desc {
		slices.SortStableFunc(idx, func(a, b int) int {
			c := strings.Compare(cell(q.Sort, &d.rows[a], time.UTC, 12), cell(q.Sort, &d.rows[b], time.UTC, 12))
			if q.Sort == ColIndex {
				c = d.rows[a].Index - d.rows[b].Index
			}
			if q.Desc {
				return -c
			}
			return c
		})
	}
	p.Matched = len(idx)
	lo := min(q.Offset, len(idx))
	hi := min(lo+q.Limit, len(idx))
	p.Rows = make([]CallRow, 0, hi-lo)
	for _, i := range idx[lo:hi] {
		p.Rows = append(p.Rows, d.rows[i])
	}
	return p
}

func (d *memData) Flow(ids []string, related bool) (Flow, bool) {
	var out Flow
	ok := false
	for _, id := range ids {
		if f, found := d.flows[id]; found {
			ok = true
			if out.Endpoints == nil {
				out = f
			} else {
				out.Messages = append(out.Messages, f.Messages...)
			}
		}
	}
	return out, ok
}

func (d *memData) Streams(id string) []StreamRow { return d.streams[id] }
func (d *memData) Stats(string) StatsView        { return d.stats }
func (d *memData) Counters() Counters            { return d.counters }

func (d *memData) Save(ctx context.Context, req SaveRequest, progress func(SaveProgress)) (string, error) {
	if d.saveGate != nil {
		progress(SaveProgress{Calls: 340, TotalCalls: 1000})
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-d.saveGate:
		}
	}
	if d.saveErr != nil {
		return "", d.saveErr
	}
	d.saved = append(d.saved, req)
	return "wrote " + req.Format.String() + " to " + req.Path, nil
}

func (d *memData) Clear() { d.cleared = true; d.rows = nil }

// keyMsg builds the KeyPressMsg a terminal sends for a key name as
// msg.String() would print it ("j", "G", "enter", "ctrl+d", "f7").
func keyMsg(s string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "space": tea.KeySpace, "tab": tea.KeyTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace,
		"f1":        tea.KeyF1, "f2": tea.KeyF2, "f3": tea.KeyF3, "f4": tea.KeyF4, "f5": tea.KeyF5,
		"f6": tea.KeyF6, "f7": tea.KeyF7, "f10": tea.KeyF10,
	}
	var mod tea.KeyMod
	if rest, ok := strings.CutPrefix(s, "ctrl+"); ok {
		mod, s = tea.ModCtrl, rest
	}
	if rest, ok := strings.CutPrefix(s, "shift+"); ok {
		mod, s = mod|tea.ModShift, rest
	}
	if c, ok := named[s]; ok {
		k := tea.KeyPressMsg{Code: c, Mod: mod}
		if c == tea.KeySpace {
			k.Text = " "
		}
		return k
	}
	r := []rune(s)[0]
	if mod != 0 {
		return tea.KeyPressMsg{Code: r, Mod: mod}
	}
	return tea.KeyPressMsg{Code: r, Text: s}
}

// press sends keys in order; a token in quotes-free form, e.g.
// press(t, m, "j", "j", "enter"). Typing text goes through typeText.
func press(t testing.TB, m *Model, keys ...string) {
	for _, k := range keys {
		km := keyMsg(k)
		if t != nil && km.String() != k {
			t.Helper()
			t.Fatalf("test key %q builds %q", k, km.String())
		}
		m.Update(km)
	}
}

func typeText(m *Model, s string) {
	for _, r := range s {
		if r == ' ' {
			m.Update(keyMsg("space"))
			continue
		}
		m.Update(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

// runSave presses key, which must start a save, and runs the save's
// command to completion on this goroutine, as the runtime would on its own.
func runSave(t testing.TB, m *Model, key string) {
	t.Helper()
	_, cmd := m.Update(keyMsg(key))
	if cmd == nil || m.saving == nil {
		t.Fatalf("%s did not start a save", key)
	}
	m.Update(cmd())
}

// newTestModel is a model over d at w×h, UTC, after the first refresh.
func newTestModel(d Data, w, h int, o Options) *Model {
	o.Location = time.UTC
	m := New(d, o)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Init()
	return m
}

// screen is the rendered frame with escape sequences stripped: what the
// ASCII colour profile would print, minus bold/reverse.
func screen(m *Model) string { return ansi.Strip(m.View().Content) }
