package jsonw

import (
	"math"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"
)

// Writer appends JSON to a byte slice, compact or indented (prefix, then
// indent per level; every object written has keys, and "[]" stays
// empty). The zero value is not ready: Reset or ResetIndent it.
type Writer struct {
	b              []byte
	ok             bool
	ind            bool
	prefix, indent string
	depth          int
	// nlBuf holds ",\n", prefix and fastDepth indents when they fit
	// (nlOK); Newline appends the start of it after the comma, Key the
	// start with or without it. (An array, not a slice of it: a pointer
	// into itself would move the Writer to the heap.)
	nlOK  bool
	nlBuf [64]byte
	// fast is nlOK at a depth within fastDepth, and nlEnd the end in
	// nlBuf of that depth's line break: both follow the depth (setDepth),
	// so a key's line break is one slice of nlBuf, not a computation.
	fast  bool
	nlEnd int
	// sec and secText are the last whole second Time wrote ("2006-01-02T15:04:05",
	// when secOK): the times of a summary mostly share one.
	secOK   bool
	sec     int64
	secText [19]byte
}

// fastDepth is the deepest level whose line break comes from nlBuf: a
// call summary's negotiation's media's codecs are six down. Appending
// the prefix and each level's indent one by one was a third of the time.
const fastDepth = 6

// Reset makes w append compact JSON to b.
func (w *Writer) Reset(b []byte) {
	*w = Writer{b: b, ok: true}
}

// ResetIndent makes w append JSON to b indented as json.Indent indents
// with prefix and indent.
func (w *Writer) ResetIndent(b []byte, prefix, indent string) {
	*w = Writer{b: b, ok: true, ind: true, prefix: prefix, indent: indent}
	if n := 2 + len(prefix) + fastDepth*len(indent); n <= len(w.nlBuf) {
		w.nlBuf[0], w.nlBuf[1] = ',', '\n'
		k := 2 + copy(w.nlBuf[2:], prefix)
		for range fastDepth {
			k += copy(w.nlBuf[k:], indent)
		}
		w.nlOK = true
	}
	w.setDepth(0)
}

// setDepth moves w to depth d.
func (w *Writer) setDepth(d int) {
	w.depth = d
	w.fast = w.ind && w.nlOK && d <= fastDepth
	if w.fast {
		w.nlEnd = 2 + len(w.prefix) + d*len(w.indent)
	}
}

// Bytes returns what was appended (with the slice given to Reset).
func (w *Writer) Bytes() []byte { return w.b }

// OK reports whether everything written so far was on the fast path.
func (w *Writer) OK() bool { return w.ok }

// Lit appends s as it is (null, a constant).
func (w *Writer) Lit(s string) { w.b = append(w.b, s...) }

// Int, Int64, Uint and Bool append numbers and booleans.
func (w *Writer) Int(n int) { w.Int64(int64(n)) }
func (w *Writer) Int64(n int64) {
	if n >= 0 {
		w.Uint(uint64(n))
		return
	}
	w.b = strconv.AppendInt(w.b, n, 10)
}
func (w *Writer) Bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// Uint writes the numbers up to 65535 (most of a summary's counters,
// codes and milliseconds) itself: strconv's call was a tenth of the
// encoding.
func (w *Writer) Uint(n uint64) {
	switch {
	case n < 10:
		w.b = append(w.b, byte('0'+n))
	case n < 100:
		w.b = append(w.b, byte('0'+n/10), byte('0'+n%10))
	case n <= 0xffff: // codes, milliseconds, ports: two digits at a time
		w.b = appendPort(w.b, uint16(n))
	default:
		w.b = strconv.AppendUint(w.b, n, 10)
	}
}

// Newline starts a line at the current depth when indenting.
func (w *Writer) Newline() {
	if !w.ind {
		return
	}
	if w.fast {
		w.b = append(w.b, w.nlBuf[1:w.nlEnd]...)
		return
	}
	w.b = append(w.b, '\n')
	w.b = append(w.b, w.prefix...)
	for range w.depth {
		w.b = append(w.b, w.indent...)
	}
}

// OpenObj and CloseObj bracket an object with at least one key.
func (w *Writer) OpenObj() {
	w.b = append(w.b, '{')
	w.setDepth(w.depth + 1)
}

// CloseObj ends the object OpenObj began.
func (w *Writer) CloseObj() {
	w.setDepth(w.depth - 1)
	w.Newline()
	w.b = append(w.b, '}')
}

