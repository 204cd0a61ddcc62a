package report

import (
	"encoding/xml"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SVG geometry in user units (px). Text is monospace so widths follow rune
// counts: svgCharW approximates a 12 px monospace advance.
const (
	svgCharW      = 7.3
	svgMargin     = 10
	svgTimeW      = 160 // time and delta column
	svgMinCol     = 170
	svgMaxCol     = 420
	svgHeadRow    = 24
	svgRow        = 34 // per arrow
	svgSDPRow     = 14 // extra height when an SDP line is drawn
	svgTopPad     = 16
	svgBottomPad  = 20
	svgProblemRow = 16 // a diagnosed problem's line under the title
)

// svgColor maps a message class to its stroke, the palette sngrep uses:
// requests blue, provisional grey, success green, redirect amber,
// failure red; streams purple.
func svgColor(c MessageClass) string {
	switch c {
	case ClassProvisional:
		return "#6b6b6b"
	case ClassSuccess:
		return "#237a2b"
	case ClassRedirect:
		return "#a56b00"
	case ClassFailure:
		return "#c0392b"
	}
	return "#1f4e9c"
}

const svgStreamColor = "#7b3fa0"

func textPx(s string) int { return int(float64(utf8.RuneCountInString(s))*svgCharW + 0.5) }

// xmlEsc escapes s for XML text and attributes; encoding/xml also
// replaces characters XML 1.0 forbids (NUL, ESC, ...) with U+FFFD.
func xmlEsc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

// writeFlowSVG writes a standalone SVG document.
func writeFlowSVG(w *writer, f *Flow, o FlowOptions) {
	w.str(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	writeSVG(w, f, o)
}

// writeSVG writes the <svg> element alone, for embedding in HTML too.
func writeSVG(w *writer, f *Flow, o FlowOptions) {
	ev := f.timeline()
	dl := deltas(ev)
	n := len(f.Endpoints)
	colW := svgMinCol
	for _, e := range ev {
		var from, to int
		var texts []string
		if e.msg != nil {
			from, to, texts = e.msg.From, e.msg.To, []string{f.label(e.msg), e.msg.SDP}
		} else {
			from, to, texts = e.stream.From, e.stream.To, []string{e.stream.Label}
		}
		span := max(abs(to-from), 1)
		for _, t := range texts {
			colW = max(colW, (textPx(t)+24+span-1)/span)
		}
	}
	colW = min(colW, svgMaxCol)
	left := svgMargin + svgTimeW
	pos := func(i int) int { return left + i*colW + colW/2 }

	// Header rows: staggered like the text ladder, never truncated.
	type head struct{ i, row, x, wpx int }
	var heads []head
	var rowEnd []int
	for i := range f.Endpoints {
		wpx := textPx(f.Endpoints[i].Name()) + 16
		x := pos(i) - wpx/2
		row := -1
		for r, end := range rowEnd {
			if x > end+4 {
				row = r
				break
			}
		}
		if row < 0 {
			row = len(rowEnd)
			rowEnd = append(rowEnd, 0)
		}
		rowEnd[row] = x + wpx
		heads = append(heads, head{i, row, x, wpx})
	}
	titleH := 28 + len(f.Problems)*svgProblemRow
	top := svgTopPad + titleH + max(len(rowEnd), 1)*svgHeadRow + 8
	height := top
	for _, e := range ev {
		height += svgRow
		if e.msg != nil && e.msg.SDP != "" {
			height += svgSDPRow
		}
	}
	height += svgBottomPad
	width := left + max(n, 1)*colW + svgMargin
	for _, h := range heads {
		width = max(width, h.x+h.wpx+svgMargin)
	}
	for _, p := range f.Problems {
		width = max(width, svgMargin+textPx(sanitize("problem: "+p))+svgMargin)
	}

	it := strconv.Itoa
	w.str(`<svg xmlns="http://www.w3.org/2000/svg" width="` + it(width) + `" height="` + it(height) +
		`" viewBox="0 0 ` + it(width) + " " + it(height) + `" font-family="monospace" font-size="12">` + "\n")
	w.str("<title>" + xmlEsc(o.title()) + "</title>\n")
	w.str("<defs>\n")
	for _, c := range []MessageClass{ClassRequest, ClassProvisional, ClassSuccess, ClassRedirect, ClassFailure} {
		w.str(`<marker id="ah-` + markerID(c) + `" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">` +
			`<path d="M0,0 L10,5 L0,10 z" fill="` + svgColor(c) + `"/></marker>` + "\n")
	}
	w.str(`<marker id="ah-rtp" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">` +
		`<path d="M0,0 L10,5 L0,10 z" fill="` + svgStreamColor + `"/></marker>` + "\n")
	w.str("</defs>\n")
	w.str(`<rect x="0" y="0" width="` + it(width) + `" height="` + it(height) + `" fill="#ffffff"/>` + "\n")
	title := o.title()
	if t := firstTime(ev); !t.IsZero() {
		title += " — " + t.UTC().Format("2006-01-02") + " (UTC)"
	}
	w.str(`<text x="` + it(svgMargin) + `" y="` + it(svgTopPad+12) + `" font-size="14" font-weight="bold">` + xmlEsc(sanitize(title)) + "</text>\n")

	for i, p := range f.Problems {
		w.str(`<text class="problem" x="` + it(svgMargin) + `" y="` + it(svgTopPad+12+(i+1)*svgProblemRow) + `" fill="#c0392b">` + xmlEsc(sanitize("problem: "+p)) + "</text>\n")
	}
	headTop := svgTopPad + titleH
	for _, h := range heads {
		y := headTop + h.row*svgHeadRow
		name := sanitize(f.Endpoints[h.i].Name())
		w.str(`<g class="endpoint"><rect x="` + it(h.x) + `" y="` + it(y) + `" width="` + it(h.wpx) + `" height="20" rx="3" fill="#eef2f8" stroke="#41577a"/>` +
			`<text x="` + it(pos(h.i)) + `" y="` + it(y+14) + `" text-anchor="middle">` + xmlEsc(name) + "</text></g>\n")
		w.str(`<line x1="` + it(pos(h.i)) + `" y1="` + it(y+20) + `" x2="` + it(pos(h.i)) + `" y2="` + it(height-svgBottomPad/2) +
			`" stroke="#9aa5b5" stroke-dasharray="2 3"/>` + "\n")
	}
	w.str(`<text x="` + it(svgMargin) + `" y="` + it(top-4) + `" fill="#555">time</text>` +
		`<text x="` + it(svgMargin+svgTimeW-12) + `" y="` + it(top-4) + `" fill="#555" text-anchor="end">delta</text>` + "\n")

	y := top
	for k, e := range ev {
		y += svgRow
		var from, to int
		var label, sdp, color, marker, dash string
		strokeW := "1.5"
		if e.msg != nil {
			m := e.msg
			from, to, label, sdp = m.From, m.To, f.label(m), m.SDP
			color, marker = svgColor(m.Class), "ah-"+markerID(m.Class)
			if m.Retrans {
				dash = ` stroke-dasharray="5 3"`
			}
		} else {
			s := e.stream
			from, to, label = s.From, s.To, s.Label
			color, marker, strokeW, dash = svgStreamColor, "ah-rtp", "3", ` stroke-dasharray="9 4"`
		}
		w.str(`<g class="msg">`)
		w.str(`<text x="` + it(svgMargin) + `" y="` + it(y+4) + `">` + xmlEsc(clock(e.t)) + `</text>`)
		w.str(`<text x="` + it(svgMargin+svgTimeW-12) + `" y="` + it(y+4) + `" text-anchor="end" fill="#555">` + xmlEsc(dl[k]) + `</text>`)
		xa, xb := pos(from), pos(to)
		if from == to {
			w.str(`<path d="M` + it(xa) + "," + it(y-8) + " h30 v12 h-30" + `" fill="none" stroke="` + color + `" stroke-width="` + strokeW + `"` + dash +
				` marker-end="url(#` + marker + `)"/>`)
			w.str(`<text x="` + it(xa+36) + `" y="` + it(y) + `" fill="` + color + `">` + xmlEsc(sanitize(label)) + `</text>`)
		} else {
			w.str(`<line x1="` + it(xa) + `" y1="` + it(y) + `" x2="` + it(xb) + `" y2="` + it(y) + `" stroke="` + color +
				`" stroke-width="` + strokeW + `"` + dash + ` marker-end="url(#` + marker + `)"/>`)
			w.str(`<text x="` + it((xa+xb)/2) + `" y="` + it(y-5) + `" text-anchor="middle" fill="` + color + `">` + xmlEsc(sanitize(label)) + `</text>`)
		}
		if sdp != "" {
			w.str(`<text x="` + it((xa+xb)/2) + `" y="` + it(y+14) + `" text-anchor="middle" font-size="11" fill="#555">` + xmlEsc(sanitize(sdp)) + `</text>`)
			y += svgSDPRow
		}
		w.str("</g>\n")
	}
	w.str("</svg>\n")
}

func markerID(c MessageClass) string {
	switch c {
	case ClassProvisional:
		return "1xx"
	case ClassSuccess:
		return "2xx"
	case ClassRedirect:
		return "3xx"
	case ClassFailure:
		return "err"
	}
	return "req"
}

// writeFlowHTML writes a standalone page: the SVG ladder and a message
// table. It is well-formed XML as well as HTML5, so tests parse it with
// encoding/xml.
func writeFlowHTML(w *writer, f *Flow, o FlowOptions) {
	ev := f.timeline()
	dl := deltas(ev)
	title := xmlEsc(sanitize(o.title()))
	w.str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" + title + "</title>\n")
	w.str("<style>\nbody{font-family:sans-serif;margin:1em}\n.ladder{overflow-x:auto}\n" +
		"table{border-collapse:collapse;font-family:monospace;font-size:12px}\n" +
		"th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}\n" +
		"tr.creq td{color:#1f4e9c}\ntr.c1xx td{color:#6b6b6b}\ntr.c2xx td{color:#237a2b}\n" +
		"tr.c3xx td{color:#a56b00}\ntr.cerr td{color:#c0392b}\ntr.rtp td{color:#7b3fa0}\n" +
		"tr.retrans td{font-style:italic}\ntd.num{text-align:right}\n</style>\n</head>\n<body>\n")
	w.str("<h1>" + title + "</h1>\n")
	if len(f.Problems) > 0 {
		w.str("<ul class=\"problems\">\n")
		for _, p := range f.Problems {
			w.str("<li>problem: " + xmlEsc(sanitize(p)) + "</li>\n")
		}
		w.str("</ul>\n")
	}
	if len(f.CallIDs) > 0 {
		w.str("<ul class=\"callids\">\n")
		for i, id := range f.CallIDs {
			w.str("<li>Call-ID [" + strconv.Itoa(i+1) + "] <code>" + xmlEsc(sanitize(id)) + "</code></li>\n")
		}
		w.str("</ul>\n")
	}
	w.str("<div class=\"ladder\">\n")
	writeSVG(w, f, o)
	w.str("</div>\n<table>\n<thead><tr><th>#</th><th>time (UTC)</th><th>delta</th><th>from</th><th>to</th><th>message</th><th>SDP</th></tr></thead>\n<tbody>\n")
	for k, e := range ev {
		var from, to int
		var label, sdp, class string
		if e.msg != nil {
			from, to, label, sdp = e.msg.From, e.msg.To, f.label(e.msg), e.msg.SDP
			class = "c" + markerID(e.msg.Class)
			if e.msg.Retrans {
				class += " retrans"
			}
		} else {
			from, to, label, class = e.stream.From, e.stream.To, e.stream.Label, "rtp"
		}
		cell := func(s string) string { return "<td>" + xmlEsc(sanitize(s)) + "</td>" }
		w.str("<tr class=\"" + class + "\"><td class=\"num\">" + strconv.Itoa(k+1) + "</td>" + cell(clock(e.t)) +
			"<td class=\"num\">" + xmlEsc(dl[k]) + "</td>" + cell(f.Endpoints[from].Name()) + cell(f.Endpoints[to].Name()) +
			cell(label) + cell(sdp) + "</tr>\n")
	}
	w.str("</tbody>\n</table>\n</body>\n</html>\n")
}
