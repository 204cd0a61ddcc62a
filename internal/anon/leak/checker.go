package leak

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// Encoding says in which form an identifier was found.
type Encoding uint8

// Encodings searched.
const (
	Text       Encoding = iota + 1 // as seen, ASCII case-folded
	Escaped                        // percent-escaped (RFC 3986 2.1)
	Digits                         // number: the digits alone
	Plus                           // number: "+" and the digits
	Prefix00                       // number: "00" and the digits
	National                       // number: "0" and the digits after a 1-3 digit country code
	Dotted                         // IPv4 dotted quad
	RawBytes                       // address in network byte order
	Arpa                           // reversed under in-addr.arpa / ip6.arpa
	Compressed                     // IPv6 RFC 5952 text
	Expanded                       // IPv6 eight groups of four hex digits
	MACText                        // MAC with ':' '-' '.' or no separator
)

var encodingNames = [...]string{"", "text", "percent-escaped", "digits", "+digits", "00digits",
	"national", "dotted", "raw bytes", "arpa", "compressed", "expanded", "mac text"}

func (e Encoding) String() string {
	if int(e) < len(encodingNames) && e != 0 {
		return encodingNames[e]
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// Hit is one original identifier found in an output. Ident is the original
// value: a report of hits is itself personal data, for the person who
// anonymises, not for sharing.
type Hit struct {
	Frame    int   // the frame or block number given to Scan (Stream: from Locate)
	Offset   int64 // of the first byte, in the scanned frame (Stream: in the stream)
	Len      int   // bytes matched
	Category Category
	Encoding Encoding
	Ident    string
}

func (h Hit) String() string {
	return "frame " + strconv.Itoa(h.Frame) + " offset " + strconv.Itoa(int(h.Offset)) + ": " + h.Category.String() +
		" (" + h.Encoding.String() + ")"
}

type pattern struct {
	exact    []byte // non-nil: bytes must match exactly (raw addresses)
	boundary bool   // must not touch a digit on either side
	word     bool   // must not touch a letter or digit on either side
	cat      Category
	enc      Encoding
	ident    string
	n        int
}

// Checker finds original identifiers in output bytes. Build it once with
// NewChecker; Scan is safe for concurrent use (the checker is read-only).
type Checker struct {
	a      *automaton
	pats   []pattern
	raw    [][]byte // folded pattern bytes, by pattern index (text patterns)
	maxLen int
	// raw-byte patterns (addresses in network order) are not in the
	// automaton, whose byte classes they would blow up to 256: a rolling
	// window of the last 4 bytes is tested against a bitset of their last
	// 4 bytes, then a map, then the whole pattern backwards.
	rawPats []pattern
	rawBits []uint64
	rawKeys map[uint32][]int32
}

const rawHashBits = 18

func rawHash(w uint32) uint32 { return (w * 0x9E3779B1) >> (32 - rawHashBits) }

// NewChecker builds the automaton for every encoding of every identifier in
// the set. Exempt identifiers were never added to the set.
func NewChecker(s *Set) *Checker {
	c := &Checker{rawBits: make([]uint64, (1<<rawHashBits)/64), rawKeys: map[uint32][]int32{}}
	seen := map[string]int{} // folded bytes + flags -> pattern index (dedupe)
	var raw [][]byte
	add := func(b []byte, exact bool, boundary bool, word bool, cat Category, enc Encoding, ident string) {
		if len(b) == 0 {
			return
		}
		fb := make([]byte, len(b))
		for i, x := range b {
			fb[i] = fold[x]
		}
		key := string(fb)
		if exact {
			key = "x" + string(b)
		} else if boundary {
			key = "b" + key
		} else if word {
			key = "w" + key
		} else {
			key = "t" + key
		}
		if _, ok := seen[key]; ok {
			return
		}
		seen[key] = len(c.pats)
		p := pattern{boundary: boundary, word: word, cat: cat, enc: enc, ident: ident, n: len(b)}
		if len(b) > c.maxLen {
			c.maxLen = len(b)
		}
		if exact && len(b) >= 4 {
			p.exact = append([]byte(nil), b...)
			k := binary.BigEndian.Uint32(b[len(b)-4:])
			c.rawKeys[k] = append(c.rawKeys[k], int32(len(c.rawPats)))
			h := rawHash(k)
			c.rawBits[h/64] |= 1 << (h % 64)
			c.rawPats = append(c.rawPats, p)
			return
		}
		if exact {
			p.exact = append([]byte(nil), b...)
		}
		c.pats = append(c.pats, p)
		raw = append(raw, fb)
	}
	// deterministic order, so that hits on equal bytes name the same identifier
	ents := make([]entry, 0, len(s.m))
	for e := range s.m {
		ents = append(ents, e)
	}
	sort.Slice(ents, func(i, j int) bool {
		if ents[i].cat != ents[j].cat {
			return ents[i].cat < ents[j].cat
		}
		return ents[i].val < ents[j].val
	})
	for _, e := range ents {
		for _, f := range Forms(e.cat, e.val) {
			add(f.b, f.exact, f.boundary, f.word, e.cat, f.enc, e.val)
		}
	}
	c.raw = raw
	c.a = buildAutomaton(raw)
	return c
}

// Patterns returns the number of byte patterns searched.
func (c *Checker) Patterns() int { return len(c.pats) + len(c.rawPats) }

// Form is one byte pattern of an identifier.
type Form struct {
	b        []byte
	exact    bool
	boundary bool
	word     bool
	enc      Encoding
}

// Bytes returns the pattern.
func (f Form) Bytes() []byte { return f.b }

// Encoding returns the encoding of the pattern.
func (f Form) Encoding() Encoding { return f.enc }

// Forms lists the encodings of one identifier that are searched.
func Forms(cat Category, v string) []Form {
	var fs []Form
	text := func(s string, enc Encoding, boundary bool) {
		fs = append(fs, Form{b: []byte(s), boundary: boundary, enc: enc})
	}
	switch cat {
	case Number:
		d := digitsOf(v)
		text(v, Text, true)
		if len(d) >= MinLen(Number) {
			text(d, Digits, true)
			text("+"+d, Plus, true)
			text("%2b"+d, Escaped, true)
			text("00"+d, Prefix00, true)
			intl := d
			if strings.HasPrefix(d, "00") {
				intl = d[2:]
				if len(intl) >= MinLen(Number) {
					text(intl, Digits, true)
					text("+"+intl, Plus, true)
				}
			}
			for cc := 1; cc <= 3; cc++ {
				if len(intl)-cc >= MinLen(Number) {
					text("0"+intl[cc:], National, true)
				}
			}
		}
		return fs
	case IP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return nil
		}
		a = a.Unmap()
		if a.Is4() {
			text(a.String(), Dotted, true)
			b4 := a.As4()
			fs = append(fs, Form{b: b4[:], exact: true, enc: RawBytes})
			text(strconv.Itoa(int(b4[3]))+"."+strconv.Itoa(int(b4[2]))+"."+strconv.Itoa(int(b4[1]))+"."+strconv.Itoa(int(b4[0]))+".in-addr.arpa", Arpa, true)
			return fs
		}
		text(a.String(), Compressed, false)
		b16 := a.As16()
		fs = append(fs, Form{b: b16[:], exact: true, enc: RawBytes})
		var sb strings.Builder
		h := hex.EncodeToString(b16[:])
		for i := 0; i < 32; i += 4 {
			if i > 0 {
				sb.WriteByte(':')
			}
			sb.WriteString(h[i : i+4])
		}
		text(sb.String(), Expanded, false)
		sb.Reset()
		for i := 31; i >= 0; i-- {
			sb.WriteByte(h[i])
			sb.WriteByte('.')
		}
		sb.WriteString("ip6.arpa")
		text(sb.String(), Arpa, false)
		return fs
	case MAC:
		m, ok := parseMAC(v)
		if !ok {
			return nil
		}
		h := hex.EncodeToString(m[:])
		text(h, MACText, false)
		for _, sep := range []string{":", "-"} {
			text(h[0:2]+sep+h[2:4]+sep+h[4:6]+sep+h[6:8]+sep+h[8:10]+sep+h[10:12], MACText, false)
		}
		text(h[0:4]+"."+h[4:8]+"."+h[8:12], MACText, false)
		fs = append(fs, Form{b: m[:], exact: true, enc: RawBytes})
		return fs
	}
	// names, tokens and ids: a match inside a longer run of letters and
	// digits is another word ("0@localhost" in "o472s4m0@localhost")
	fs = append(fs, Form{b: []byte(v), word: true, enc: Text})
	if e := escape(v); e != v {
		fs = append(fs, Form{b: []byte(e), word: true, enc: Escaped})
	}
	return fs
}

func digitsOf(v string) string {
	var b []byte
	for i := 0; i < len(v); i++ {
		if v[i] >= '0' && v[i] <= '9' {
			b = append(b, v[i])
		}
	}
	return string(b)
}

// escape percent-escapes every byte outside RFC 3986 unreserved.
func escape(v string) string {
	var sb strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			sb.WriteByte(c)
			continue
		}
		sb.WriteByte('%')
		sb.WriteByte("0123456789abcdef"[c>>4])
		sb.WriteByte("0123456789abcdef"[c&15])
	}
	return sb.String()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Scan appends to hits every identifier found in b, naming frame.
