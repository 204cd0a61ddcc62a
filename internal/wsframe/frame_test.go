package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzRoundTrip: what Append writes, Parse reads back (first byte, mask,
// key, length, header length), and unmasking gives the payload again;
// Parse on a cut header says ErrShort, never a wrong header.
func FuzzRoundTrip(f *testing.F) {
	f.Add(byte(FIN|OpText), true, uint32(0x37fa213d), []byte("REGISTER sip:example.com SIP/2.0\r\n\r\n"), uint32(0))
	f.Add(byte(OpContinue), false, uint32(0), bytes.Repeat([]byte("a"), 126), uint32(0))
	f.Add(byte(FIN|OpBinary), true, uint32(1), bytes.Repeat([]byte("b"), 70000), uint32(0))
	f.Add(byte(FIN|OpPing), false, uint32(0), []byte("ka"), uint32(0))
	f.Fuzz(func(t *testing.T, b0 byte, masked bool, k uint32, payload []byte, extra uint32) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		fr := Append([]byte("x"), b0, masked, key, payload)[1:]
		h, err := Parse(fr)
		op := b0 & opcode
		valid := op <= OpBinary || (op >= OpClose && op <= OpPong && b0&FIN != 0 && len(payload) <= maxCtl)
		if !valid {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("opcode %#x fin %v len %d: %v, want ErrInvalid", op, b0&FIN != 0, len(payload), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(Append): %v", err)
		}
		if h.B0 != b0 || h.Masked != masked || (masked && h.Key != key) || h.Len != uint64(len(payload)) || h.HeaderLen+len(payload) != len(fr) {
			t.Fatalf("header %+v for b0 %#x masked %v key %v len %d (frame %d bytes)", h, b0, masked, key, len(payload), len(fr))
		}
		got := bytes.Clone(fr[h.HeaderLen:])
		if masked {
			Mask(got, key)
		}
		if !bytes.Equal(got, payload) {
			t.Fatal("payload does not come back")
		}
		if cut := int(extra % uint32(h.HeaderLen)); cut > 0 {
			if _, err := Parse(fr[:cut]); !errors.Is(err, ErrShort) {
				t.Fatalf("header cut at %d of %d: %v, want ErrShort", cut, h.HeaderLen, err)
			}
		}
	})
}

// A receiver accepts any length encoding; a 64-bit length with its top
// bit set is refused.
func TestParseLengths(t *testing.T) {
	long := []byte{FIN | OpText, 127, 0, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}
	if h, err := Parse(long); err != nil || h.Len != 5 || h.HeaderLen != 10 {
		t.Errorf("non-minimal 64-bit length: %+v %v", h, err)
	}
	long[2] = 0x80
	if _, err := Parse(long); !errors.Is(err, ErrInvalid) {
		t.Errorf("top bit set: %v", err)
	}
	if _, err := Parse([]byte{FIN | 0x3, 0}); !errors.Is(err, ErrInvalid) {
		t.Errorf("reserved opcode: %v", err)
	}
}

// Parse and Mask allocate nothing: the per-packet path runs them.
func TestAllocs(t *testing.T) {
	fr := Append(nil, FIN|OpText, true, [4]byte{1, 2, 3, 4}, bytes.Repeat([]byte("s"), 300))
	if n := testing.AllocsPerRun(100, func() {
		h, _ := Parse(fr)
		Mask(fr[h.HeaderLen:], h.Key)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
