package srtpdec

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"testing"
)

// FuzzParseCrypto: no attribute panics, and a parsed key written back as
// an attribute parses to the same key.
func FuzzParseCrypto(f *testing.F) {
	f.Add("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
	f.Add("2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:4 UNENCRYPTED_SRTCP")
	f.Add("1 AEAD_AES_128_GCM inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, v string) {
		k, err := ParseCrypto(v)
		if err != nil {
			return
		}
		s := strconv.Itoa(k.Tag) + " " + k.Suite.String() + " inline:" + base64.StdEncoding.EncodeToString(append(append([]byte(nil), k.MasterKey...), k.MasterSalt...))
		if k.MKI != nil {
			var mki uint64
			for _, b := range k.MKI[max(0, len(k.MKI)-8):] {
				mki = mki<<8 | uint64(b)
			}
			s += "|" + strconv.FormatUint(mki, 10) + ":" + strconv.Itoa(len(k.MKI))
		}
		if k.UnencryptedSRTP {
			s += " UNENCRYPTED_SRTP"
		}
		if k.UnencryptedSRTCP {
			s += " UNENCRYPTED_SRTCP"
		}
		k2, err := ParseCrypto(s)
		if err != nil {
			t.Fatalf("%q re-encoded as %q: %v", v, s, err)
		}
		if k2.Tag != k.Tag || k2.Suite != k.Suite || !bytes.Equal(k2.MasterKey, k.MasterKey) || !bytes.Equal(k2.MasterSalt, k.MasterSalt) ||
			!bytes.Equal(k2.MKI, k.MKI) || k2.UnencryptedSRTP != k.UnencryptedSRTP || k2.UnencryptedSRTCP != k.UnencryptedSRTCP {
			t.Fatalf("round trip: %+v != %+v", k2, k)
		}
	})
}

// FuzzParseKeyArg: no --srtp-key argument panics, and a parsed key
// written back in its explicit form (SSRC:SUITE:BASE64) parses to the
// same SSRC and key.
func FuzzParseKeyArg(f *testing.F) {
	f.Add("0x11223344:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
	f.Add("7:AES_CM_128_HMAC_SHA1_32:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
	f.Add("42:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, v string) {
		ssrc, k, err := ParseKeyArg(v)
		if err != nil {
			return
		}
		s := strconv.FormatUint(uint64(ssrc), 10) + ":" + k.Suite.String() + ":" + base64.StdEncoding.EncodeToString(append(append([]byte(nil), k.MasterKey...), k.MasterSalt...))
		ssrc2, k2, err := ParseKeyArg(s)
		if err != nil {
			t.Fatalf("%q re-encoded as %q: %v", v, s, err)
		}
		if ssrc2 != ssrc || k2.Suite != k.Suite || !bytes.Equal(k2.MasterKey, k.MasterKey) || !bytes.Equal(k2.MasterSalt, k.MasterSalt) {
			t.Fatalf("round trip: %d %+v != %d %+v", ssrc2, k2, ssrc, k)
		}
	})
}