func (c *Checker) Scan(frame int, b []byte, hits []Hit) []Hit {
	st := scanState{}
	return c.scan(&st, frame, 0, b, nil, hits)
}

type scanState struct {
	s    int32
	w    uint32 // the last 4 bytes
	n    int64  // bytes seen
	prev byte   // byte before the chunk, for the leading boundary
	has  bool
}

// scan runs the automaton over b; base is the offset of b[0] in the stream,
// tail the bytes before b (for matches that start in an earlier chunk).
func (c *Checker) scan(st *scanState, frame int, base int64, b, tail []byte, hits []Hit) []Hit {
	a := c.a
	s := st.s
	if a.dfa != nil {
		// in DFA form the state is its row offset (state * classes)
		nc := int32(a.nclass)
		dfa, class := a.dfa, &a.class
		if len(c.rawPats) > 0 {
			// one pass for both: the text automaton and the window of
			// raw address bytes
			w, n, bits := st.w, st.n, c.rawBits
			for i, x := range b {
				s = dfa[s+int32(class[x])]
				if s < 0 {
					s &^= outFlag
					hits = c.report(s/nc, frame, base, b, tail, i, st, hits)
				}
				w = w<<8 | uint32(x)
				n++
				if h := rawHash(w); bits[h/64]&(1<<(h%64)) != 0 && n >= 4 {
					hits = c.reportRaw(w, frame, base, b, tail, i, hits)
				}
			}
			st.s, st.w, st.n = s, w, n
			if len(b) > 0 {
				st.prev, st.has = b[len(b)-1], true
			}
			return hits
		}
		for i, x := range b {
			s = dfa[s+int32(class[x])]
			if s < 0 {
				s &^= outFlag
				hits = c.report(s/nc, frame, base, b, tail, i, st, hits)
			}
		}
	} else {
		for i, x := range b {
			s = a.next(s, fold[x])
			if a.out[s] >= 0 || a.dict[s] >= 0 {
				hits = c.report(s, frame, base, b, tail, i, st, hits)
			}
		}
	}
	st.s = s
	if len(c.rawPats) > 0 {
		hits = c.scanRaw(st, frame, base, b, tail, hits)
	}
	if len(b) > 0 {
		st.prev, st.has = b[len(b)-1], true
	}
	return hits
}

