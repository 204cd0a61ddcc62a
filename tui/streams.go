package tui

import (
	"math"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// MOS scale bounds for the sparkline: ITU-T P.800 MOS runs 1..5 and the
// E-model (G.107) caps narrowband calls at 4.5, so that is full height.
const (
	mosFloor = 1.0
	mosCeil  = 4.5
)

// streamsView is the RTP metrics of the calls under the cursor (or the
// ladder on screen): a table of streams, then the selected stream's
// sparklines, DTMF and RTCP lines.
type streamsView struct {
	c      *common
	w, h   int
	ids    []string
	rows   []StreamRow
	cursor int
	scroll int // first detail line shown
}

func newStreamsView(c *common, ids []string) *streamsView {
	return &streamsView{c: c, ids: append([]string(nil), ids...)}
}

func (s *streamsView) name() string     { return "RTP streams" }
func (s *streamsView) SetSize(w, h int) { s.w, s.h = w, h }
func (s *streamsView) capturing() bool  { return false }

func (s *streamsView) refresh() {
	s.rows = s.rows[:0]
	for _, id := range s.ids {
		s.rows = append(s.rows, s.c.data.Streams(id)...)
	}
	safeStreams(s.rows)
	s.cursor = clamp(s.cursor, 0, len(s.rows)-1)
}

func (s *streamsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := s.c.keys
		switch {
		case key.Matches(msg, k.Back):
			s.c.nav.back()
		case key.Matches(msg, k.Up):
			s.cursor = clamp(s.cursor-1, 0, len(s.rows)-1)
			s.scroll = 0
		case key.Matches(msg, k.Down):
			s.cursor = clamp(s.cursor+1, 0, len(s.rows)-1)
			s.scroll = 0
		case key.Matches(msg, k.Top):
			s.cursor = 0
		case key.Matches(msg, k.Bottom):
			s.cursor = max(len(s.rows)-1, 0)
		case key.Matches(msg, k.MoveDown), key.Matches(msg, k.PageDown), key.Matches(msg, k.HalfDown):
			s.scroll++
		case key.Matches(msg, k.MoveUp), key.Matches(msg, k.PageUp), key.Matches(msg, k.HalfUp):
			s.scroll = max(s.scroll-1, 0)
		case key.Matches(msg, k.Flow):
			s.c.nav.openFlow(s.ids, false)
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			s.cursor = clamp(s.cursor-1, 0, len(s.rows)-1)
		case tea.MouseWheelDown:
			s.cursor = clamp(s.cursor+1, 0, len(s.rows)-1)
		}
	case tea.MouseClickMsg:
		if i := msg.Y - 1; i >= 0 && i < len(s.rows) {
			s.cursor = i
		}
	}
	return nil
}

// table widths; Src and Dst share what is left.
const (
	stSSRC   = 10
	stCodec  = 6
	stPkts   = 7
	stLost   = 6
	stLossP  = 6
	stJitter = 11
	stMOS    = 4
)

func (s *streamsView) View() string {
	st, g := s.c.st, s.c.g
	if len(s.rows) == 0 {
		return padLines([]string{"", st.Dim.Render(" no RTP streams for this call")}, s.w, s.h)
	}
	fixed := stSSRC + stCodec + stPkts + stLost + stLossP + stJitter + stMOS + 9
	aw := clamp((s.w-fixed)/2, 8, colSpecs[ColSrc].max)
	row := func(c [9]string) string {
		return " " + fit(c[0], stSSRC, "") + " " + fit(c[1], aw, g.ellipsis) + " " + fit(c[2], aw, g.ellipsis) + " " +
			fit(c[3], stCodec, g.ellipsis) + " " + fitRight(c[4], stPkts, "") + " " + fitRight(c[5], stLost, "") + " " +
			fitRight(c[6], stLossP, "") + " " + fitRight(c[7], stJitter, "") + " " + fitRight(c[8], stMOS, "")
	}
	lines := []string{st.ColHeader.Render(fit(row([9]string{"SSRC", "Source", "Destination", "Codec", "Pkts", "Lost", "Loss%", "Jit avg/max", "MOS"}), s.w, ""))}
	maxRows := max(s.h/3, 3)
	first := clamp(s.cursor-maxRows+1, 0, len(s.rows))
	for i := first; i < len(s.rows) && i < first+maxRows; i++ {
		r := &s.rows[i]
		l := fit(row([9]string{
			"0x" + strconv.FormatUint(uint64(r.SSRC), 16), r.Src, r.Dst, r.Codec,
			strconv.Itoa(r.Packets), strconv.Itoa(r.Lost), fmtFloat(r.LossPct, 1),
			fmtFloat(r.JitterMean, 1) + "/" + fmtFloat(r.JitterMax, 1), fmtFloat(r.MOS, 1),
		}), s.w, "")
		if i == s.cursor {
			l = st.Cursor.Render(l)
		} else {
			l = s.mosStyle(r.MOS).Render(l)
		}
		lines = append(lines, l)
	}
	lines = append(lines, "")
	detail := s.detail(&s.rows[s.cursor])
	s.scroll = clamp(s.scroll, 0, max(len(detail)-(s.h-len(lines)), 0))
	lines = append(lines, detail[s.scroll:]...)
	return padLines(lines, s.w, s.h)
}

