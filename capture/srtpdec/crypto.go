package srtpdec

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/srtp/v3"
)

// Suite is an SDES crypto suite (RFC 4568 6.2, RFC 6188, RFC 7714).
type Suite uint8

// Suites decrypted.
const (
	AESCM128HMACSHA1_80 Suite = iota + 1 // AES_CM_128_HMAC_SHA1_80
	AESCM128HMACSHA1_32                  // AES_CM_128_HMAC_SHA1_32
	AESCM256HMACSHA1_80                  // AES_256_CM_HMAC_SHA1_80 (RFC 6188)
	AESCM256HMACSHA1_32                  // AES_256_CM_HMAC_SHA1_32 (RFC 6188)
	AEADAES128GCM                        // AEAD_AES_128_GCM (RFC 7714)
	AEADAES256GCM                        // AEAD_AES_256_GCM (RFC 7714)
)

var suiteInfo = [...]struct {
	name    string
	profile srtp.ProtectionProfile
	keyLen  int
	saltLen int
}{
	AESCM128HMACSHA1_80: {"AES_CM_128_HMAC_SHA1_80", srtp.ProtectionProfileAes128CmHmacSha1_80, 16, 14},
	AESCM128HMACSHA1_32: {"AES_CM_128_HMAC_SHA1_32", srtp.ProtectionProfileAes128CmHmacSha1_32, 16, 14},
	AESCM256HMACSHA1_80: {"AES_256_CM_HMAC_SHA1_80", srtp.ProtectionProfileAes256CmHmacSha1_80, 32, 14},
	AESCM256HMACSHA1_32: {"AES_256_CM_HMAC_SHA1_32", srtp.ProtectionProfileAes256CmHmacSha1_32, 32, 14},
	AEADAES128GCM:       {"AEAD_AES_128_GCM", srtp.ProtectionProfileAeadAes128Gcm, 16, 12},
	AEADAES256GCM:       {"AEAD_AES_256_GCM", srtp.ProtectionProfileAeadAes256Gcm, 32, 12},
}

// String is the SDP spelling of the suite.
func (s Suite) String() string {
	if s > 0 && int(s) < len(suiteInfo) {
		return suiteInfo[s].name
	}
	return "unknown(" + strconv.Itoa(int(s)) + ")"
}

