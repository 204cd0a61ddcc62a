package leak

import (
	"bytes"
	"github.com/voiptool/voiptool/internal/testpeer"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestForms(t *testing.T) {
	cases := []struct {
		name string
		cat  Category
		id   string
		in   string
		want Encoding // 0: no hit
	}{
		{"number digits", Number, "+4930123456", "To: <sip:4930123456@x>", Digits},
		{"number plus", Number, "+4930123456", "tel:+4930123456;x", Digits},
		{"number 00", Number, "+4930123456", "sip:004930123456@h", Prefix00},
		{"number national", Number, "+4930123456", "sip:030123456@h", National},
		{"number escaped plus", Number, "+4930123456", "sip:%2B4930123456@h", Escaped},
		{"number longer run is another number", Number, "+4930123456", "n=49301234567", 0},
		{"number with prefix digit is another number", Number, "+4930123456", "n=14930123456", 0},
		{"00 number: the short rest is no number", Number, "00005", "id 005abc", 0},
		{"number as seen with separators", Number, "+49-30-123456", "tel:+49-30-123456", Text},
		{"ipv4 dotted", IP, "192.168.1.20", "c=IN IP4 192.168.1.20\r\n", Dotted},
		{"ipv4 dotted not inside a longer quad", IP, "10.0.0.1", "x 110.0.0.12 y", 0},
		{"ipv4 raw", IP, "192.168.1.20", "\x45\x00\xc0\xa8\x01\x14\x00", RawBytes},
		{"ipv4 arpa", IP, "192.168.1.20", "20.1.168.192.in-addr.arpa", Arpa},
		{"ipv6 compressed", IP, "2001:db8::20", "[2001:db8::20]:5060", Compressed},
		{"ipv6 expanded upper case", IP, "2001:db8::20", "2001:0DB8:0000:0000:0000:0000:0000:0020", Expanded},
		{"ipv6 raw", IP, "2001:db8::20", "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20", RawBytes},
		{"mac colon", MAC, "00:15:65:12:34:56", "UA 00-15-65-12-34-56", MACText},
		{"mac cisco", MAC, "00:15:65:12:34:56", "0015.6512.3456", MACText},
		{"mac raw", MAC, "00:15:65:12:34:56", "\x00\x15\x65\x12\x34\x56", RawBytes},
		{"user case folded", User, "alice", "From: <sip:ALICE@x>", Text},
		{"user escaped", User, "al ice", "sip:al%20ice@x", Escaped},
		{"host", Host, "pbx.acme.com", "Via: SIP/2.0/UDP PBX.acme.com", Text},
		{"non-ASCII name as written", Name, "İlkay Öztürk", "From: \"İlkay Öztürk\" <sip:x@y>", Text},
		{"call-id", CallID, "a84b4c76e66710@host", "i: a84b4c76e66710@host", Text},
		{"call-id inside a longer token is another id", CallID, "0@localhost", "i: o472s4m0@localhost", 0},
		{"user inside a longer word is another word", User, "alice", "sip:malice@x", 0},
		{"user between punctuation", User, "alice", "sip:alice.smith@x", Text},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewSet(0)
			if !s.Add(c.cat, c.id) {
				t.Fatalf("%q exempt", c.id)
			}
			ch := NewChecker(s)
			hits := ch.Scan(7, []byte(c.in), nil)
			if c.want == 0 {
				if len(hits) != 0 {
					t.Fatalf("hits %v, want none", hits)
				}
				return
			}
			found := false
			for _, h := range hits {
				if h.Encoding == c.want && h.Category == c.cat && h.Frame == 7 {
					found = true
				}
			}
			if !found {
				t.Fatalf("hits %v, want encoding %v", hits, c.want)
			}
		})
	}
}

func TestExempt(t *testing.T) {
	cases := []struct {
		cat  Category
		v    string
		want bool
	}{
		{Number, "1001", true},   // extension: would match ports and lengths
		{Number, "12345", false}, // MinLen
		{IP, "127.0.0.1", true},
		{IP, "0.0.0.0", true}, // raw 0.0.0.0 is in every header
		{IP, "::", true},
		{IP, "::1", true},
		{IP, "224.0.1.75", true},
		{IP, "ff02::1", true},
		{IP, "255.255.255.255", true},
		{IP, "10.0.0.1", false},
		{IP, "not an ip", true},
		{MAC, "ff:ff:ff:ff:ff:ff", true},
		{MAC, "01:00:5e:00:00:01", true},
		{MAC, "00:00:00:00:00:00", true},
		{MAC, "00:15:65:12:34:56", false},
		{User, "bob", true}, // shorter than MinLen
		{User, "anonymous", true},
		{User, "invite", true}, // a method name
		{User, "phone", true},  // user=phone
		{User, "vite", true},   // inside INVITE
		{Host, "anonymous.invalid", true},
		{Host, "localhost", true},
		{Host, "acme.com", false},
		{Tag, "12345", true},
		{Tag, "1928301774", false},
	}
	for _, c := range cases {
		if got := Exempt(c.cat, c.v); got != c.want {
			t.Errorf("Exempt(%v, %q) = %v, want %v", c.cat, c.v, got, c.want)
		}
	}
}

