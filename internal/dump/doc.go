// Package dump prints captured messages as they pass, ngrep style: a
// header line (kind, transport, time, addresses, source, frame number,
// VLAN, tunnel) and, for SIP, the message line by line. SIP that arrived
// inside HEP is printed as SIP with the inner addresses and time. Text
// from the wire is cleaned of control characters before it reaches a
// terminal.
//
// Usage:
//
//	p := dump.New(os.Stdout, dump.Options{Regex: re, Count: 10, Save: recs})
//	capture.Run(ctx, srcs, copts, warn, p.Handle) // ends with dump.ErrEnough after 10
//	p.Flush()
package dump