// ParseSuite reads an SDP crypto-suite name.
func ParseSuite(name string) (Suite, error) {
	for i := 1; i < len(suiteInfo); i++ {
		if suiteInfo[i].name == name {
			return Suite(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnsupportedSuite, name)
}

// Key is one SDES master key: what protects the packets one side sends.
type Key struct {
	Tag        int // a=crypto tag (0 when given as SSRC:KEY)
	Suite      Suite
	MasterKey  []byte
	MasterSalt []byte
	MKI        []byte // master key identifier carried in each packet, nil if none
	// UnencryptedSRTP, UnencryptedSRTCP: session parameters (RFC 4568
	// 6.3.2, 6.3.3): packets are authenticated but not encrypted.
	UnencryptedSRTP, UnencryptedSRTCP bool
}

// ParseCrypto parses the value of an SDP a=crypto attribute (RFC 4568
// 9.1), the part after "a=crypto:":
//
//	tag 1*WSP crypto-suite 1*WSP key-params *(1*WSP session-param)
//	key-params = "inline:" base64(key||salt) ["|" lifetime] ["|" MKI ":" length]
//
// Only the first of several key-params (";"-separated) is used.
func ParseCrypto(v string) (Key, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Key{}, fmt.Errorf("%w: %d fields, want tag, suite and key params", ErrBadCrypto, len(f))
	}
	tag, err := strconv.Atoi(f[0])
	if err != nil || tag < 0 || tag > 999999999 {
		return Key{}, fmt.Errorf("%w: tag %q", ErrBadCrypto, f[0])
	}
	suite, err := ParseSuite(f[1])
	if err != nil {
		return Key{}, err
	}
	k := Key{Tag: tag, Suite: suite}
	kp, _, _ := strings.Cut(f[2], ";")
	info, ok := strings.CutPrefix(kp, "inline:")
	if !ok {
		return Key{}, fmt.Errorf("%w: key method of %q is not inline", ErrBadCrypto, kp)
	}
	parts := strings.Split(info, "|")
	if err := k.setKeySalt(parts[0]); err != nil {
		return Key{}, err
	}
	for _, p := range parts[1:] {
		if mki, length, ok := strings.Cut(p, ":"); ok {
			val, err1 := strconv.ParseUint(mki, 10, 64)
			n, err2 := strconv.Atoi(length)
			if err1 != nil || err2 != nil || n < 1 || n > 128 {
				return Key{}, fmt.Errorf("%w: MKI %q", ErrBadCrypto, p)
			}
			k.MKI = make([]byte, n)
			for i := n - 1; i >= 0 && val > 0; i-- {
				k.MKI[i] = byte(val)
				val >>= 8
			}
		}
		// Otherwise a lifetime ("2^20" or a number): not enforced, a capture is read after the fact.
	}
	for _, sp := range f[3:] {
		switch sp {
		case "UNENCRYPTED_SRTP":
			k.UnencryptedSRTP = true
		case "UNENCRYPTED_SRTCP":
			k.UnencryptedSRTCP = true
		case "UNAUTHENTICATED_SRTP":
			return Key{}, fmt.Errorf("%w: UNAUTHENTICATED_SRTP", ErrUnsupportedSuite)
		}
		// KDR, FEC_ORDER, FEC_KEY, WSH: not needed to decrypt a capture
		// with KDR 0, the only rate in use.
	}
	return k, nil
}

// ParseSSRCKey parses "SSRC:BASE64", a key given by hand for one stream
// (SSRC in decimal or 0x-hex), protected with suite.
func ParseSSRCKey(s string, suite Suite) (uint32, Key, error) {
	ss, b64, ok := strings.Cut(s, ":")
	if !ok {
		return 0, Key{}, fmt.Errorf("%w: %q is not SSRC:BASE64", ErrBadCrypto, s)
	}
	ssrc, err := strconv.ParseUint(ss, 0, 32)
	if err != nil {
		return 0, Key{}, fmt.Errorf("%w: SSRC %q", ErrBadCrypto, ss)
	}
	if suite == 0 || int(suite) >= len(suiteInfo) {
		return 0, Key{}, fmt.Errorf("%w: %v", ErrUnsupportedSuite, suite)
	}
	k := Key{Suite: suite}
	if err := k.setKeySalt(b64); err != nil {
		return 0, Key{}, err
	}
	return uint32(ssrc), k, nil
}

// ParseKeyArg parses a key given on the command line (--srtp-key):
//
//	SSRC:BASE64          suite told by the length of key || salt: 30 bytes
//	                     AES_CM_128_HMAC_SHA1_80, 46 AES_256_CM_HMAC_SHA1_80,
//	                     28 AEAD_AES_128_GCM, 44 AEAD_AES_256_GCM
//	SSRC:SUITE:BASE64    any suite, by its SDP name (the 32-bit tag
//	                     suites need it: their keys are as long)
//
// SSRC is decimal or 0x-hex; base64 has no ':'.
func ParseKeyArg(s string) (uint32, Key, error) {
	ss, rest, ok := strings.Cut(s, ":")
	if !ok {
		return 0, Key{}, fmt.Errorf("%w: %q is not SSRC:BASE64 or SSRC:SUITE:BASE64", ErrBadCrypto, s)
	}
	if name, b64, ok := strings.Cut(rest, ":"); ok {
		suite, err := ParseSuite(name)
		if err != nil {
			return 0, Key{}, err
		}
		return ParseSSRCKey(ss+":"+b64, suite)
	}
	raw, err := decodeBase64(rest)
	if err != nil {
		return 0, Key{}, fmt.Errorf("%w: key is not base64: %v", ErrBadCrypto, err)
	}
	var suite Suite
	switch len(raw) {
	case 30:
		suite = AESCM128HMACSHA1_80
	case 46:
		suite = AESCM256HMACSHA1_80
	case 28:
		suite = AEADAES128GCM
	case 44:
		suite = AEADAES256GCM
	default:
		return 0, Key{}, fmt.Errorf("%w: %d bytes of key and salt fit no suite (30, 46, 28 or 44; or name the suite: SSRC:SUITE:BASE64)", ErrBadCrypto, len(raw))
	}
	return ParseSSRCKey(s, suite)
}

func decodeBase64(b64 string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(b64)
	}
	return raw, err
}

// setKeySalt splits base64(master key || master salt) by the suite's
// lengths. Padding is optional, as some endpoints omit it.
func (k *Key) setKeySalt(b64 string) error {
	raw, err := decodeBase64(b64)
	if err != nil {
		return fmt.Errorf("%w: key is not base64: %v", ErrBadCrypto, err)
	}
	in := suiteInfo[k.Suite]
	if len(raw) != in.keyLen+in.saltLen {
		return fmt.Errorf("%w: %v needs %d bytes of key and salt, got %d", ErrBadCrypto, k.Suite, in.keyLen+in.saltLen, len(raw))
	}
	k.MasterKey, k.MasterSalt = raw[:in.keyLen], raw[in.keyLen:]
	return nil
}

// SSRCKey is a key given by hand for one SSRC (--srtp-key).
type SSRCKey struct {
	SSRC uint32
	Key  Key
}
