package safetext

import (
	"encoding/binary"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// needs reports whether b holds a byte or rune that Line (keepBreaks
// false) or Block (true) would change.
func needs(b []byte, keepBreaks bool) bool {
	for i := 0; i < len(b); {
		if i+8 <= len(b) && printable8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8 // eight printable ASCII bytes in one test (a CSV report sanitizes every cell)
			continue
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if !(keepBreaks && (c == '\n' || c == '\t' || c == '\r')) {
					return true
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 || r >= 0x80 && r <= 0x9f {
			return true
		}
		i += n
	}
	return false
}

// printable8 reports whether the eight bytes of x are all printable
// ASCII (0x20 to 0x7e): no high bit set, none that 1 added carries into
// it (0x7f), none below 0x20 (subtracting 0x20 borrows into it).
func printable8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (x|(x+ones)|(x-ones*0x20)&^x)&highs == 0
}

// appendText appends b to dst with every control escaped; with
// keepBreaks, line feeds and tabs stay and a CR before LF is dropped
// (CRLF becomes LF, as a terminal shows it anyway).
func appendText(dst, b []byte, keepBreaks bool) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			switch {
			case keepBreaks && (c == '\n' || c == '\t'):
				dst = append(dst, c)
			case keepBreaks && c == '\r' && i+1 < len(b) && b[i+1] == '\n':
				// CRLF: the LF comes next
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			n = 1
		case r >= 0x80 && r <= 0x9f: // C1 controls, e.g. U+009B CSI
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
		default:
			dst = append(dst, b[i:i+n]...)
		}
		i += n
	}
	return dst
}

// Line returns s fit for one line of a terminal: every control
// character, line breaks included, is shown as an escape.
func Line(s string) string {
	if !needs([]byte(s), false) {
		return s
	}
	return string(appendText(make([]byte, 0, len(s)+16), []byte(s), false))
}

// LineBytes is Line for a byte slice; it returns b itself when nothing
// needs escaping.
func LineBytes(b []byte) []byte {
	if !needs(b, false) {
		return b
	}
	return appendText(make([]byte, 0, len(b)+16), b, false)
}

// AppendLine appends the Line form of b to dst.
func AppendLine(dst, b []byte) []byte { return appendText(dst, b, false) }

// Block returns s fit for a terminal as several lines: line feeds and
// tabs are kept (CRLF becomes LF), every other control is escaped.
func Block(s string) string {
	if !needs([]byte(s), true) && !hasCR(s) {
		return s
	}
	return string(appendText(make([]byte, 0, len(s)+16), []byte(s), true))
}

// AppendBlock appends the Block form of b to dst.
func AppendBlock(dst, b []byte) []byte { return appendText(dst, b, true) }

// Safe reports whether s can be printed as one line unchanged.
func Safe(s string) bool { return !needs([]byte(s), false) }

func hasCR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' {
			return true
		}
	}
	return false
}
