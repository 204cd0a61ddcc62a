package tlsdec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/sha512"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// TLS protocol versions as they appear on the wire.
const (
	VersionTLS10 = 0x0301
	VersionTLS11 = 0x0302
	VersionTLS12 = 0x0303
	VersionTLS13 = 0x0304
)

type aeadKind uint8

const (
	aeadNone aeadKind = iota
	aeadAESGCM
	aeadChaCha
	aeadCBC // recognised so the refusal can say why
)

// suite is what decryption needs to know of a cipher suite.
type suite struct {
	id     uint16
	tls13  bool
	kind   aeadKind
	keyLen int
	sha384 bool // PRF / HKDF hash: SHA-384, else SHA-256
}

// suites lists the AEAD suites decrypted (RFC 8446 B.4, RFC 5288, RFC
// 5289, RFC 7905) and the common CBC suites, which are refused by name.
var suites = [...]suite{
	{0x1301, true, aeadAESGCM, 16, false},  // TLS_AES_128_GCM_SHA256
	{0x1302, true, aeadAESGCM, 32, true},   // TLS_AES_256_GCM_SHA384
	{0x1303, true, aeadChaCha, 32, false},  // TLS_CHACHA20_POLY1305_SHA256
	{0xc02b, false, aeadAESGCM, 16, false}, // ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	{0xc02c, false, aeadAESGCM, 32, true},  // ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	{0xc02f, false, aeadAESGCM, 16, false}, // ECDHE_RSA_WITH_AES_128_GCM_SHA256
	{0xc030, false, aeadAESGCM, 32, true},  // ECDHE_RSA_WITH_AES_256_GCM_SHA384
	{0x009c, false, aeadAESGCM, 16, false}, // RSA_WITH_AES_128_GCM_SHA256
	{0x009d, false, aeadAESGCM, 32, true},  // RSA_WITH_AES_256_GCM_SHA384
	{0x009e, false, aeadAESGCM, 16, false}, // DHE_RSA_WITH_AES_128_GCM_SHA256
	{0x009f, false, aeadAESGCM, 32, true},  // DHE_RSA_WITH_AES_256_GCM_SHA384
	{0xcca8, false, aeadChaCha, 32, false}, // ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	{0xcca9, false, aeadChaCha, 32, false}, // ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	{0xccaa, false, aeadChaCha, 32, false}, // DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	{0x002f, false, aeadCBC, 0, false},     // RSA_WITH_AES_128_CBC_SHA
	{0x0035, false, aeadCBC, 0, false},     // RSA_WITH_AES_256_CBC_SHA
	{0x003c, false, aeadCBC, 0, false},     // RSA_WITH_AES_128_CBC_SHA256
	{0x003d, false, aeadCBC, 0, false},     // RSA_WITH_AES_256_CBC_SHA256
	{0x000a, false, aeadCBC, 0, false},     // RSA_WITH_3DES_EDE_CBC_SHA
	{0xc009, false, aeadCBC, 0, false},     // ECDHE_ECDSA_WITH_AES_128_CBC_SHA
	{0xc00a, false, aeadCBC, 0, false},     // ECDHE_ECDSA_WITH_AES_256_CBC_SHA
	{0xc013, false, aeadCBC, 0, false},     // ECDHE_RSA_WITH_AES_128_CBC_SHA
	{0xc014, false, aeadCBC, 0, false},     // ECDHE_RSA_WITH_AES_256_CBC_SHA
	{0xc023, false, aeadCBC, 0, false},     // ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
	{0xc024, false, aeadCBC, 0, false},     // ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
	{0xc027, false, aeadCBC, 0, false},     // ECDHE_RSA_WITH_AES_128_CBC_SHA256
	{0xc028, false, aeadCBC, 0, false},     // ECDHE_RSA_WITH_AES_256_CBC_SHA384
	{0x0033, false, aeadCBC, 0, false},     // DHE_RSA_WITH_AES_128_CBC_SHA
	{0x0039, false, aeadCBC, 0, false},     // DHE_RSA_WITH_AES_256_CBC_SHA
}

func lookupSuite(id uint16) (suite, bool) {
	for _, s := range suites {
		if s.id == id {
			return s, true
		}
	}
	return suite{}, false
}

func (s suite) hash() func() hash.Hash {
	if s.sha384 {
		return sha512.New384
	}
	return sha256.New
}

func (s suite) hashLen() int {
	if s.sha384 {
		return 48
	}
	return 32
}

// fixedIVLen is the implicit part of the nonce: 4 bytes of salt for TLS
// 1.2 GCM (RFC 5288 3), the full 12-byte IV otherwise (RFC 7905, RFC 8446).
func (s suite) fixedIVLen() int {
	if !s.tls13 && s.kind == aeadAESGCM {
		return 4
	}
	return 12
}

func (s suite) newAEAD(key []byte) (cipher.AEAD, error) {
	if s.kind == aeadChaCha {
		return chacha20poly1305.New(key)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