// scanRaw finds the raw-byte patterns.
func (c *Checker) scanRaw(st *scanState, frame int, base int64, b, tail []byte, hits []Hit) []Hit {
	w, n := st.w, st.n
	bits := c.rawBits
	for i, x := range b {
		w = w<<8 | uint32(x)
		n++
		h := rawHash(w)
		if bits[h/64]&(1<<(h%64)) == 0 || n < 4 {
			continue
		}
		hits = c.reportRaw(w, frame, base, b, tail, i, hits)
	}
	st.w, st.n = w, n
	return hits
}

// reportRaw verifies the raw patterns whose last 4 bytes are w, ending at i.
func (c *Checker) reportRaw(w uint32, frame int, base int64, b, tail []byte, i int, hits []Hit) []Hit {
	for _, pi := range c.rawKeys[w] {
		pt := &c.rawPats[pi]
		start := i - pt.n + 1
		ok := true
		for k := 0; k < pt.n-4 && ok; k++ {
			x, have := at(b, tail, start+k)
			ok = have && x == pt.exact[k]
		}
		if ok {
			hits = append(hits, Hit{Frame: frame, Offset: base + int64(start), Len: pt.n, Category: pt.cat, Encoding: pt.enc, Ident: pt.ident})
		}
	}
	return hits
}

// at returns the byte at index i of tail+b (i may be negative: into tail).
func at(b, tail []byte, i int) (byte, bool) {
	if i >= 0 {
		if i < len(b) {
			return b[i], true
		}
		return 0, false
	}
	j := len(tail) + i
	if j >= 0 {
		return tail[j], true
	}
	return 0, false
}

