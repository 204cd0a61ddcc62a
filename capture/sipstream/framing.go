package sipstream

import (
	"bytes"

	"github.com/voiptool/voiptool/internal/siplex"
)

// status is the answer of an incremental recogniser.
type status uint8

const (
	stNo   status = iota // definitely not
	stYes                // yes, complete
	stMore               // consistent so far; need more bytes
)

const (
	// maxStartLine bounds the Request-Line / Status-Line scanned for; RFC
	// 3261 sets no limit, but a longer line is not a SIP start line worth
	// resynchronising on.
	maxStartLine = 4096
	// maxMethod bounds a request method token; the longest registered
	// method (SUBSCRIBE) has 9 characters.
	maxMethod = 32
	// maxContentLength caps the parsed value so the sum with the header
	// length cannot overflow.
	maxContentLength = 1 << 30
)

// sipVersionSP starts a Status-Line (RFC 3261 7.2).
const sipVersionSP = siplex.Version + " "

// isPrefixOfFold reports whether b (shorter than p) could still grow into p.
func isPrefixOfFold(b []byte, p string) bool {
	return len(b) < len(p) && siplex.EqualFold(b, p[:len(b)])
}

// isMethodChar is stricter than token: real methods are upper-case, and
// being strict keeps the resynchroniser from locking onto prose.
func isMethodChar(c byte) bool {
	return ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.'
}

// startLine reports whether b begins with a SIP Request-Line or
// Status-Line (RFC 3261 7.1, 7.2), or could once more bytes arrive.
func startLine(b []byte) status {
	lim := min(len(b), maxStartLine)
	eol := bytes.IndexByte(b[:lim], '\n')
	if eol < 0 {
		if len(b) >= maxStartLine {
			return stNo
		}
		return startPrefix(b)
	}
	line := b[:eol]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if startLineComplete(line) {
		return stYes
	}
	return stNo
}