// Slice writes s as encoding/json does: null when nil, "[]" when empty,
// else an array of each element.
func Slice[T any](w *Writer, s []T, each func(*T)) {
	if !w.arrayOpen(s == nil) {
		return
	}
	for i := range s {
		w.arrayElem(i)
		each(&s[i])
	}
	w.arrayClose(len(s))
}

// arrayOpen begins an array, or writes null for a nil slice and reports
// false. Slice and Strs share it, arrayElem and arrayClose.
func (w *Writer) arrayOpen(isNil bool) bool {
	if isNil {
		w.Lit("null")
		return false
	}
	w.b = append(w.b, '[')
	w.setDepth(w.depth + 1)
	return true
}

// arrayElem begins element i of the array.
func (w *Writer) arrayElem(i int) {
	if i > 0 {
		w.b = append(w.b, ',')
	}
	w.Newline()
}

// arrayClose ends an array of n elements.
func (w *Writer) arrayClose(n int) {
	w.setDepth(w.depth - 1)
	if n > 0 {
		w.Newline()
	}
	w.b = append(w.b, ']')
}

// Strs is Slice of s written with Str, without a call through a func
// value for each element (a summary has five lists of strings).
func (w *Writer) Strs(s []string) {
	if !w.arrayOpen(s == nil) {
		return
	}
	for i := range s {
		w.arrayElem(i)
		w.Str(s[i])
	}
	w.arrayClose(len(s))
}

// Key starts a member: a comma unless first, the line break, the quoted
// key (a constant of the encoder: never escaped) and the colon.
func (w *Writer) Key(k string, first bool) {
	w.memberStart(first)
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	if w.ind {
		w.b = append(w.b, '"', ':', ' ')
		return
	}
	w.b = append(w.b, '"', ':')
}

// Member is Key with the key given quoted, with its colon and a space
// (`"name": `, a constant of the encoder): the key's quotes and colon
// are then part of one append, not four. Compact, the space is left
// out. A member after the first is better written with Next.
func (w *Writer) Member(qk string, first bool) {
	if !w.fast {
		w.member(qk, first)
		return
	}
	w.b = append(append(w.b, w.nlBuf[w.nlLo(first):w.nlEnd]...), qk...)
}

// Next is Member(qk, false), the comma always there: without the
// choice it is small enough to be inlined (a call summary writes some
// hundred keys, and the call per key was a fifth of the encoding).
func (w *Writer) Next(qk string) {
	if !w.fast {
		w.member(qk, false)
		return
	}
	w.b = append(append(w.b, w.nlBuf[:w.nlEnd]...), qk...)
}

// nlLo is where in nlBuf a member's line break starts: after the comma
// when first.
func (w *Writer) nlLo(first bool) int {
	if first {
		return 1
	}
	return 0
}

// member is Member off its fast path.
func (w *Writer) member(qk string, first bool) {
	w.memberStart(first)
	if w.ind {
		w.b = append(w.b, qk...)
		return
	}
	w.b = append(w.b, qk[:len(qk)-1]...)
}

// memberStart writes what comes before a member's key: a comma unless
// first, and the line break. Indented within fastDepth both are one
// slice of nlBuf.
func (w *Writer) memberStart(first bool) {
	if w.fast {
		w.b = append(w.b, w.nlBuf[w.nlLo(first):w.nlEnd]...)
		return
	}
	if !first {
		w.b = append(w.b, ',')
	}
	w.Newline()
}

const hex = "0123456789abcdef"

// Str is encoding/json's string encoding with HTML escaping off: '"',
// '\\' and the C0 controls escaped (\b \f \n \r \t short, the rest
// \u00XX), each invalid UTF-8 byte as \ufffd, U+2028 and U+2029 as
// \u2028 and \u2029 (JSONP safety), everything else as is. SIP text is
// full of '<', '>' and '&', which the reports leave alone.
func (w *Writer) Str(s string) {
	if i := plainPrefix(s); i < len(s) {
		w.str(s, i)
		return
	}
	// Most strings of a summary need no escaping: one copy between the
	// quotes.
	w.b = append(append(append(w.b, '"'), s...), '"')
}

