// Package siplex holds the SIP lexing shared by every SIP reader in the
// project: the datagram classifier (package capture), the stream framer
// (capture/sipstream) and the parser (sipflow). Token characters, ASCII
// case folding, linear white space, line and header-field splitting, and
// the shape of the start lines (RFC 3261 7.1, 7.2, 7.3, 25.1) are decided
// here once, so the three agree on what a SIP message looks like.
//
// Every function works on bytes in place, allocates nothing and returns
// sub-slices of its input.
//
//	line, next, ok := siplex.NextLine(b, 0)
//	if siplex.StatusLine(line) { ... }
//	method, uri, ok := siplex.RequestLine(line)
//	name, value, ok := siplex.SplitHeader(nextLine)
//	name, value, ok = siplex.CutHeader(nextLine) // the token check left to the caller (IsTokens)
//	if siplex.EqualFold(name, "Content-Length") { ... }
package siplex
