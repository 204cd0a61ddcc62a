package sipflow

import "testing"

// TestDelimMask checks URI.parse's eight-byte skip against every byte in
// every position: it must never pass over one of : ; < = > ? @.
func TestDelimMask(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			w := []byte("aaaaaaaa")
			w[pos] = byte(c)
			m := delimMask(uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56)
			free := m == 0
			if m != 0 && m != 0x80<<(8*pos) {
				t.Fatalf("byte %#x at %d: mask %#x", c, pos, m)
			}
			if isDelim := c >= ':' && c <= '@'; isDelim && free {
				t.Fatalf("byte %#x at %d passed as free", c, pos)
			} else if !isDelim && c < 0x80 && !free {
				t.Errorf("ASCII byte %#x at %d taken for a delimiter", c, pos)
			}
		}
	}
}
