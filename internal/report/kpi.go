package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/voiptool/voiptool/sipflow"
)

// WriteKPIs renders the signalling KPIs. The table is a metric/value list
// followed by the per-method and per-code counts; JSON is the
// sipflow.KPIs object (maps sorted by key, as encoding/json does); CSV is
// a header row of the JSON names and one data row, with setup and pdd
// flattened to setup.count, setup.min_ms, ... and the maps joined as
// "INVITE:3;BYE:1".
func WriteKPIs(w io.Writer, f Format, k sipflow.KPIs) error {
	out := newWriter(w)
	switch f {
	case FormatTable:
		writeKPITable(out, &k)
	case FormatJSON:
		encodeJSON(out, &k, true)
	case FormatJSONL:
		encodeJSON(out, &k, false)
	case FormatCSV:
		writeCSV(out, kpiCSVHeader(), 1, func(int) []string { return kpiCSVRow(&k) })
	default:
		return fmt.Errorf("%w %v", ErrUnknownFormat, f)
	}
	return out.flush()
}

func writeKPITable(out *writer, k *sipflow.KPIs) {
	t := table{cols: []column{{name: "metric"}, {name: "value", right: true}, {name: "note"}}}
	pct := func(v float64) string { return f2(v) + "%" }
	t.add("calls", strconv.Itoa(k.Calls), "INVITE dialogs")
	t.add("dialogs", strconv.Itoa(k.Dialogs), "all dialogs")
	t.add("invites", strconv.Itoa(k.Invites), "initial INVITE transactions")
	t.add("answered", strconv.Itoa(k.Answered), "200 OK")
	t.add("auth_challenges", strconv.Itoa(k.AuthChallenges), "401/407")
	t.add("redirects", strconv.Itoa(k.Redirects), "3xx")
	t.add("busy", strconv.Itoa(k.Busy), "486")
	t.add("terminated", strconv.Itoa(k.Terminated), "487")
	t.add("declined", strconv.Itoa(k.Declined), "603")
	t.add("retransmissions", strconv.Itoa(k.Retransmissions), "")
	t.add("duplicates", strconv.Itoa(k.Duplicates), "the same packet captured twice within 5 ms")
	t.add("asr", pct(k.ASR), "answer-seizure ratio")
	t.add("ner", pct(k.NER), "network effectiveness ratio")
	t.add("sd", strconv.Itoa(k.SD), "session defects (500/503/504), "+pct(k.SDPercent))
	t.add("isa", strconv.Itoa(k.ISA), "ineffective attempts, "+pct(k.ISAPercent))
	t.add("ahr", f2(k.AHR), "average hops (Via) per INVITE")
	t.add("setup", minAvgMax(k.Setup), "INVITE -> 200, min/avg/max of "+strconv.Itoa(k.Setup.Count))
	t.add("pdd", minAvgMax(k.PDD), "INVITE -> 18x, min/avg/max of "+strconv.Itoa(k.PDD.Count))
	t.render(out, TableOptions{Width: -1}.width(), true)
	if len(k.Methods) > 0 {
		out.str("\nmethods: " + sanitize(strings.ReplaceAll(methodCounts(k.Methods), csvListSep, "  ")) + "\n")
	}
	if len(k.Codes) > 0 {
		out.str("codes:   " + strings.ReplaceAll(codeCounts(k.Codes), csvListSep, "  ") + "\n")
	}
}

func minAvgMax(m sipflow.MinAvgMax) string {
	if m.Count == 0 {
		return "-"
	}
	return fmtMS(m.Min) + "/" + fmtMS(int64(m.Avg+0.5)) + "/" + fmtMS(m.Max)
}

// methodCounts is "BYE:1;INVITE:2", sorted by method for determinism.
func methodCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, csvListSep)
}

// codeCounts is "100:1;200:2", sorted numerically.
func codeCounts(m map[int]int) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.Itoa(k) + ":" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, csvListSep)
}

func kpiCSVHeader() []string {
	return []string{
		"calls", "dialogs", "methods", "codes", "retransmissions", "duplicates", "invites", "answered",
		"auth_challenges", "redirects", "busy", "terminated", "declined", "asr", "ner",
		"sd", "sd_percent", "isa", "isa_percent", "ahr",
		"setup.count", "setup.min_ms", "setup.avg_ms", "setup.max_ms",
		"pdd.count", "pdd.min_ms", "pdd.avg_ms", "pdd.max_ms",
	}
}

func kpiCSVRow(k *sipflow.KPIs) []string {
	it := strconv.Itoa
	return []string{
		it(k.Calls), it(k.Dialogs), methodCounts(k.Methods), codeCounts(k.Codes), it(k.Retransmissions), it(k.Duplicates),
		it(k.Invites), it(k.Answered), it(k.AuthChallenges), it(k.Redirects), it(k.Busy),
		it(k.Terminated), it(k.Declined), g(k.ASR), g(k.NER), it(k.SD), g(k.SDPercent),
		it(k.ISA), g(k.ISAPercent), g(k.AHR),
		it(k.Setup.Count), i64(k.Setup.Min), g(k.Setup.Avg), i64(k.Setup.Max),
		it(k.PDD.Count), i64(k.PDD.Min), g(k.PDD.Avg), i64(k.PDD.Max),
	}
}
