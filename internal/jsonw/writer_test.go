package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

// encode is what encoding/json writes for v with HTML escaping off,
// compact or indented, without the trailing newline.
func encode(t *testing.T, v any, indent bool) ([]byte, bool) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("> ", "\t")
	}
	if err := enc.Encode(v); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), true
}

type sample struct {
	S  string         `json:"s"`
	F  float64        `json:"f"`
	T  time.Time      `json:"t"`
	AP netip.AddrPort `json:"ap"`
	A  []netip.Addr   `json:"a"`
	N  []int          `json:"n"`
	I  int64          `json:"i"`
}

func (s *sample) write(w *Writer) {
	w.OpenObj()
	w.Key("s", true)
	w.Str(s.S)
	w.Key("f", false)
	w.Float(s.F)
	w.Key("t", false)
	w.Time(s.T)
	w.Key("ap", false)
	w.AddrPort(s.AP)
	w.Key("a", false)
	Slice(w, s.A, func(a *netip.Addr) { w.Addr(*a) })
	w.Key("n", false)
	Slice(w, s.N, func(n *int) { w.Int(*n) })
	w.Key("i", false)
	w.Int64(s.I)
	w.CloseObj()
}

// FuzzWriter: whatever the Writer writes while OK is what encoding/json
// writes, compact and indented; where it is not OK encoding/json either
// refuses the value or writes something the fast path leaves to it.
func FuzzWriter(f *testing.F) {
	f.Add("a\"b\\c\x01\u2028é<>&", 0.1, int64(0), "[fe80::1%eth0]:5060", uint8(2))
	f.Add("\xff\xfe", 1e-7, int64(-1<<62), "10.0.0.1:1", uint8(0))
	f.Add("", 1e21, int64(253402300800), "", uint8(1))
	f.Add("x", math.Inf(1), int64(1), "[::1%\"]:1", uint8(3))
	f.Fuzz(func(t *testing.T, s string, fl float64, sec int64, ap string, n uint8) {
		v := sample{S: s, F: fl, T: time.Unix(sec%(1<<40), 0).UTC(), I: sec}
		v.AP, _ = netip.ParseAddrPort(ap)
		if n%4 != 0 {
			v.A = []netip.Addr{}
			v.N = []int{}
			for i := range int(n % 4) {
				v.A = append(v.A, v.AP.Addr())
				v.N = append(v.N, i*int(sec%1000))
			}
		}
		for _, ind := range []bool{false, true} {
			var w Writer
			if ind {
				w.ResetIndent([]byte("x"), "> ", "\t")
			} else {
				w.Reset([]byte("x"))
			}
			v.write(&w)
			want, ok := encode(t, &v, ind)
			if !w.OK() {
				continue // left to encoding/json
			}
			if !ok {
				t.Fatalf("fast path wrote %q for a value encoding/json refuses", w.Bytes())
			}
			if got := w.Bytes(); string(got) != "x"+string(want) {
				t.Fatalf("indent %v:\n got %s\nwant x%s", ind, got, want)
			}
		}
	})
}

// The Writer appends in place without allocating once its buffer has
// grown.
func TestWriterAllocs(t *testing.T) {
	v := sample{S: "sip:alice@example.com;tag=1", F: 4.35, T: time.Unix(1e9, 5).UTC(), AP: netip.MustParseAddrPort("10.0.0.1:5060"),
		A: []netip.Addr{netip.MustParseAddr("10.0.0.2")}, N: []int{1, 2}}
	buf := make([]byte, 0, 4096)
	var w Writer
	if n := testing.AllocsPerRun(100, func() {
		w.ResetIndent(buf[:0], "", "  ")
		v.write(&w)
	}); n != 0 {
		t.Errorf("%v allocations per value", n)
	}
	if !w.OK() {
		t.Fatal("an ordinary value left the fast path")
	}
}

// checkTimes writes ts one after the other with one Writer (the second
// of the one before is cached) and holds each to time.Time.MarshalJSON:
// the same text when the Writer stays OK, and it stays OK whenever
// MarshalJSON succeeds on a time at offset zero.
func checkTimes(t *testing.T, ts ...time.Time) {
	t.Helper()
	var w Writer
	w.ResetIndent(nil, "", "  ")
	for _, tm := range ts {
		start := len(w.Bytes())
		w.Time(tm)
		want, err := tm.MarshalJSON()
		_, off := tm.Zone()
		switch {
		case !w.OK():
			if err == nil && off == 0 {
				t.Fatalf("%v left the fast path; MarshalJSON writes %s", tm, want)
			}
			w.ResetIndent(nil, "", "  ")
		case err != nil || off != 0:
			t.Fatalf("%v: fast path wrote %s; MarshalJSON: %s %v", tm, w.Bytes()[start:], want, err)
		case string(w.Bytes()[start:]) != string(want):
			t.Fatalf("%v: got %s, want %s", tm, w.Bytes()[start:], want)
		}
	}
}