func (c *Checker) report(s int32, frame int, base int64, b, tail []byte, end int, st *scanState, hits []Hit) []Hit {
	a := c.a
	for ; s > 0; s = a.dict[s] {
		for p := a.out[s]; p >= 0; p = a.outNext[p] {
			pt := &c.pats[p]
			start := end - pt.n + 1
			if pt.exact != nil {
				ok := true
				for k := 0; k < pt.n && ok; k++ {
					x, have := at(b, tail, start+k)
					ok = have && x == pt.exact[k]
				}
				if !ok {
					continue
				}
			}
			if pt.boundary {
				if x, have := at(b, tail, start-1); have && isDigit(x) {
					continue
				}
				if x, have := at(b, tail, end+1); have && isDigit(x) {
					continue
				}
			}
			if pt.word {
				if x, have := at(b, tail, start); have && isAlnum(x) {
					if y, have := at(b, tail, start-1); have && isAlnum(y) {
						continue
					}
				}
				if x, have := at(b, tail, end); have && isAlnum(x) {
					if y, have := at(b, tail, end+1); have && isAlnum(y) {
						continue
					}
				}
			}
			if pt.exact == nil && insidePseudoHost(b, tail, start, end) {
				continue
			}
			hits = append(hits, Hit{Frame: frame, Offset: base + int64(start), Len: pt.n, Category: pt.cat, Encoding: pt.enc, Ident: pt.ident})
		}
		if a.dict[s] < 0 {
			break
		}
	}
	return hits
}

// Stream scans a byte stream written to it in chunks of any size, as
// io.Writer: matches spanning chunks are found. Offsets are in the stream.
// A boundary-checked pattern ending exactly at a chunk end is checked against
// the end of the chunk only (it may report a number that the next chunk
// continues: a false positive, never a miss).
type Stream struct {
	c     *Checker
	st    scanState
	off   int64
	tail  []byte
	Frame int // written into hits; set it between frames when scanning frame by frame
	Hits  []Hit
	// MaxHits bounds Hits (0: 10000); further hits are counted in Missed.
	MaxHits int
	Missed  int
}

// NewStream returns a stream scanner.
func (c *Checker) NewStream() *Stream { return &Stream{c: c} }

// Write scans p. It never fails.
func (w *Stream) Write(p []byte) (int, error) {
	max := w.MaxHits
	if max == 0 {
		max = 10000
	}
	w.Hits = w.c.scan(&w.st, w.Frame, w.off, p, w.tail, w.Hits)
	if len(w.Hits) > max {
		w.Missed += len(w.Hits) - max
		w.Hits = w.Hits[:max]
	}
	w.off += int64(len(p))
	// keep the last maxLen bytes for matches that start in this chunk
	keep := w.c.maxLen
	if len(p) >= keep {
		w.tail = append(w.tail[:0], p[len(p)-keep:]...)
	} else {
		w.tail = append(w.tail, p...)
		if len(w.tail) > keep {
			w.tail = append(w.tail[:0], w.tail[len(w.tail)-keep:]...)
		}
	}
	return len(p), nil
}

// Offset returns the number of bytes scanned.
func (w *Stream) Offset() int64 { return w.off }

// Contains reports whether b holds any identifier (a convenience for tests).
func (c *Checker) Contains(b []byte) bool { return len(c.Scan(0, b, nil)) > 0 }

// PseudoHostSuffix ends every host name the anonymiser makes
// (h<7 characters>.example.invalid, RFC 2606). A text match lying inside
// such a name is a coincidence of the pseudorandom token (a host "1.ex"
// inside "hk2f9ab1.example.invalid"), not a leak: originals under
// ".invalid" are exempt, so none can be there by right.
const PseudoHostSuffix = ".example.invalid"

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'
}

// insidePseudoHost reports whether the match [start, end] lies within a
// run of host characters that ends with PseudoHostSuffix.
func insidePseudoHost(b, tail []byte, start, end int) bool {
	for i := start; i <= end; i++ {
		if x, ok := at(b, tail, i); !ok || !isHostByte(x) {
			return false
		}
	}
	e := end + 1 // one past the run
	for {
		x, ok := at(b, tail, e)
		if !ok || !isHostByte(x) {
			break
		}
		e++
	}
	n := len(PseudoHostSuffix)
	for k := 0; k < n; k++ {
		x, ok := at(b, tail, e-n+k)
		if !ok || fold[x] != PseudoHostSuffix[k] {
			return false
		}
	}
	return true
}
