package tlsdec

import (
	"crypto/hkdf"
	"crypto/hmac"
	"hash"
)

// expandLabel is HKDF-Expand-Label (RFC 8446 7.1) with an empty context:
//
//	struct {
//	    uint16 length = Length;
//	    opaque label<7..255> = "tls13 " + Label;
//	    opaque context<0..255> = Context;
//	} HkdfLabel;
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) ([]byte, error) {
	info := make([]byte, 0, 4+6+len(label))
	info = append(info, byte(length>>8), byte(length), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0) // empty context
	return hkdf.Expand(h, secret, string(info), length)
}

// prf12 is the TLS 1.2 PRF (RFC 5246 5): P_hash(secret, label + seed),
// with the suite's hash, filling out.
func prf12(h func() hash.Hash, secret []byte, label string, seed []byte, out []byte) {
	ls := append([]byte(label), seed...)
	mac := hmac.New(h, secret)
	mac.Write(ls)
	a := mac.Sum(nil) // A(1)
	for len(out) > 0 {
		mac.Reset()
		mac.Write(a)
		mac.Write(ls)
		out = out[copy(out, mac.Sum(nil)):]
		mac.Reset()
		mac.Write(a)
		a = mac.Sum(a[:0])
	}
}
