package tui

import "github.com/voiptool/voiptool/internal/safetext"

// Every string a Data answers may come from the wire (a From header, a
// User-Agent, a whole SIP message): a header can carry ESC ] 0 ; … BEL
// or ESC [ 2 J, and width-based truncation would pass such a sequence
// to the terminal whole. Views make their snapshot safe once, when they
// pull it (safetext returns clean text as is, without allocating), so
// no rendering path can forget to.

func safeRows(rows []CallRow) {
	for i := range rows {
		r := &rows[i]
		for _, p := range []*string{&r.CallID, &r.Method, &r.From, &r.To, &r.Src, &r.Dst, &r.State, &r.UA, &r.Codec, &r.Problems} {
			*p = safetext.Line(*p)
		}
	}
}

func safeFlow(f *Flow) {
	for i := range f.Endpoints {
		e := &f.Endpoints[i]
		e.Addr, e.Alias = safetext.Line(e.Addr), safetext.Line(e.Alias)
	}
	for i := range f.Messages {
		m := &f.Messages[i]
		m.Label, m.SDP, m.CallID = safetext.Line(m.Label), safetext.Line(m.SDP), safetext.Line(m.CallID)
		m.Raw = safetext.Block(m.Raw) // line breaks kept: the raw pane splits on them
	}
	for i := range f.Streams {
		f.Streams[i].Label = safetext.Line(f.Streams[i].Label)
	}
	for i := range f.Problems {
		f.Problems[i] = safetext.Line(f.Problems[i])
	}
}

func safeStreams(rows []StreamRow) {
	for i := range rows {
		r := &rows[i]
		r.Src, r.Dst, r.Codec, r.DTMF = safetext.Line(r.Src), safetext.Line(r.Dst), safetext.Line(r.Codec), safetext.Line(r.DTMF)
		for j := range r.RTCP {
			r.RTCP[j] = safetext.Line(r.RTCP[j])
		}
	}
}

func safeStats(s *StatsView) {
	for i := range s.Methods {
		s.Methods[i].Name = safetext.Line(s.Methods[i].Name)
	}
	for i := range s.Codes {
		s.Codes[i].Name = safetext.Line(s.Codes[i].Name)
	}
}