// Time writes what MarshalJSON writes: fractions with their trailing
// zeros dropped, times before 1970, the first and last second of the
// years it writes, a zone at offset zero other than UTC, the zero time,
// and a cached second followed by another.
func TestWriterTimes(t *testing.T) {
	base := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	checkTimes(t,
		base, base.Add(235*time.Millisecond), base.Add(200*time.Millisecond), base.Add(time.Second),
		base.Add(time.Second+1), base.Add(time.Second+999999999), base.Add(time.Second+10), base.Add(time.Second+120000),
		time.Time{}, time.Unix(-1, 500000000).UTC(), time.Unix(0, 0).UTC(), time.Unix(0, 1).UTC(),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		base.In(time.FixedZone("GMT", 0)), base.In(time.FixedZone("CET", 3600)), base.Add(5*time.Nanosecond),
		base.Add(5*time.Nanosecond), base,
	)
}

// FuzzWriterTime: two times in a row (the second may hit the cached
// second of the first) written as MarshalJSON writes them.
func FuzzWriterTime(f *testing.F) {
	f.Add(int64(1767261600), int64(235000000), int64(0), int64(1))
	f.Add(int64(-62167219200), int64(0), int64(253402300799), int64(999999999))
	f.Add(int64(-1), int64(1), int64(-1), int64(10))
	f.Fuzz(func(t *testing.T, s1, n1, ds, n2 int64) {
		t1 := time.Unix(s1%(1<<38), n1).UTC()
		t2 := time.Unix(t1.Unix()+ds%3, n2).UTC()
		checkTimes(t, t1, t2)
	})
}

// The digits written by hand (ports, IPv4 bytes, small counters) are
// netip's and strconv's for every value.
func TestDigits(t *testing.T) {
	for p := range 1 << 16 {
		ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(p), byte(p >> 8), byte(p * 7), 0}), uint16(p))
		var w Writer
		w.Reset(nil)
		w.AddrPort(ap)
		w.Addr(ap.Addr())
		w.Uint(uint64(p))
		w.Int64(int64(p) - 50)
		want := `"` + ap.String() + `""` + ap.Addr().String() + `"` + strconv.Itoa(p) + strconv.Itoa(p-50)
		if got := string(w.Bytes()); got != want {
			t.Fatalf("%d: got %s, want %s", p, got, want)
		}
	}
}

// plainWord agrees with the byte-by-byte test on every byte value in every
// position of a word of otherwise plain bytes.
func TestPlain8(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			if got := plainWord(load8(string(b), 0)); got != want {
				t.Fatalf("byte %#x at %d: plainWord %v, want %v", c, pos, got, want)
			}
		}
	}
}

// formatSecond writes what time.Format writes for every day of the
// years 0-9999, at a time of day that moves through the day, and for
// the first and last second of each day near the epoch and the ends.
func TestFormatSecond(t *testing.T) {
	const layout = "2006-01-02T15:04:05"
	check := func(sec int64) {
		var got [19]byte
		formatSecond(&got, sec)
		if want := time.Unix(sec, 0).UTC().Format(layout); string(got[:]) != want {
			t.Fatalf("%d: got %s, want %s", sec, got[:], want)
		}
	}
	for day := int64(minTimeSec / 86400); day < maxTimeSec/86400; day++ {
		check(day*86400 + (day*7919%86400+86400)%86400)
	}
	for _, day := range []int64{minTimeSec / 86400, -1, 0, 1, maxTimeSec/86400 - 1} {
		check(day * 86400)
		check(day*86400 + 86399)
	}
}

// plainTab agrees with the byte-by-byte test on every byte value.
func TestPlainTab(t *testing.T) {
	if len(plainTab) != 256 {
		t.Fatalf("plainTab has %d bytes", len(plainTab))
	}
	for c := range 256 {
		want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
		if got := plainTab[c] != 0; got != want {
			t.Fatalf("byte %#x: plainTab %v, want %v", c, got, want)
		}
		if got := plainPrefix(string([]byte{'a', byte(c)})); got != 1+btoi(want) {
			t.Fatalf("byte %#x: plainPrefix %d", c, got)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// plainPrefix finds the first byte to escape, at every position of
// strings of every length up to twenty (the word tests overlap
// differently at each), as the byte-by-byte test does.
func TestPlainPrefix(t *testing.T) {
	for n := range 21 {
		for pos := range n {
			for c := range 256 {
				b := []byte("abcdefghijklmnopqrstu"[:n])
				b[pos] = byte(c)
				want := n
				if !(c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
					want = pos
				}
				if got := plainPrefix(string(b)); got != want {
					t.Fatalf("%q: plainPrefix %d, want %d", b, got, want)
				}
			}
		}
	}
}
