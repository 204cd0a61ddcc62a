package anon

import (
	"crypto/aes"
	"crypto/cipher"
	"net/netip"
)

// CryptoPAn is prefix-preserving address anonymisation (Xu, Fan, Ammar,
// Moon: "Prefix-Preserving IP Address Anonymization", ICNP 2002) on AES-128:
// two addresses sharing a k-bit prefix map to two addresses sharing a k-bit
// prefix, and no longer. IPv6 uses the same construction over 128 bits.
// Safe for concurrent use.
type CryptoPAn struct {
	block cipher.Block
	pad   [16]byte
}

// NewCryptoPAn takes the 32-byte key of the reference implementation: the
// first 16 bytes key AES, the last 16, encrypted, are the pad.
func NewCryptoPAn(key []byte) (*CryptoPAn, error) {
	if len(key) != 32 {
		return nil, ErrKeyLength
	}
	b, err := aes.NewCipher(key[:16])
	if err != nil {
		return nil, err
	}
	c := &CryptoPAn{block: b}
	b.Encrypt(c.pad[:], key[16:32])
	return c, nil
}

// Anonymize maps an address; an IPv4-mapped IPv6 address keeps its form and
// its IPv4 part is mapped as IPv4, so the same host is the same host. The
// zone is kept.
func (c *CryptoPAn) Anonymize(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	if a.Is4() {
		b := a.As4()
		c.anon(b[:])
		return netip.AddrFrom4(b)
	}
	if a.Is4In6() {
		b := a.Unmap().As4()
		c.anon(b[:])
		return netip.AddrFrom16(netip.AddrFrom4(b).As16()).WithZone(a.Zone())
	}
	b := a.As16()
	c.anon(b[:])
	return netip.AddrFrom16(b).WithZone(a.Zone())
}

// anon maps an address of 4 or 16 bytes in place. Bit i of the result is
// bit i of the input XOR the first bit of AES(first i input bits || the
// pad's remaining bits).
func (c *CryptoPAn) anon(addr []byte) {
	nbits := len(addr) * 8
	var in, out, mask [16]byte
	for i := 0; i < nbits; i++ {
		// in = first i bits of addr, then the pad from bit i on
		for k := 0; k < 16; k++ {
			in[k] = c.pad[k]
		}
		full := i / 8
		copy(in[:full], addr[:full])
		if r := i % 8; r != 0 {
			hi := byte(0xff) << (8 - r)
			in[full] = addr[full]&hi | c.pad[full]&^hi
		}
		c.block.Encrypt(out[:], in[:])
		mask[i/8] |= (out[0] >> 7) << (7 - i%8)
	}
	for k := range addr {
		addr[k] ^= mask[k]
	}
}
