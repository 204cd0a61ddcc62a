package srtpdec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
)

// This file is an independent SRTP/SRTCP sender written from RFC 3711
// (AES-CM, HMAC-SHA1, key derivation with KDR 0) and RFC 7714 (AES-GCM),
// so the tests do not check pion/srtp against itself.

// kdf is the SRTP key derivation of RFC 3711 4.3.1 with KDR 0 (and RFC
// 6188 for 256-bit keys): x = master_salt XOR (label << 48), keystream of
// AES-CM from IV x * 2^16. A 12-byte GCM salt is left-aligned (RFC 7714 11).
func kdf(masterKey, masterSalt []byte, label byte, n int) []byte {
	var iv [16]byte
	copy(iv[:], masterSalt)
	iv[7] ^= label
	return aesCM(masterKey, iv, make([]byte, n))
}

// aesCM XORs b with the AES counter-mode keystream starting at iv.
func aesCM(key []byte, iv [16]byte, b []byte) []byte {
	blk, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(b))
	cipher.NewCTR(blk, iv[:]).XORKeyStream(out, b)
	return out
}

// sender is one SRTP sender's session keys.
type sender struct {
	suite                       Suite
	rtpKey, rtpSalt, rtpAuth    []byte
	rtcpKey, rtcpSalt, rtcpAuth []byte
}

func newSender(k Key) *sender {
	kl := len(k.MasterKey)
	sl := 14
	if k.Suite == AEADAES128GCM || k.Suite == AEADAES256GCM {
		sl = 12
	}
	return &sender{
		suite:  k.Suite,
		rtpKey: kdf(k.MasterKey, k.MasterSalt, 0, kl), rtpAuth: kdf(k.MasterKey, k.MasterSalt, 1, 20), rtpSalt: kdf(k.MasterKey, k.MasterSalt, 2, sl),
		rtcpKey: kdf(k.MasterKey, k.MasterSalt, 3, kl), rtcpAuth: kdf(k.MasterKey, k.MasterSalt, 4, 20), rtcpSalt: kdf(k.MasterKey, k.MasterSalt, 5, sl),
	}
}

func (s *sender) tagLen() int {
	if s.suite == AESCM128HMACSHA1_32 || s.suite == AESCM256HMACSHA1_32 {
		return 4
	}
	return 10
}

// protectRTP encrypts and authenticates an RTP packet with a 12-byte
// header (no CSRC, no extension) at rollover counter roc.
func (s *sender) protectRTP(pkt []byte, roc uint32) []byte {
	hdr, payload := pkt[:12], pkt[12:]
	ssrc := binary.BigEndian.Uint32(hdr[8:])
	seq := binary.BigEndian.Uint16(hdr[2:])
	if s.suite == AEADAES128GCM || s.suite == AEADAES256GCM {
		// RFC 7714 8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt; AAD = header.
		var iv [12]byte
		binary.BigEndian.PutUint32(iv[2:], ssrc)
		binary.BigEndian.PutUint32(iv[6:], roc)
		binary.BigEndian.PutUint16(iv[10:], seq)
		for i := range iv {
			iv[i] ^= s.rtpSalt[i]
		}
		blk, _ := aes.NewCipher(s.rtpKey)
		g, _ := cipher.NewGCM(blk)
		return g.Seal(append([]byte(nil), hdr...), iv[:], payload, hdr)
	}
	// RFC 3711 4.1.1: IV = (salt * 2^16) XOR (SSRC * 2^64) XOR (index * 2^16).
	var iv [16]byte
	copy(iv[:], s.rtpSalt)
	index := uint64(roc)<<16 | uint64(seq)
	for i := range 4 {
		iv[4+i] ^= byte(ssrc >> (24 - 8*i))
	}
	for i := range 6 {
		iv[8+i] ^= byte(index >> (40 - 8*i))
	}
	out := append(append([]byte(nil), hdr...), aesCM(s.rtpKey, iv, payload)...)
	// RFC 3711 4.2: tag = HMAC-SHA1(auth key, packet || ROC), truncated.
	m := hmac.New(sha1.New, s.rtpAuth)
	m.Write(out)
	binary.Write(m, binary.BigEndian, roc)
	return append(out, m.Sum(nil)[:s.tagLen()]...)
}

// protectRTCP encrypts and authenticates an RTCP compound packet with
// SRTCP index idx (RFC 3711 3.4, 4.1.1): the first 8 bytes stay clear,
// then E-flag|index and an 80-bit tag follow.
func (s *sender) protectRTCP(pkt []byte, idx uint32) []byte {
	ssrc := binary.BigEndian.Uint32(pkt[4:])
	var iv [16]byte
	copy(iv[:], s.rtcpSalt)
	for i := range 4 {
		iv[4+i] ^= byte(ssrc >> (24 - 8*i))
	}
	for i := range 4 {
		iv[10+i] ^= byte(idx >> (24 - 8*i))
	}
	out := append(append([]byte(nil), pkt[:8]...), aesCM(s.rtcpKey, iv, pkt[8:])...)
	out = binary.BigEndian.AppendUint32(out, 1<<31|idx)
	m := hmac.New(sha1.New, s.rtcpAuth)
	m.Write(out)
	return append(out, m.Sum(nil)[:10]...)
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC3711Vectors checks the test sender against RFC 3711 Appendix
// B.2 (AES-CM keystream) and B.3 (key derivation), so it can be trusted
// as the independent side.
func TestRFC3711Vectors(t *testing.T) {
	var iv [16]byte
	copy(iv[:], unhex(t, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"))
	ks := aesCM(unhex(t, "2B7E151628AED2A6ABF7158809CF4F3C"), iv, make([]byte, 48))
	if want := unhex(t, "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"); string(ks) != string(want) {
		t.Fatalf("B.2 keystream %x", ks)
	}
	mk, ms := unhex(t, "E1F97A0D3E018BE0D64FA32C06DE4139"), unhex(t, "0EC675AD498AFEEBB6960B3AABE6")
	for _, v := range []struct {
		label byte
		want  string
	}{
		{0, "C61E7A93744F39EE10734AFE3FF7A087"},
		{2, "30CBBC08863D8C85D49DB34A9AE1"},
		{1, "CEBE321F6FF7716B6FD4AB49AF256A15"},
	} {
		want := unhex(t, v.want)
		if got := kdf(mk, ms, v.label, len(want)); string(got) != string(want) {
			t.Fatalf("B.3 label %d: %x, want %x", v.label, got, want)
		}
	}
}