// plainPrefix is the length of the start of s that Str copies as it is.
// Every length is tested a word at a time: the last eight bytes
// overlapping the ones before, a shorter string as two overlapping
// halves (most of a summary's strings are a few bytes: byte by byte,
// their tests were a tenth of the encoding).
func plainPrefix(s string) int {
	n := len(s)
	var x uint64
	switch {
	case n >= 8:
		i := 0
		for ; i+8 <= n; i += 8 {
			if !plainWord(load8(s, i)) {
				return plainBytes(s, i)
			}
		}
		if i == n || plainWord(load8(s, n-8)) {
			return n
		}
		return plainBytes(s, i)
	case n >= 4:
		x = uint64(load4(s, 0)) | uint64(load4(s, n-4))<<32
	case n >= 2:
		x = uint64(s[0]) | uint64(s[1])<<8 | uint64(s[n-2])<<16 | uint64(s[n-1])<<24 | ones*'a'&^0xffffffff
	case n == 1:
		x = uint64(s[0]) | ones*'a'&^0xff
	default:
		return 0
	}
	if plainWord(x) {
		return n
	}
	return plainBytes(s, 0)
}

// plainBytes is plainPrefix from i on, byte by byte.
func plainBytes(s string, i int) int {
	for i < len(s) && plainTab[s[i]] != 0 { // one load and test a byte, not four
		i++
	}
	return i
}

// load4 is s[i:i+4] as a little-endian word.
func load4(s string, i int) uint32 {
	return uint32(s[i]) | uint32(s[i+1])<<8 | uint32(s[i+2])<<16 | uint32(s[i+3])<<24
}