func TestSetBound(t *testing.T) {
	s := NewSet(2)
	s.Add(User, "alice1")
	s.Add(User, "alice2")
	if s.Add(User, "alice3") || s.Dropped != 1 || s.Len() != 2 {
		t.Fatalf("bound: len %d dropped %d", s.Len(), s.Dropped)
	}
	if !s.Add(User, "ALICE1") { // already present (case-folded)
		t.Fatal("re-adding a held identifier refused")
	}
}

// naive finds every occurrence of every pattern by brute force: the
// reference the automaton must agree with.
func naive(c *Checker, b []byte) int {
	n := 0
	lb := make([]byte, len(b))
	for i, x := range b {
		lb[i] = fold[x]
	}
	for pi := range c.pats {
		p := &c.pats[pi]
		var pat []byte
		hay := lb
		if p.exact != nil {
			pat, hay = p.exact, b
		} else {
			pat = c.patBytes(pi)
		}
		for i := 0; i+len(pat) <= len(hay); i++ {
			if !bytes.Equal(hay[i:i+len(pat)], pat) {
				continue
			}
			if p.boundary && (i > 0 && isDigit(b[i-1]) || i+len(pat) < len(b) && isDigit(b[i+len(pat)])) {
				continue
			}
			if p.word && (i > 0 && isAlnum(b[i-1]) && isAlnum(b[i]) || i+len(pat) < len(b) && isAlnum(b[i+len(pat)]) && isAlnum(b[i+len(pat)-1])) {
				continue
			}
			n++
		}
	}
	return n
}

func naiveRaw(c *Checker, b []byte) int {
	n := 0
	for _, p := range c.rawPats {
		n += bytes.Count(b, p.exact)
	}
	return n
}

func (c *Checker) patBytes(i int) []byte { return c.raw[i] }

func TestAutomatonAgreesWithNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := []byte("ab01.:@x")
	for round := 0; round < 50; round++ {
		s := NewSet(0)
		for k := 0; k < 1+r.IntN(20); k++ {
			n := 6 + r.IntN(6)
			w := make([]byte, n)
			for i := range w {
				w[i] = alpha[r.IntN(len(alpha))]
			}
			s.Add(Token, string(w))
			s.Add(IP, netipString(r))
			s.Add(Number, "49"+strings.Repeat(string(rune('0'+r.IntN(3))), 5))
		}
		c := NewChecker(s)
		b := make([]byte, 3000)
		for i := range b {
			if r.IntN(4) == 0 {
				b[i] = byte(r.IntN(256))
			} else {
				b[i] = alpha[r.IntN(len(alpha))]
			}
		}
		// plant some patterns, text and raw
		for k := 0; k < 20; k++ {
			p := c.raw[r.IntN(len(c.raw))]
			if k%2 == 1 {
				p = c.rawPats[r.IntN(len(c.rawPats))].exact
			}
			at := r.IntN(len(b) - len(p))
			copy(b[at:], p)
		}
		want := naive(c, b) + naiveRaw(c, b)
		got := len(c.Scan(0, b, nil))
		if got != want {
			t.Fatalf("round %d: automaton %d hits, brute force %d", round, got, want)
		}
		// the same through a stream in odd chunks
		w := c.NewStream()
		for i := 0; i < len(b); {
			n := 1 + r.IntN(50)
			if i+n > len(b) {
				n = len(b) - i
			}
			w.Write(b[i : i+n])
			i += n
		}
		if len(w.Hits) < want {
			t.Fatalf("round %d: stream %d hits, want at least %d", round, len(w.Hits), want)
		}
		// and the goto/fail form
		c.a.dfa = nil
		if got := len(c.Scan(0, b, nil)); got != want {
			t.Fatalf("round %d: goto/fail form %d hits, want %d", round, got, want)
		}
	}
}

func netipString(r *rand.Rand) string {
	return strconv.Itoa(1+r.IntN(200)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(r.IntN(256)) + "." + strconv.Itoa(1+r.IntN(250))
}

func BenchmarkScan(b *testing.B) {
	s := NewSet(0)
	r := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 1000; k++ {
		s.Add(Number, "+49"+strconv.Itoa(100000000+r.IntN(899999999)))
		s.Add(IP, netipString(r))
		s.Add(User, "user"+strconv.Itoa(r.IntN(1e6)))
		s.Add(CallID, strconv.Itoa(r.IntN(1e9))+"abcdef@"+netipString(r))
	}
	c := NewChecker(s)
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(r.IntN(256))
	}
	b.Logf("%d identifiers, %d patterns, DFA %v", s.Len(), c.Patterns(), c.a.dfa != nil)
	b.SetBytes(int64(len(buf)))
	t0 := testpeer.CPUTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Scan(0, buf, nil)
	}
	testpeer.ReportCPU(b, t0, int64(len(buf)))
}