// startLineComplete checks one line without its terminator: a start
// line as siplex reads it, and for a request more strictly, since the
// resynchroniser must not lock onto prose: an upper-case method of at
// most maxMethod characters and a URI with a scheme and no controls.
func startLineComplete(line []byte) bool {
	if siplex.StatusLine(line) {
		return true
	}
	method, uri, ok := siplex.RequestLine(line)
	if !ok || len(method) > maxMethod || !('A' <= method[0] && method[0] <= 'Z') || len(uri) < 3 {
		return false
	}
	for _, c := range method {
		if !isMethodChar(c) {
			return false
		}
	}
	if bytes.IndexByte(uri, ':') < 1 {
		return false
	}
	for _, c := range uri {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// startPrefix judges an unterminated line.
func startPrefix(b []byte) status {
	if len(b) == 0 {
		return stMore
	}
	if isPrefixOfFold(b, sipVersionSP) {
		return stMore
	}
	if siplex.HasPrefixFold(b, sipVersionSP) {
		r := b[len(sipVersionSP):]
		for i := 0; i < len(r) && i < 3; i++ {
			if !siplex.IsDigit(r[i]) {
				return stNo
			}
		}
		if len(r) > 3 && r[3] != ' ' && r[3] != '\r' {
			return stNo
		}
		return stMore
	}
	if !('A' <= b[0] && b[0] <= 'Z') {
		return stNo
	}
	i := 0
	for i < len(b) && isMethodChar(b[i]) {
		i++
	}
	if i == len(b) {
		if i <= maxMethod {
			return stMore
		}
		return stNo
	}
	if b[i] != ' ' || i > maxMethod {
		return stNo
	}
	// Only the start of the URI is checked: scanning the whole tail would
	// make the resynchroniser quadratic, and the line is bounded anyway.
	for _, c := range b[i+1 : min(len(b), i+1+64)] {
		if c < ' ' && c != '\r' || c == 0x7f {
			return stNo
		}
	}
	return stMore
}

// clState says what the header block said about the body length.
type clState uint8

const (
	clMissing clState = iota
	clOK
	clBad
)

// headerInfo is what framing needs from a header block.
type headerInfo struct {
	st     status // stYes: complete; stMore: unterminated; stNo: malformed
	end    int    // offset just past the empty line
	cl     int
	clSt   clState
	callID bool
	cseq   bool
}

// scanHeaders walks the header block of a message whose start line ends
// with an LF. Header names are compared case-insensitively and compact
// forms (RFC 3261 7.3.3: l, i) are accepted; the header block ends at
// CRLFCRLF, tolerating bare LF LF (RFC 3261 7.5).
func scanHeaders(b []byte) headerInfo {
	var h headerInfo
	i := bytes.IndexByte(b, '\n') + 1
	for {
		line, next, ok := siplex.NextLine(b, i)
		if !ok {
			h.st = stMore
			return h
		}
		if len(line) == 0 {
			h.st = stYes
			h.end = next
			return h
		}
		i = next
		if line[0] == ' ' || line[0] == '\t' {
			continue // folded continuation (RFC 3261 7.3.1)
		}
		name, value, ok := siplex.SplitHeader(line)
		if !ok {
			h.st = stNo
			return h
		}
		switch {
		case siplex.EqualFold(name, "Content-Length") || siplex.EqualFold(name, "l"):
			if h.clSt == clMissing {
				h.cl, h.clSt = parseLength(value)
			}
		case siplex.EqualFold(name, "Call-ID") || siplex.EqualFold(name, "i"):
			h.callID = true
		case siplex.EqualFold(name, "CSeq"):
			h.cseq = true
		}
	}
}

// parseLength parses a Content-Length value (1*DIGIT, RFC 3261 20.14).
func parseLength(v []byte) (int, clState) {
	if len(v) == 0 {
		return 0, clBad
	}
	n := 0
	for _, c := range v {
		if !siplex.IsDigit(c) {
			return 0, clBad
		}
		n = n*10 + int(c-'0')
		if n > maxContentLength {
			n = maxContentLength
		}
	}
	return n, clOK
}

// classify decides what a new direction carries from its first bytes.
func (a *Assembler) classify(s *stream, b []byte) (int, bool) {
	switch tlsRecord(b) {
	case stYes:
		s.mode = modeTLS
		a.stats.TLSStreams++
		a.stats.DiscardedBytes += uint64(len(b))
		return len(b), false
	case stMore:
		return 0, false
	}
	if siplex.HasPrefixFold(b, "GET ") || siplex.HasPrefixFold(b, "HTTP/1.") {
		s.mode = modeHTTP
		return 0, true
	}
	if isPrefixOfFold(b, "GET ") || isPrefixOfFold(b, "HTTP/1.") {
		return 0, false
	}
	if s.midStart {
		switch wsProbe(b, a.maxBuf) {
		case stYes:
			s.mode = modeWS
			s.synced = true
			a.stats.WebSocketStreams++
			return 0, true
		case stMore:
			return 0, false
		}
		s.mode = modeSIP
		s.synced = false
		return 0, true
	}
	if b[0] == '\r' || b[0] == '\n' {
		s.mode = modeSIP
		s.synced = true
		return 0, true
	}
	switch startLine(b) {
	case stYes:
		s.mode = modeSIP
		s.synced = true
		return 0, true
	case stMore:
		return 0, false
	}
	a.markNonSIP(s, len(b))
	return len(b), false
}

func (a *Assembler) markNonSIP(s *stream, n int) {
	s.mode = modeNonSIP
	a.stats.NonSIPStreams++
	a.stats.DiscardedBytes += uint64(n)
}

// tlsRecord recognises a TLS record header (RFC 8446 5.1, RFC 5246 6.2.1):
// content type 20-23, legacy version 3.x, length at most 2^14+2048.
func tlsRecord(b []byte) status {
	const (
		ctChangeCipherSpec = 20
		ctApplicationData  = 23
		maxRecord          = 1<<14 + 2048
	)
	if len(b) == 0 || b[0] < ctChangeCipherSpec || b[0] > ctApplicationData {
		return stNo
	}
	if len(b) < 2 {
		return stMore
	}
	if b[1] != 3 {
		return stNo
	}
	if len(b) < 5 {
		return stMore
	}
	if b[2] > 4 || int(b[3])<<8|int(b[4]) > maxRecord {
		return stNo
	}
	return stYes
}

// lostSync abandons framing; the resynchroniser takes over.
func (a *Assembler) lostSync(s *stream) {
	s.synced = false
	a.stats.Resyncs++
}

// frameSIP cuts one message (or keep-alive run) off b, which begins at a
// message boundary at absolute offset abs.
func (a *Assembler) frameSIP(s *stream, b []byte, abs uint64) (int, bool) {
	// Keep-alives between messages (RFC 5626 3.5.1: CRLFCRLF ping, CRLF
	// pong): skipped, counted once per run even across segments.
	i := 0
	for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
		i++
	}
	if i > 0 {
		if !s.kaRun {
			a.stats.KeepAlives++
			s.kaRun = true
		}
		return i, false
	}
	s.kaRun = false
	switch startLine(b) {
	case stMore:
		return 0, false
	case stNo:
		a.lostSync(s)
		return 0, true
	}
	h := scanHeaders(b)
	switch h.st {
	case stMore:
		if len(b) >= a.maxBuf {
			a.stats.BufferOverflows++
			a.stats.DiscardedBytes += uint64(len(b))
			a.lostSync(s)
			return len(b), false
		}
		return 0, false
	case stNo:
		// Not a header block after all: drop the start line and resync.
		a.lostSync(s)
		n := bytes.IndexByte(b, '\n') + 1
		a.stats.DiscardedBytes += uint64(n)
		return n, true
	}
	total := h.end + h.cl
	if total > a.maxBuf {
		// Too large to deliver: skip exactly its bytes, then make sure
		// we really are at a start line.
		a.stats.BufferOverflows++
		n := min(total, len(b))
		a.stats.DiscardedBytes += uint64(n)
		s.skip = total - n
		a.lostSync(s)
		return n, false
	}
	if len(b) < total {
		return 0, false
	}
	switch h.clSt {
	case clMissing:
		a.stats.MissingContentLength++
	case clBad:
		a.stats.BadContentLength++
	}
	a.emitMessage(s, b[:total], s.refAt(abs), abs+uint64(total), false)
	return total, false
}

// resyncSIP drops bytes up to the next plausible message start: a start
// line whose header block is well formed and carries Call-ID and CSeq (so
// a message/sipfrag body is not mistaken for one). Candidates are line
// starts, and also an upper-case letter right after a non-method byte,
// because bodies need not end with CRLF and the next message then starts
// mid-line; those must name a registered method so a method's tail
// ("CK sip:...") is not taken. prev is the stream byte before b[0] (see
// stream.prev), so that the answer does not depend on where segments
// happened to end.
//
// It works line by line so that its cost stays linear in the bytes
// scanned: a complete line is a Request-Line candidate only if it ends in
// " SIP/2.0", which is checked once per line.
func (a *Assembler) resyncSIP(s *stream, b []byte, prev int16) (int, bool) {
	for ls := 0; ls < len(b); {
		le := bytes.IndexByte(b[ls:], '\n')
		complete := le >= 0
		if complete {
			le += ls
		} else {
			le = len(b)
		}
		line := b[ls:le]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		requestEnd := complete && len(line) > len(siplex.Version) &&
			line[len(line)-len(siplex.Version)-1] == ' ' && siplex.EqualFold(line[len(line)-len(siplex.Version):], siplex.Version)
		lineEnd := ls + len(line)
		for c := ls; c < le; c++ {
			before := prev
			if c > 0 {
				before = int16(b[c-1])
			}
			lineStart := before == '\n'
			if !lineStart && !('A' <= b[c] && b[c] <= 'Z' && (before < 0 || !isMethodChar(byte(before)))) {
				continue
			}
			if !complete {
				if len(b)-c < maxStartLine && startPrefix(b[c:]) == stMore {
					return a.resyncDrop(s, c, len(b)), false
				}
				continue
			}
			if !requestEnd && !siplex.HasPrefixFold(b[c:lineEnd], sipVersionSP) {
				continue
			}
			// Measured as the unterminated case is, CR included, so how the
			// bytes were segmented cannot change the answer.
			if le-c >= maxStartLine || !startLineComplete(b[c:lineEnd]) {
				continue
			}
			if !lineStart && !knownStart(b[c:]) {
				continue
			}
			h := scanHeaders(b[c:])
			switch {
			case h.st == stYes && h.callID && h.cseq:
				s.synced = true
				return a.resyncDrop(s, c, len(b)), true
			case h.st == stMore && len(b)-c < a.maxBuf:
				return a.resyncDrop(s, c, len(b)), false
			}
		}
		if !complete {
			break
		}
		ls = le + 1
	}
	return a.resyncDrop(s, len(b), len(b)), false
}

// knownMethods are the methods of RFC 3261 and its common extensions
// (3262 PRACK, 6665 SUBSCRIBE/NOTIFY, 3903 PUBLISH, 6086 INFO, 3515 REFER,
// 3428 MESSAGE, 3311 UPDATE).
var knownMethods = [...]string{"INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "PRACK",
	"SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE"}

// knownStart reports whether b starts with a Status-Line or a registered
// method followed by SP.
func knownStart(b []byte) bool {
	if siplex.HasPrefixFold(b, sipVersionSP) {
		return true
	}
	for _, m := range knownMethods {
		if len(b) > len(m) && b[len(m)] == ' ' && string(b[:len(m)]) == m {
			return true
		}
	}
	return false
}

// resyncDrop discards n bytes skipped by a resynchroniser and writes off
// a mid-stream direction that never showed SIP.
// avail is the length of the slice n was measured in.
func (a *Assembler) resyncDrop(s *stream, n, avail int) int {
	a.stats.DiscardedBytes += uint64(n)
	if !s.sawSIP {
		s.scanned += n
		if s.scanned > nonSIPScanLimit {
			a.markNonSIP(s, avail-n)
			return avail
		}
	}
	return n
}
