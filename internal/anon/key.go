package anon

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"os"
)

// KeySize is the size of a master key in bytes.
const KeySize = 32

// Key is a master key. Every pseudonym is a function of the key and the
// original value only, so the same key gives the same pseudonyms in every
// run, and without it they cannot be reversed or recomputed.
type Key [KeySize]byte

// keySalt separates our derivation from any other use of the same passphrase.
const keySalt = "voiptool anonymize v1"

// KeyFromString derives a key from a passphrase with HKDF-SHA-256. A
// passphrase is only as strong as its entropy: HKDF does not slow down
// guessing, so share captures made with a random key (KeyFromFile) when the
// passphrase is weak.
func KeyFromString(s string) (Key, error) {
	var k Key
	if s == "" {
		return k, ErrEmptyKey
	}
	b, err := hkdf.Key(sha256.New, []byte(s), []byte(keySalt), "master key", KeySize)
	if err != nil {
		return k, err
	}
	copy(k[:], b)
	return k, nil
}

// KeyFromFile reads a key file: exactly 32 raw bytes, or 64 hex digits
// (surrounding white space ignored).
func KeyFromFile(path string) (Key, error) {
	var k Key
	b, err := os.ReadFile(path)
	if err != nil {
		return k, err
	}
	if len(b) == KeySize {
		copy(k[:], b)
		return k, nil
	}
	t := bytes.TrimSpace(b)
	if len(t) == 2*KeySize {
		if _, err := hex.Decode(k[:], t); err == nil {
			return k, nil
		}
	}
	return k, ErrKeyLength
}

// NewRandomKey returns a key from crypto/rand: pseudonyms of a run made with
// it cannot be linked to any other run.
func NewRandomKey() (Key, error) {
	var k Key
	_, err := rand.Read(k[:])
	return k, err
}

// subkey derives an independent key for one use of the master key.
func (k *Key) subkey(label string) []byte {
	h := hmac.New(sha256.New, k[:])
	h.Write([]byte("voiptool anonymize/" + label))
	return h.Sum(nil)
}
