package sipflow

import (
	"net/netip"
	"reflect"
	"testing"
)

// fill sets every field of v (a struct, reached by pointer) to a non-zero
// value, recursively: slices to one element, numbers to 1, bools to true.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	if v.Type() == reflect.TypeOf(netip.Addr{}) {
		v.Set(reflect.ValueOf(netip.MustParseAddr("192.0.2.1")))
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(t, v.Field(i))
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0))
		v.Set(s)
	case reflect.Array:
		for i := range v.Len() {
			fill(t, v.Index(i))
		}
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	default:
		t.Fatalf("fill: no rule for %v", v.Type())
	}
}

// TestResetClearsEveryField decodes into a Message whose every field was
// set, and wants what a fresh Message decodes: reset clears field by
// field (see its comment), so a field added to Message and not to reset
// fails here.
func TestResetClearsEveryField(t *testing.T) {
	for _, raw := range []string{
		"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n",
		"SIP/2.0 200 OK\r\n\r\n",
	} {
		var used, fresh Message
		fill(t, reflect.ValueOf(&used).Elem())
		if err := used.Unmarshal([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		if err := fresh.Unmarshal([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		// the slices whose capacity reset keeps, emptied, are not nil
		for _, m := range []*Message{&used, &fresh} {
			if len(m.Headers) == 0 {
				m.Headers = nil
			}
			if len(m.Via) == 0 {
				m.Via = nil
			}
			if len(m.Contact) == 0 {
				m.Contact = nil
			}
			if len(m.XCallID) == 0 {
				m.XCallID = nil
			}
			if len(m.SDP.Media) == 0 {
				m.SDP.Media = nil
			}
		}
		if !reflect.DeepEqual(used, fresh) {
			t.Errorf("%q: decoded into a used Message\n%+v\nwant\n%+v", raw, used, fresh)
		}
	}
}
