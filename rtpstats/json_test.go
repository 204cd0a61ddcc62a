package rtpstats

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// jsonOracle is what encoding/json writes for r (compact, or indented
// with prefix and indent; HTML escaping off), or nil when it refuses r.
func jsonOracle(t testing.TB, r *StreamReport, indent bool) []byte {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if indent {
		e.SetIndent("  ", "\t")
	}
	if e.Encode(r) != nil {
		return nil
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// checkJSON holds AppendJSON to encoding/json: equal bytes when it
// answers, and no answer where encoding/json fails.
func checkJSON(t testing.TB, r *StreamReport) {
	t.Helper()
	for _, indent := range []bool{false, true} {
		want := jsonOracle(t, r, indent)
		got, ok := r.AppendJSON(nil)
		if indent {
			got, ok = r.AppendJSONIndent(nil, "  ", "\t")
		}
		if !ok {
			return // the caller falls back to encoding/json
		}
		if want == nil {
			t.Fatalf("AppendJSON encoded what encoding/json refuses: %s", got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON (indent %v) differs:\n got %s\nwant %s", indent, got, want)
		}
	}
}

// TestAppendJSONReports: every report of generated and real streams
// (RTCP, DTMF, series, links) encodes as encoding/json encodes it.
func TestAppendJSONReports(t *testing.T) {
	tr := NewTracker(Options{})
	tr.SetCallIDAt(natSDP, "A", tBase)
	tr.SetCodec(natSDP, 96, "opus", 48000)
	sendStream(t, tr, natPublic, natPeer, time.Second, 1, 96, 120)
	feed(t, tr, regular(0, 300))
	n := 0
	for _, r := range tr.Streams() {
		checkJSON(t, &r)
		if _, ok := r.AppendJSON(nil); ok {
			n++
		}
	}
	if n == 0 {
		t.Fatal("no report took the fast path")
	}
}

// FuzzAppendJSON fills reports with values derived from the input (odd
// floats, strings needing escapes, times far away, RTCP, XR, DTMF) and
// holds AppendJSON to encoding/json.
func FuzzAppendJSON(f *testing.F) {
	f.Add(uint64(1), "call@host", 0.1, int64(0))
	f.Add(uint64(2), "a\"b\\c\x01\u2028é", 1e-7, int64(-1<<62))
	f.Add(uint64(3), "", 1e21, int64(253402300800))
	f.Fuzz(func(t *testing.T, seed uint64, s string, x float64, sec int64) {
		rng := rand.New(rand.NewPCG(seed, uint64(sec)))
		fl := func() float64 {
			switch rng.IntN(8) {
			case 0:
				return x
			case 1:
				return -x
			case 2:
				return math.Float64frombits(rng.Uint64())
			case 3:
				return float64(rng.IntN(1000)) / 7
			default:
				return rng.NormFloat64() * math.Pow(10, float64(rng.IntN(50)-25))
			}
		}
		tm := func() time.Time {
			switch rng.IntN(4) {
			case 0:
				return time.Unix(sec, int64(rng.IntN(1e9))).UTC()
			case 1:
				return time.Unix(sec, 0).In(time.FixedZone("x", rng.IntN(100000)-50000))
			default:
				return tBase.Add(time.Duration(rng.Int64()))
			}
		}
		str := func() string {
			if rng.IntN(2) == 0 {
				return s
			}
			return "ok-" + string(rune('a'+rng.IntN(26)))
		}
		var r StreamReport
		v := reflect.ValueOf(&r).Elem()
		var fill func(v reflect.Value, depth int)
		fill = func(v reflect.Value, depth int) {
			switch v.Kind() {
			case reflect.Float64:
				v.SetFloat(fl())
			case reflect.Int, reflect.Int32:
				v.SetInt(rng.Int64N(1<<40) - 1<<39)
			case reflect.Uint8, reflect.Uint32:
				v.SetUint(rng.Uint64() & 0xffffffff & (1<<(8*v.Type().Size()) - 1))
			case reflect.Bool:
				v.SetBool(rng.IntN(2) == 0)
			case reflect.String:
				v.SetString(str())
			case reflect.Array:
				for i := range v.Len() {
					fill(v.Index(i), depth)
				}
			case reflect.Slice:
				if rng.IntN(3) == 0 || depth > 2 {
					return // nil
				}
				n := rng.IntN(3)
				v.Set(reflect.MakeSlice(v.Type(), n, n))
				for i := range n {
					fill(v.Index(i), depth+1)
				}
			case reflect.Pointer:
				if rng.IntN(2) == 0 || depth > 2 {
					return
				}
				v.Set(reflect.New(v.Type().Elem()))
				fill(v.Elem(), depth+1)
			case reflect.Struct:
				switch v.Type() {
				case reflect.TypeFor[time.Time]():
					v.Set(reflect.ValueOf(tm()))
				case reflect.TypeFor[netip.AddrPort]():
					if rng.IntN(3) > 0 {
						v.Set(reflect.ValueOf(netip.AddrPortFrom(netip.AddrFrom16([16]byte{15: byte(rng.IntN(256))}).Unmap(), uint16(rng.IntN(65536)))))
					}
				default:
					for i := range v.NumField() {
						fill(v.Field(i), depth)
					}
				}
			}
		}
		fill(v, 0)
		checkJSON(t, &r)
	})
}
