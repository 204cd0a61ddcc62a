package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"net/netip"
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
