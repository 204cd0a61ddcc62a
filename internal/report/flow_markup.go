package report

import (
	"strconv"
	"strings"
)

// writeFlowMarkdown writes a GitHub-flavoured markdown table, one row per
// message or stream.
func writeFlowMarkdown(w *writer, f *Flow, o FlowOptions) {
	ev := f.timeline()
	dl := deltas(ev)
	w.str("# " + mdEscape(o.title()) + "\n\n")
	if t := firstTime(ev); !t.IsZero() {
		w.str("Date: " + t.UTC().Format("2006-01-02") + " (UTC)\n\n")
	}
	for i, id := range f.CallIDs {
		w.printf("- Call-ID [%d]: `%s`\n", i+1, strings.ReplaceAll(sanitize(id), "`", "'"))
	}
	if len(f.CallIDs) > 0 {
		w.str("\n")
	}
	for _, p := range f.Problems {
		w.str("- **problem**: " + mdEscape(p) + "\n")
	}
	if len(f.Problems) > 0 {
		w.str("\n")
	}
	w.str("| # | time | delta | from | to | message | SDP |\n")
	w.str("|--:|------|------:|------|----|---------|-----|\n")
	for k, e := range ev {
		var from, to int
		var label, sdp string
		if e.msg != nil {
			from, to, label, sdp = e.msg.From, e.msg.To, f.label(e.msg), e.msg.SDP
		} else {
			from, to, label = e.stream.From, e.stream.To, e.stream.Label
		}
		w.printf("| %d | %s | %s | %s | %s | %s | %s |\n", k+1, clock(e.t), dl[k],
			mdEscape(f.Endpoints[from].Name()), mdEscape(f.Endpoints[to].Name()), mdEscape(label), mdEscape(sdp))
	}
}

// mdEscape makes s one inert table cell: the ASCII punctuation that ends
// a cell, starts emphasis or code, or opens HTML gets a backslash
// (CommonMark 2.4); control characters become '?'. Brackets stay: without
// a link definition "[R]" is plain text, and IPv6 addresses stay legible.
func mdEscape(s string) string {
	s = sanitize(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '<', '>', '|', '&':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// writeFlowMermaid writes a mermaid sequenceDiagram. Participants get short
// ids (P1, P2, ...) because mermaid ids cannot hold ':' or '[' (mermaid
// issue #193); the alias after "as" runs to the end of the line and is
// written without quotes, which mermaid would print literally.
func writeFlowMermaid(w *writer, f *Flow) {
	w.str("sequenceDiagram\n")
	for i := range f.Endpoints {
		w.str("    participant P" + strconv.Itoa(i+1) + " as " + mermaidEscape(f.Endpoints[i].Name()) + "\n")
	}
	if len(f.Endpoints) > 0 {
		// problems as notes across the whole ladder, before its first arrow
		span := "P1"
		if len(f.Endpoints) > 1 {
			span += ",P" + strconv.Itoa(len(f.Endpoints))
		}
		for _, p := range f.Problems {
			w.str("    Note over " + span + ": " + mermaidEscape("problem: "+p) + "\n")
		}
	}
	for _, e := range f.timeline() {
		if e.stream != nil {
			s := e.stream
			w.str("    P" + strconv.Itoa(s.From+1) + "-)P" + strconv.Itoa(s.To+1) + ": " + mermaidEscape(streamText(s)) + "\n")
			continue
		}
		m := e.msg
		arrow := "->>"
		if m.Class != ClassRequest {
			arrow = "-->>"
		}
		text := mermaidEscape(clock(m.Time) + " " + f.label(m))
		if m.SDP != "" {
			text += "<br/>" + mermaidEscape("SDP "+m.SDP)
		}
		w.str("    P" + strconv.Itoa(m.From+1) + arrow + "P" + strconv.Itoa(m.To+1) + ": " + text + "\n")
	}
}

// mermaidEscape replaces what ends or re-interprets a mermaid text. In
// the sequence grammar (sequenceDiagram.jison) message text and aliases
// are [^#\n;]+, "%%" starts a comment anywhere on a line, and '<' '>'
// reach the HTML renderer. Mermaid decodes "#NN;" entity codes in that
// text (its answer to issue #193), so those characters are written as
// codes.
func mermaidEscape(s string) string {
	s = sanitize(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '#', ';', '<', '>', '"', '%':
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writeFlowPlantUML writes a PlantUML sequence diagram.
func writeFlowPlantUML(w *writer, f *Flow, o FlowOptions) {
	w.str("@startuml\n")
	w.str("title " + pumlEscape(o.title()) + "\n")
	w.str("skinparam monochrome false\n")
	for i := range f.Endpoints {
		// Participant names are quoted; a '"' inside cannot be escaped
		// there, so it becomes '\''.
		name := strings.ReplaceAll(sanitize(f.Endpoints[i].Name()), "\"", "'")
		w.str("participant \"" + name + "\" as P" + strconv.Itoa(i+1) + "\n")
	}
	for _, p := range f.Problems {
		w.str("note across #FFDDDD : " + pumlEscape("problem: "+p) + "\n")
	}
	for _, e := range f.timeline() {
		if e.stream != nil {
			s := e.stream
			w.str("P" + strconv.Itoa(s.From+1) + " -[#purple]>> P" + strconv.Itoa(s.To+1) + " : " + pumlEscape(streamText(s)) + "\n")
			continue
		}
		m := e.msg
		arrow := "->"
		switch {
		case m.Class == ClassFailure:
			arrow = "-[#red]->"
		case m.Class != ClassRequest:
			arrow = "-->"
		}
		text := pumlEscape(clock(m.Time) + " " + f.label(m))
		if m.SDP != "" {
			text += "\\n" + pumlEscape("SDP "+m.SDP)
		}
		w.str("P" + strconv.Itoa(m.From+1) + " " + arrow + " P" + strconv.Itoa(m.To+1) + " : " + text + "\n")
	}
	w.str("@enduml\n")
}

// pumlEscape neutralises PlantUML creole. Markup is a doubled character
// ("**bold**", "--strike--", "\"\"mono\"\"") or an HTML-like tag, and '~'
// escapes the character after it, so '~' goes before the first of each
// doubled pair and before every '<'. A backslash is doubled so "\n" in the
// data is not read as a line break.
func pumlEscape(s string) string {
	rs := []rune(sanitize(s))
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
			continue
		case r == '<':
			b.WriteByte('~')
		case strings.ContainsRune("~*/\"-_=^", r) && i+1 < len(rs) && rs[i+1] == r:
			b.WriteByte('~')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// streamText prefixes a timed stream's label with its start time, like
// the messages around it.
func streamText(s *FlowStream) string {
	if s.Start.IsZero() {
		return s.Label
	}
	return clock(s.Start) + " " + s.Label
}
