package tui

import (
	"math"
	"strconv"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// statsView shows the KPIs over the calls matching the list filter.
type statsView struct {
	c      *common
	w, h   int
	filter string
	s      StatsView
	scroll int
}

func newStatsView(c *common) *statsView { return &statsView{c: c} }

func (v *statsView) name() string     { return "Statistics" }
func (v *statsView) SetSize(w, h int) { v.w, v.h = w, h }
func (v *statsView) capturing() bool  { return false }

func (v *statsView) refresh() {
	v.filter = v.c.nav.listQuery().Filter
	v.s = v.c.data.Stats(v.filter)
	safeStats(&v.s)
}

func (v *statsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		k := v.c.keys
		switch {
		case key.Matches(msg, k.Back), key.Matches(msg, k.Stats):
			v.c.nav.back()
		case key.Matches(msg, k.Down), key.Matches(msg, k.PageDown), key.Matches(msg, k.HalfDown):
			v.scroll++
		case key.Matches(msg, k.Up), key.Matches(msg, k.PageUp), key.Matches(msg, k.HalfUp):
			v.scroll = max(v.scroll-1, 0)
		case key.Matches(msg, k.Top):
			v.scroll = 0
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			v.scroll = max(v.scroll-1, 0)
		case tea.MouseWheelDown:
			v.scroll++
		}
	}
	return nil
}

func pct(x float64) string {
	if math.IsNaN(x) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + "%"
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 0, 64) + " ms"
}

func (v *statsView) View() string {
	st := v.c.st
	s := &v.s
	kv := func(k, val, note string) string {
		return " " + fit(k, 24, "") + fitRight(val, 10, "") + "  " + st.Dim.Render(note)
	}
	scope := "all calls"
	if v.filter != "" {
		scope = "filter: " + v.filter
	}
	left := []string{
		st.Title.Render("Key performance indicators") + "  " + st.Dim.Render(scope),
		kv("Calls (INVITE dialogs)", strconv.Itoa(s.Calls), ""),
		kv("Answered", strconv.Itoa(s.Answered), ""),
		kv("Failed", strconv.Itoa(s.Failed), ""),
		kv("ASR answer-seizure", pct(s.ASR), "200 / attempts"),
		kv("NER network effect.", pct(s.NER), "200+486+487+603 / att."),
		kv("SD session defects", pct(s.SDR), "500/503/504 / calls"),
		kv("ISA ineffective", pct(s.ISA), "408/50x/no answer / calls"),
		kv("AHR hops per request", fmtFloat(s.AHR, 2), "Via count"),
		"",
		st.Title.Render("Timing") + st.Dim.Render("          n       min       avg       max"),
	}
	dist := func(name string, d Dist) string {
		if d.N == 0 {
			return " " + fit(name, 14, "") + fitRight("0", 5, "") + fitRight("-", 10, "") + fitRight("-", 10, "") + fitRight("-", 10, "")
		}
		return " " + fit(name, 14, "") + fitRight(strconv.Itoa(d.N), 5, "") + fitRight(fmtDur(d.Min), 10, "") + fitRight(fmtDur(d.Avg), 10, "") + fitRight(fmtDur(d.Max), 10, "")
	}
	left = append(left, dist("Setup", s.Setup), dist("PDD", s.PDD), dist("Duration", s.Dur))

	counts := func(title string, cs []Count) []string {
		out := []string{st.Title.Render(title)}
		for _, c := range cs {
			out = append(out, " "+fit(c.Name, 16, v.c.g.ellipsis)+fitRight(strconv.Itoa(c.N), 8, ""))
		}
		if len(cs) == 0 {
			out = append(out, st.Dim.Render(" none"))
		}
		return out
	}
	right := append(counts("Requests by method", s.Methods), "")
	right = append(right, counts("Responses by code", s.Codes)...)

	var lines []string
	const leftW = 62
	if v.w >= leftW+30 {
		for i := range max(len(left), len(right)) {
			var l, r string
			if i < len(left) {
				l = left[i]
			}
			if i < len(right) {
				r = right[i]
			}
			lines = append(lines, fit(l, leftW, "")+" "+r)
		}
	} else {
		lines = append(append(left, ""), right...)
	}
	v.scroll = clamp(v.scroll, 0, max(len(lines)-v.h, 0))
	return padLines(lines[v.scroll:], v.w, v.h)
}
