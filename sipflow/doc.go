// Package sipflow parses SIP (RFC 3261) and SDP (RFC 8866) in place, groups
// messages into dialogs and calls, runs the call state machine, computes
// per-call timings and HOMER-style KPIs, and holds the filter language shared
// by reports and the TUI.
//
// Usage:
//
//	st := sipflow.NewStore(sipflow.StoreOptions{})        // zero value: sane limits
//	st.Add(payload, sipflow.Meta{Time: ts, Src: src, Dst: dst}) // copies payload once
//	st.ExpireBefore(ts.Add(-idle))                         // packet time, never time.Now
//	f, _ := sipflow.ParseFilter(`from~1001 and code>=400`)
//	rows := st.Calls(f, 0, 50)                             // copies, safe for any goroutine
//
// Decoded types (Message, SDP, NameAddr, URI, Via, Header) alias the byte
// slice they were decoded from; the Store copies each raw message exactly once
// when it retains it. Store has one writer (Add, ExpireBefore, SetStreams) and
// any number of readers (Calls, Call, Stats, KPIs).
package sipflow