// plainTab[c] is c when Str copies byte c as it is, else zero: the
// printable ASCII and DEL but '"' and '\\'.
const plainTab = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	" !\x00#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\x00]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// str is Str of s whose bytes before i need no escaping.
func (w *Writer) str(s string, i int) {
	b := append(w.b, '"')
	start := 0
	for i < len(s) {
		if i+8 <= len(s) && plainWord(load8(s, i)) {
			i += 8 // eight bytes as they are: one test, not eight
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	w.b = append(b, '"')
}

// Words of eight bytes, each 0x01 or 0x80.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load8 is s[i:i+8] as a little-endian word (one load: the compiler
// merges the eight).
func load8(s string, i int) uint64 {
	return uint64(load4(s, i)) | uint64(load4(s, i+4))<<32
}

// plainWord reports whether none of the eight bytes of x needs escaping
// in Str: no control, '"', '\\' or non-ASCII byte (tested on the eight
// at once: a byte below 0x20, or equal to a value, borrows into its
// high bit).
func plainWord(x uint64) bool {
	q, bs := x^(ones*'"'), x^(ones*'\\')
	return (x|(x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs == 0
}

// Float is encoding/json's float64 encoding: the shortest 'f' form, or
// 'e' for very small or large magnitudes with a one-digit exponent
// written without its leading zero. NaN and the infinities, which
// encoding/json refuses, make w not OK.
func (w *Writer) Float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		w.ok = false
		return
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	w.b = strconv.AppendFloat(w.b, f, format, -1, 64)
	if format == 'e' {
		if n := len(w.b); n >= 4 && w.b[n-4] == 'e' && w.b[n-3] == '-' && w.b[n-2] == '0' {
			w.b[n-2] = w.b[n-1]
			w.b = w.b[:n-1]
		}
	}
}

// minTimeSec and maxTimeSec are the Unix times of 0000-01-01 and
// 10000-01-01 UTC: MarshalJSON writes the years between.
const (
	minTimeSec = -62167219200
	maxTimeSec = 253402300800
)

// Time is time.Time.MarshalJSON (RFC 3339 with nanoseconds, quoted) for
// UTC times (every packet time, and the zero time) of the years it
// accepts; anything else makes w not OK.
func (w *Writer) Time(t time.Time) {
	if _, off := t.Zone(); off != 0 {
		w.ok = false
		return
	}
	sec, ns := t.Unix(), t.Nanosecond()
	if sec < minTimeSec || sec >= maxTimeSec { // the years 0-9999 at offset zero
		w.ok = false
		return
	}
	// RFC3339Nano's digits, the date and time of a second formatted
	// once (the times of a summary mostly share their second), by
	// formatSecond rather than AppendFormat.
	if !w.secOK || sec != w.sec {
		formatSecond(&w.secText, sec)
		w.sec, w.secOK = sec, true
	}
	b := append(w.b, '"')
	b = append(b, w.secText[:]...)
	if ns != 0 { // ".999999999": nine digits, the trailing zeros dropped
		var frac [10]byte
		frac[0] = '.'
		frac[1] = byte('0' + ns/1e8)
		r := ns % 1e8
		for i := 8; i > 0; i -= 2 { // two digits at a time, from the end
			p := r % 100
			frac[i], frac[i+1] = digitPairs[2*p], digitPairs[2*p+1]
			r /= 100
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	w.b = append(b, 'Z', '"') // the offset is zero: Z07:00 writes Z
}

// formatSecond writes the Unix time sec (of the years 0-9999) as
// "2006-01-02T15:04:05" in UTC, the proleptic Gregorian date from the
// day number as in Howard Hinnant's civil_from_days: AppendFormat's
// date split and its digit calls were a tenth of the encoding where
// the seconds of a summary's times differ. TestFormatSecond holds the
// two equal.
func formatSecond(t *[19]byte, sec int64) {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	z := days + 719468 // days since 0000-03-01
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097                                  // day of the 400-year era
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // year of the era
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // day of the year from March 1
	mp := (5*doy + 2) / 153                                // month from March
	day := doy - (153*mp+2)/5 + 1
	month := mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year := yoe + era*400
	if month <= 2 {
		year++
	}
	put2 := func(i int, v int64) { t[i], t[i+1] = digitPairs[2*v], digitPairs[2*v+1] }
	put2(0, year/100)
	put2(2, year%100)
	t[4] = '-'
	put2(5, month)
	t[7] = '-'
	put2(8, day)
	t[10] = 'T'
	put2(11, rem/3600)
	t[13] = ':'
	put2(14, rem/60%60)
	t[16] = ':'
	put2(17, rem%60)
}

// AddrPort is netip.AddrPort.MarshalText, quoted: "" when invalid.
// IPv4 (most of a summary's addresses) is formatted here, digit by
// digit; the rest by netip.
func (w *Writer) AddrPort(ap netip.AddrPort) {
	if a := ap.Addr(); a.Is4() {
		b := appendIPv4(append(w.b, '"'), a.As4())
		w.b = append(appendPort(append(b, ':'), ap.Port()), '"')
		return
	}
	w.b = append(w.b, '"')
	n := len(w.b)
	w.b, _ = ap.AppendText(w.b)
	w.plain(n)
	w.b = append(w.b, '"')
}

// Addr is netip.Addr.MarshalText, quoted: "" when invalid.
func (w *Writer) Addr(a netip.Addr) {
	if a.Is4() {
		w.b = append(appendIPv4(append(w.b, '"'), a.As4()), '"')
		return
	}
	w.b = append(w.b, '"')
	n := len(w.b)
	w.b, _ = a.AppendText(w.b)
	w.plain(n)
	w.b = append(w.b, '"')
}

// plain checks that the text appended from n on needs no escaping (an
// IPv6 zone is free text); when it would, w is not OK.
func (w *Writer) plain(n int) {
	for _, c := range w.b[n:] {
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			w.ok = false
			return
		}
	}
}

// appendIPv4 appends the dotted quad of ip, as netip writes it.
func appendIPv4(b []byte, ip [4]byte) []byte {
	b = appendByte(b, ip[0])
	b = appendByte(appendDot(b), ip[1])
	b = appendByte(appendDot(b), ip[2])
	return appendByte(appendDot(b), ip[3])
}

func appendDot(b []byte) []byte { return append(b, '.') }

// appendByte appends x in decimal, without leading zeros.
func appendByte(b []byte, x byte) []byte {
	switch {
	case x >= 100:
		return append(b, '0'+x/100, '0'+x/10%10, '0'+x%10)
	case x >= 10:
		return append(b, '0'+x/10, '0'+x%10)
	}
	return append(b, '0'+x)
}

// digitPairs is "00" to "99", two bytes each.
const digitPairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

// appendPort appends p in decimal, without leading zeros, two digits
// at a time (a port is mostly four or five).
func appendPort(b []byte, p uint16) []byte {
	switch {
	case p < 10:
		return append(b, byte('0'+p))
	case p < 100:
		return append(b, digitPairs[2*p], digitPairs[2*p+1])
	case p < 1000:
		lo := p % 100
		return append(b, byte('0'+p/100), digitPairs[2*lo], digitPairs[2*lo+1])
	case p < 10000:
		hi, lo := p/100, p%100
		return append(b, digitPairs[2*hi], digitPairs[2*hi+1], digitPairs[2*lo], digitPairs[2*lo+1])
	}
	r := p % 10000
	hi, lo := r/100, r%100
	return append(b, byte('0'+p/10000), digitPairs[2*hi], digitPairs[2*hi+1], digitPairs[2*lo], digitPairs[2*lo+1])
}
