package safetext

import (
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Linphone/5.2", "Linphone/5.2"},
		{"évolution ☎", "évolution ☎"},
		{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},             // retitle the terminal
		{"\x1b[2J", `\x1b[2J`},                               // clear it
		{"\x1b]52;c;ZXZpbA==\x07", `\x1b]52;c;ZXZpbA==\x07`}, // write the clipboard
		{"a\r\nb\tc", `a\x0d\x0ab\x09c`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b31m", `c1\u009b31m`}, // CSI as a C1 control
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{`back\slash`, `back\slash`},
	} {
		if got := Line(tt.in); got != tt.want {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(LineBytes([]byte(tt.in))); got != tt.want {
			t.Errorf("LineBytes(%q) = %q", tt.in, got)
		}
	}
}

func TestBlock(t *testing.T) {
	in := "INVITE sip:a@b SIP/2.0\r\nUser-Agent: x\x1b[2Jy\r\n\tfolded\r\n\r\n"
	want := "INVITE sip:a@b SIP/2.0\nUser-Agent: x\\x1b[2Jy\n\tfolded\n\n"
	if got := Block(in); got != want {
		t.Errorf("Block = %q, want %q", got, want)
	}
	if got := Block("lone\rCR"); got != `lone\x0dCR` {
		t.Errorf("a CR not before LF must be escaped: %q", got)
	}
}

func TestNoAllocWhenClean(t *testing.T) {
	s := strings.Repeat("Alice <sip:alice@example.com>;tag=1928301774 ", 4)
	if n := testing.AllocsPerRun(100, func() { _ = Line(s) }); n != 0 {
		t.Errorf("Line on clean text allocates %v times", n)
	}
	b := []byte(s)
	if n := testing.AllocsPerRun(100, func() { _ = LineBytes(b) }); n != 0 {
		t.Errorf("LineBytes on clean text allocates %v times", n)
	}
}

// FuzzLine: whatever comes in, what goes out holds no control character
// and no invalid UTF-8, and clean text is unchanged.
func FuzzLine(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;x\x07", "\xff", "\u009b", "a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Line(s), Block(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
			}
			for _, r := range out {
				if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
					t.Fatalf("control %U left in %q (from %q)", r, out, s)
				}
			}
		}
		if strings.ContainsAny(Line(s), "\n\t") {
			t.Fatalf("Line kept a break: %q", Line(s))
		}
		if Safe(s) && Line(s) != s {
			t.Fatalf("safe text changed")
		}
		for _, keep := range []bool{false, true} {
			if got, want := needs([]byte(s), keep), needsByByte([]byte(s), keep); got != want {
				t.Fatalf("needs(%q, %v) = %v, byte by byte %v", s, keep, got, want)
			}
		}
	})
}

// needsByByte is needs without its eight-byte skip.
func needsByByte(b []byte, keepBreaks bool) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(keepBreaks && (c == '\n' || c == '\t' || c == '\r')) {
				return true
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

// printable8 agrees with a byte-by-byte test on every byte value in
// every position of a word of otherwise printable bytes.
func TestPrintable8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			want := c >= 0x20 && c < 0x7f
			if got := printable8(binary.LittleEndian.Uint64(b)); got != want {
				t.Fatalf("byte %#x at %d: printable8 %v, want %v", c, pos, got, want)
			}
			for _, keep := range []bool{false, true} {
				long := string(b) + "0123456789"
				wantNeeds := !want && !(keep && (c == '\n' || c == '\t' || c == '\r'))
				if c >= 0x80 { // a lone high byte is invalid UTF-8
					wantNeeds = true
				}
				if got := needs([]byte(long), keep); got != wantNeeds {
					t.Fatalf("byte %#x at %d, keepBreaks %v: needs %v, want %v", c, pos, keep, got, wantNeeds)
				}
			}
		}
	}
}
