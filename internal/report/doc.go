// Package report renders voiptool's reports: the call list, RTP stream
// statistics, the MOS explanation, signalling KPIs and call-flow ladders.
// The CLI and the TUI's save dialog share it, so a report saved from
// either is byte-identical. Each report has one data struct (from sipflow
// or rtpstats); only the writer differs between table, JSON, JSONL and
// CSV.
//
// Usage:
//
//	f, err := report.ParseFormat("csv")                      // table|json|jsonl|csv
//	err = report.WriteCalls(os.Stdout, f, store.Snapshot(), report.TableOptions{Width: 100})
//	err = report.WriteCallSeq(os.Stdout, f, store.Summaries(filter), report.TableOptions{}) // streamed: same bytes, one call at a time
//	err = report.WriteCallChunks(os.Stdout, f, store.SummaryChunks(filter), report.TableOptions{}) // same bytes, encoded on two cores
//	d, _ := store.Call(id)
//	flow := report.FlowFromCalls([]sipflow.CallDetail{d}, aliases) // legs merge by time
//	err = report.WriteFlow(os.Stdout, report.FlowSVG, flow, report.FlowOptions{})
//
// Every writer is deterministic (maps are sorted, times are UTC) and
// buffers its output, returning the first write error. Text destined for a
// terminal (tables, the ASCII ladder) has control characters replaced, so
// a hostile SIP header cannot emit escape sequences; markdown, mermaid,
// PlantUML, SVG and HTML escape what their syntax would interpret. JSON and
// CSV keep the data verbatim (CSV cells are not guarded against spreadsheet
// formula injection: the values are diagnostics and must stay exact).
package report
