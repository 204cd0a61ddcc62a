package sipstream

import "bytes"

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
const sipVersionSP = "SIP/2.0 "

// sipVersion ends a Request-Line (RFC 3261 7.1).
const sipVersion = "SIP/2.0"

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFold compares ASCII case-insensitively without allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && equalFold(b[:len(p)], p)
}

// isPrefixOfFold reports whether b (shorter than p) could still grow into p.
func isPrefixOfFold(b []byte, p string) bool {
	return len(b) < len(p) && equalFold(b, p[:len(b)])
}

// containsFold reports whether s occurs in b, ASCII case-insensitively.
func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// isTokenChar reports RFC 3261 25.1 token characters.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '!', '%', '*', '_', '+', '`', '\'', '~':
		return true
	}
	return false
}

// isMethodChar is stricter than token: real methods are upper-case, and
// being strict keeps the resynchroniser from locking onto prose.
func isMethodChar(c byte) bool {
	return ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.'
}

func trimWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
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

// startLineComplete checks one line without its terminator.
func startLineComplete(line []byte) bool {
	if hasPrefixFold(line, sipVersionSP) {
		// Status-Line = SIP-Version SP Status-Code SP Reason-Phrase; some
		// stacks omit the reason phrase and its SP.
		r := line[len(sipVersionSP):]
		if len(r) < 3 || !isDigit(r[0]) || !isDigit(r[1]) || !isDigit(r[2]) {
			return false
		}
		return len(r) == 3 || r[3] == ' '
	}
	// Request-Line = Method SP Request-URI SP SIP-Version
	sp := bytes.IndexByte(line, ' ')
	if sp < 1 || sp > maxMethod || !('A' <= line[0] && line[0] <= 'Z') {
		return false
	}
	for _, c := range line[:sp] {
		if !isMethodChar(c) {
			return false
		}
	}
	rest := line[sp+1:]
	sp2 := bytes.LastIndexByte(rest, ' ')
	if sp2 < 3 || !equalFold(rest[sp2+1:], sipVersion) {
		return false
	}
	uri := rest[:sp2]
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

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// startPrefix judges an unterminated line.
func startPrefix(b []byte) status {
	if len(b) == 0 {
		return stMore
	}
	if isPrefixOfFold(b, sipVersionSP) {
		return stMore
	}
	if hasPrefixFold(b, sipVersionSP) {
		r := b[len(sipVersionSP):]
		for i := 0; i < len(r) && i < 3; i++ {
			if !isDigit(r[i]) {
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

// nextHeaderLine returns the line starting at i without its terminator,
// and the offset of the next line; ok is false when no LF follows yet.
func nextHeaderLine(b []byte, i int) (line []byte, next int, ok bool) {
	j := bytes.IndexByte(b[i:], '\n')
	if j < 0 {
		return nil, 0, false
	}
	line = b[i : i+j]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, i + j + 1, true
}

// splitHeader splits "name: value"; ok is false for a line that is not a
// header field (RFC 3261 7.3.1: name token, optional WS, colon).
func splitHeader(line []byte) (name, value []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon < 1 {
		return nil, nil, false
	}
	name = trimWS(line[:colon])
	if len(name) == 0 {
		return nil, nil, false
	}
	for _, c := range name {
		if !isTokenChar(c) {
			return nil, nil, false
		}
	}
	return name, trimWS(line[colon+1:]), true
}

// scanHeaders walks the header block of a message whose start line ends
// with an LF. Header names are compared case-insensitively and compact
// forms (RFC 3261 7.3.3: l, i) are accepted; the header block ends at
// CRLFCRLF, tolerating bare LF LF (RFC 3261 7.5).
func scanHeaders(b []byte) headerInfo {
	var h headerInfo
	i := bytes.IndexByte(b, '\n') + 1
	for {
		line, next, ok := nextHeaderLine(b, i)
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
		name, value, ok := splitHeader(line)
		if !ok {
			h.st = stNo
			return h
		}
		switch {
		case equalFold(name, "Content-Length") || equalFold(name, "l"):
			if h.clSt == clMissing {
				h.cl, h.clSt = parseLength(value)
			}
		case equalFold(name, "Call-ID") || equalFold(name, "i"):
			h.callID = true
		case equalFold(name, "CSeq"):
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
		if !isDigit(c) {
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
		if a.tlsKeys != nil && !s.tlsCipher {
			if b[0] == tlsHandshake && len(b) < 6 {
				return 0, false // the handshake type tells client from server
			}
			if a.attachTLS(s, b) {
				a.stats.TLSStreams++
				s.tlsHandover = true
				return 0, false
			}
		}
		s.mode = modeTLS
		a.stats.TLSStreams++
		a.stats.DiscardedBytes += uint64(len(b))
		return len(b), false
	case stMore:
		return 0, false
	}
	if hasPrefixFold(b, "GET ") || hasPrefixFold(b, "HTTP/1.") {
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
		requestEnd := complete && len(line) > len(sipVersion) &&
			line[len(line)-len(sipVersion)-1] == ' ' && equalFold(line[len(line)-len(sipVersion):], sipVersion)
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
			if !requestEnd && !hasPrefixFold(b[c:lineEnd], sipVersionSP) {
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
	if hasPrefixFold(b, sipVersionSP) {
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
