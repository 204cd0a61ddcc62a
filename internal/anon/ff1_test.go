package anon

import (
	"encoding/hex"
	"math/rand/v2"
	"testing"
)

// NIST SP 800-38G sample vectors for FF1 ("FF1samples.pdf", Samples 1-9).
var ff1Samples = []struct {
	name  string
	key   string
	radix int
	tweak string
	pt    string
	ct    string
}{
	{"sample 1 AES-128 radix 10", "2B7E151628AED2A6ABF7158809CF4F3C", 10, "", "0123456789", "2433477484"},
	{"sample 2 AES-128 radix 10 tweak", "2B7E151628AED2A6ABF7158809CF4F3C", 10, "39383736353433323130", "0123456789", "6124200773"},
	{"sample 3 AES-128 radix 36", "2B7E151628AED2A6ABF7158809CF4F3C", 36, "3737373770717273373737", "0123456789abcdefghi", "a9tv40mll9kdu509eum"},
	{"sample 4 AES-192 radix 10", "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", 10, "", "0123456789", "2830668132"},
	{"sample 5 AES-192 radix 10 tweak", "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", 10, "39383736353433323130", "0123456789", "2496655549"},
	{"sample 6 AES-192 radix 36", "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", 36, "3737373770717273373737", "0123456789abcdefghi", "xbj3kv35jrawxv32ysr"},
	{"sample 7 AES-256 radix 10", "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", 10, "", "0123456789", "6657667009"},
	{"sample 8 AES-256 radix 10 tweak", "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", 10, "39383736353433323130", "0123456789", "1001623463"},
	{"sample 9 AES-256 radix 36", "2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F7F036D6F04FC6A94", 36, "3737373770717273373737", "0123456789abcdefghi", "xs8a0azh2avyalyzuwd"},
}

const digits36 = "0123456789abcdefghijklmnopqrstuvwxyz"

func toNumerals(s string) []uint16 {
	out := make([]uint16, len(s))
	for i := range s {
		for k := 0; k < len(digits36); k++ {
			if digits36[k] == s[i] {
				out[i] = uint16(k)
			}
		}
	}
	return out
}

func fromNumerals(x []uint16) string {
	b := make([]byte, len(x))
	for i, v := range x {
		b[i] = digits36[v]
	}
	return string(b)
}

func TestFF1Samples(t *testing.T) {
	for _, c := range ff1Samples {
		t.Run(c.name, func(t *testing.T) {
			key, _ := hex.DecodeString(c.key)
			tweak, _ := hex.DecodeString(c.tweak)
			f, err := NewFF1(key, c.radix)
			if err != nil {
				t.Fatal(err)
			}
			ct, err := f.Encrypt(toNumerals(c.pt), tweak)
			if err != nil {
				t.Fatal(err)
			}
			if got := fromNumerals(ct); got != c.ct {
				t.Fatalf("encrypt = %s, want %s", got, c.ct)
			}
			pt, err := f.Decrypt(ct, tweak)
			if err != nil {
				t.Fatal(err)
			}
			if got := fromNumerals(pt); got != c.pt {
				t.Fatalf("decrypt = %s, want %s", got, c.pt)
			}
		})
	}
}

func TestFF1RoundTripAndBounds(t *testing.T) {
	f, _ := NewFF1(make([]byte, 32), 10)
	r := rand.New(rand.NewPCG(5, 6))
	for n := 2; n < 40; n++ {
		x := make([]uint16, n)
		for i := range x {
			x[i] = uint16(r.IntN(10))
		}
		tw := []byte{byte(n)}
		y, err := f.Encrypt(x, tw)
		if err != nil || len(y) != n {
			t.Fatalf("n=%d: %v len %d", n, err, len(y))
		}
		z, _ := f.Decrypt(y, tw)
		if fromNumerals(z) != fromNumerals(x) {
			t.Fatalf("n=%d: round trip %v != %v", n, z, x)
		}
	}
	if _, err := f.Encrypt([]uint16{1}, nil); err != ErrFF1Length {
		t.Fatalf("1 numeral: err %v", err)
	}
	if _, err := f.Encrypt([]uint16{1, 10}, nil); err != ErrFF1Numeral {
		t.Fatalf("numeral 10 in radix 10: err %v", err)
	}
	// a permutation: every 2-digit value maps to a distinct one
	seen := map[string]bool{}
	for v := 0; v < 100; v++ {
		y, _ := f.Encrypt([]uint16{uint16(v / 10), uint16(v % 10)}, nil)
		seen[fromNumerals(y)] = true
	}
	if len(seen) != 100 {
		t.Fatalf("2-digit domain: %d distinct images, want 100", len(seen))
	}
}
