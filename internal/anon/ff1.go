package anon

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math/big"
)

// FF1 is format-preserving encryption FF1 (NIST SP 800-38G, 6.2) on AES.
// It encrypts a string of numerals in a radix into another of the same
// length. Safe for concurrent use.
type FF1 struct {
	block cipher.Block
	radix int
}

// FF1 input bounds. SP 800-38G Rev. 1 asks radix^minlen >= 1,000,000; we
// accept the original SP 800-38G bound radix^minlen >= 100 (two decimal
// digits) because extensions of 2-5 digits must keep their length too. Such
// short domains are small permutations: they hide which extension is which,
// not how many there are.
const (
	ff1MinLen = 2
	ff1MaxLen = 1 << 16
)

// NewFF1 returns FF1 with an AES key of 16, 24 or 32 bytes.
func NewFF1(key []byte, radix int) (*FF1, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if radix < 2 || radix > 1<<16 {
		return nil, ErrFF1Numeral
	}
	return &FF1{block: b, radix: radix}, nil
}

// Encrypt encrypts the numerals x (each < radix) under tweak.
func (f *FF1) Encrypt(x []uint16, tweak []byte) ([]uint16, error) {
	return f.crypt(x, tweak, true)
}

// Decrypt inverts Encrypt.
func (f *FF1) Decrypt(x []uint16, tweak []byte) ([]uint16, error) {
	return f.crypt(x, tweak, false)
}

func (f *FF1) crypt(x []uint16, tweak []byte, enc bool) ([]uint16, error) {
	n := len(x)
	if n < ff1MinLen || n > ff1MaxLen {
		return nil, ErrFF1Length
	}
	for _, d := range x {
		if int(d) >= f.radix {
			return nil, ErrFF1Numeral
		}
	}
	radix := big.NewInt(int64(f.radix))
	u := n / 2
	v := n - u
	A := append([]uint16(nil), x[:u]...)
	B := append([]uint16(nil), x[u:]...)
	// b = ceil(ceil(v*log2(radix))/8): bytes of radix^v - 1
	rv := new(big.Int).Exp(radix, big.NewInt(int64(v)), nil)
	bLen := (new(big.Int).Sub(rv, big.NewInt(1)).BitLen() + 7) / 8
	d := 4*((bLen+3)/4) + 4
	t := len(tweak)
	// P = [1]1 [2]1 [1]1 [radix]3 [10]1 [u mod 256]1 [n]4 [t]4
	var P [16]byte
	P[0], P[1], P[2] = 1, 2, 1
	P[3], P[4], P[5] = byte(f.radix>>16), byte(f.radix>>8), byte(f.radix)
	P[6] = 10
	P[7] = byte(u)
	binary.BigEndian.PutUint32(P[8:], uint32(n))
	binary.BigEndian.PutUint32(P[12:], uint32(t))
	// the PRF of P alone is the same in every round
	var r0 [16]byte
	f.block.Encrypt(r0[:], P[:])
	pad := ((-t-bLen-1)%16 + 16) % 16
	Q := make([]byte, t+pad+1+bLen)
	copy(Q, tweak)
	rm := new(big.Int).Exp(radix, big.NewInt(int64(u)), nil)
	modU, modV := rm, rv
	S := make([]byte, ((d+15)/16)*16)
	y, c, na := new(big.Int), new(big.Int), new(big.Int)
	for k := 0; k < 10; k++ {
		i := k
		if !enc {
			i = 9 - k
		}
		// Q = T || 0^pad || [i]1 || [NUM(B)]b ; in decryption B is A's role
		src := B
		if !enc {
			src = A
		}
		Q[t+pad] = byte(i)
		num(src, radix, na)
		nb := na.Bytes()
		for j := t + pad + 1; j < len(Q); j++ {
			Q[j] = 0
		}
		copy(Q[len(Q)-len(nb):], nb)
		// R = CBC-MAC(P || Q) with zero IV
		R := r0
		for j := 0; j < len(Q); j += 16 {
			for l := 0; l < 16; l++ {
				R[l] ^= Q[j+l]
			}
			f.block.Encrypt(R[:], R[:])
		}
		copy(S, R[:])
		for j := 1; j*16 < d; j++ {
			var blk [16]byte
			binary.BigEndian.PutUint64(blk[8:], uint64(j))
			for l := range blk {
				blk[l] ^= R[l]
			}
			f.block.Encrypt(S[j*16:], blk[:])
		}
		y.SetBytes(S[:d])
		m, mod := u, modU
		if i%2 == 1 {
			m, mod = v, modV
		}
		if enc {
			num(A, radix, c)
			c.Add(c, y)
		} else {
			num(B, radix, c)
			c.Sub(c, y)
		}
		c.Mod(c, mod)
		C := str(c, radix, m)
		if enc {
			A, B = B, C
		} else {
			B, A = A, C
		}
	}
	return append(A, B...), nil
}

// num is NUM_radix(x) (SP 800-38G 4.5, Algorithm 1).
func num(x []uint16, radix *big.Int, out *big.Int) {
	out.SetInt64(0)
	d := new(big.Int)
	for _, v := range x {
		out.Mul(out, radix)
		out.Add(out, d.SetInt64(int64(v)))
	}
}

// str is STR^m_radix(x) (Algorithm 3): m numerals, most significant first.
func str(x *big.Int, radix *big.Int, m int) []uint16 {
	out := make([]uint16, m)
	q, r := new(big.Int).Set(x), new(big.Int)
	for i := m - 1; i >= 0; i-- {
		q.DivMod(q, radix, r)
		out[i] = uint16(r.Int64())
	}
	return out
}
