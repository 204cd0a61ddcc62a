package capture

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/voiptool/voiptool/sipflow"
)

// fillDistinct sets every field reachable in v to a non-zero value of
// its own (n counts them), so a field copied into the wrong place shows
// too. A type it does not know fails the test: a field added to Event
// later must be filled here, never skipped.
func fillDistinct(t *testing.T, v reflect.Value, path string, n *int) {
	t.Helper()
	*n++
	k := *n
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Unix(1e9+int64(k), int64(k))))
		return
	case reflect.TypeFor[netip.AddrPort]():
		v.Set(reflect.ValueOf(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(k >> 8), byte(k)}), uint16(k))))
		return
	case reflect.TypeFor[*sipflow.Message]():
		return // set by add's parse, checked apart
	case reflect.TypeFor[[]byte]():
		v.SetBytes(bytes.Repeat([]byte{byte(k)}, 64+k%32))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(k%100 + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		v.SetUint(uint64(k%100 + 1))
	case reflect.Array:
		for i := range v.Len() {
			fillDistinct(t, v.Index(i), path, n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				t.Fatalf("%s.%s: unexported field of %v; teach fillDistinct its type", path, f.Name, v.Type())
			}
			fillDistinct(t, v.Field(i), path+"."+f.Name, n)
		}
	default:
		t.Fatalf("%s: fillDistinct does not know %v; teach it, so the pipeline test covers the field", path, v.Type())
	}
}

// Every field of Event crosses the pipeline: pipeBatch.add carries each
// one, found by reflection, so a field added to Event later cannot be
// dropped or mixed up by the copy without this failing. Record and
// Payload arrive as copies in the batch's buffer (a payload lying in its
// record still shares the record's copy), and SIP is set only by the
// batch's own parse.
func TestPipeBatchCarriesEveryField(t *testing.T) {
	for _, kind := range []Kind{KindRTP, KindRTCP, KindHEP} {
		for _, inRecord := range []bool{true, false} {
			var ev Event
			n := 0
			fillDistinct(t, reflect.ValueOf(&ev).Elem(), "Event", &n)
			ev.Kind = kind
			if inRecord {
				ev.Layers.Payload = 10
				ev.Payload = ev.Record[10:40]
			} else {
				ev.Layers.Payload = -1
			}
			want := reflect.ValueOf(ev)
			for i := range want.NumField() {
				if f := want.Type().Field(i); f.Name != "SIP" && want.Field(i).IsZero() {
					t.Fatalf("Event.%s left zero by fillDistinct", f.Name)
				}
			}
			b := newPipeBatch()
			b.add(&ev, false, nil)
			got := reflect.ValueOf(b.evs[0])
			for i := range want.NumField() {
				name := want.Type().Field(i).Name
				switch name {
				case "Record", "Payload":
					g, w := got.Field(i).Bytes(), want.Field(i).Bytes()
					if !bytes.Equal(g, w) || &g[0] == &w[0] {
						t.Errorf("%v in record %v: %s not carried as a copy", kind, inRecord, name)
					}
				case "SIP":
					if !got.Field(i).IsNil() {
						t.Errorf("%v: SIP set on a non-SIP event", kind)
					}
				default:
					if !reflect.DeepEqual(got.Field(i).Interface(), want.Field(i).Interface()) {
						t.Errorf("%v in record %v: %s = %+v, want %+v", kind, inRecord, name, got.Field(i), want.Field(i))
					}
				}
			}
			it := &b.evs[0]
			if shared := &it.Payload[0] == &it.Record[10]; shared != inRecord {
				t.Errorf("%v: payload shares its record's copy: %v, want %v", kind, shared, inRecord)
			}
		}
	}
}
