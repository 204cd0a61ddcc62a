// Package jsonw appends JSON the way encoding/json encodes it with HTML
// escaping off (an Encoder with SetEscapeHTML(false)), compact or
// indented as json.Indent indents, without reflection. The reports'
// hand-written encoders (sipflow.CallSummary, rtpstats.StreamReport)
// write their fields through one Writer; each is held byte-identical to
// encoding/json by a differential fuzz target of its own.
//
// A value outside the fast path (a NaN or infinite number, a time
// outside years 0-9999 or not in UTC, an address whose text would need
// escaping) makes the Writer not OK, and the caller encodes the value
// with encoding/json instead.
package jsonw