func (s *streamsView) mosStyle(m float64) lipgloss.Style {
	switch {
	case math.IsNaN(m):
		return s.c.st.Normal
	case m >= 4:
		return s.c.st.GoodMOS
	case m >= 3.6:
		return s.c.st.FairMOS
	}
	return s.c.st.BadMOS
}

// detail is the selected stream: full addresses (never cut in the
// table's narrow columns), MOS by jitter-buffer model, sparklines, DTMF
// and RTCP.
func (s *streamsView) detail(r *StreamRow) []string {
	st := s.c.st
	out := []string{
		st.Title.Render("Stream 0x"+strconv.FormatUint(uint64(r.SSRC), 16)) + "  " + r.Src + " -> " + r.Dst + "  " + r.Codec,
		"MOS " + fmtFloat(r.MOS, 2) + "   jb50 " + fmtFloat(r.MOSJB50, 2) + "   jb200 " + fmtFloat(r.MOSJB200, 2) + "   adaptive " + fmtFloat(r.MOSAdaptive, 2),
	}
	if len(r.Series) > 0 {
		sw := max(s.w-22, 8)
		jit := make([]float64, len(r.Series))
		loss := make([]float64, len(r.Series))
		mos := make([]float64, len(r.Series))
		for i, p := range r.Series {
			jit[i], mos[i] = p.Jitter, p.MOS
			loss[i] = math.NaN()
			if p.Packets+p.Lost > 0 {
				loss[i] = 100 * float64(p.Lost) / float64(p.Packets+p.Lost)
			}
		}
		jmax, lmax := seriesMax(jit), seriesMax(loss)
		out = append(out,
			fit("jitter ms", 10, "")+fitRight(fmtFloat(jmax, 1), 6, "")+" "+st.Stream.Render(sparkline(jit, sw, 0, jmax, false, s.c.g.spark)),
			fit("loss %", 10, "")+fitRight(fmtFloat(lmax, 1), 6, "")+" "+st.BadMOS.Render(sparkline(loss, sw, 0, lmax, false, s.c.g.spark)),
			fit("MOS", 10, "")+fitRight(fmtFloat(mosCeil, 1), 6, "")+" "+st.GoodMOS.Render(sparkline(mos, sw, mosFloor, mosCeil, true, s.c.g.spark)),
		)
	}
	if r.DTMF != "" {
		out = append(out, "DTMF   "+r.DTMF)
	}
	if len(r.RTCP) > 0 {
		out = append(out, st.Title.Render("RTCP"))
		out = append(out, r.RTCP...)
	}
	return out
}

func seriesMax(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		if !math.IsNaN(x) && x > m {
			m = x
		}
	}
	return m
}

// sparkline draws v in w cells scaled to [lo, hi]. With more points than
// cells, each cell shows the worst point of its bucket (the max, or the
// min with low set, as for MOS) so a short spike is never averaged away.
// NaN points are blank.
func sparkline(v []float64, w int, lo, hi float64, low bool, ramp []rune) string {
	if w <= 0 || len(v) == 0 {
		return ""
	}
	n := min(w, len(v))
	var b strings.Builder
	for c := range n {
		s, e := c*len(v)/n, (c+1)*len(v)/n
		x := math.NaN()
		for _, y := range v[s:e] {
			if math.IsNaN(y) {
				continue
			}
			if math.IsNaN(x) || (low && y < x) || (!low && y > x) {
				x = y
			}
		}
		if math.IsNaN(x) {
			b.WriteByte(' ')
			continue
		}
		f := 0.0
		if hi > lo {
			f = (x - lo) / (hi - lo)
		}
		i := clamp(int(f*float64(len(ramp)-1)+0.5), 0, len(ramp)-1)
		b.WriteRune(ramp[i])
	}
	return b.String()
}
