// Package srtpdec decrypts and authenticates captured SRTP and SRTCP
// (RFC 3711) with SDES keys: from SDP a=crypto attributes (RFC 4568;
// AES_CM_128_HMAC_SHA1_80/32, AES_256_CM_HMAC_SHA1_80/32 of RFC 6188,
// AEAD_AES_128/256_GCM of RFC 7714) or given by hand as SSRC:BASE64.
//
//	k, err := srtpdec.ParseCrypto("1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz")
//	d := srtpdec.New(srtpdec.Options{})
//	d.SetSourceKey(offererMedia, k)      // the offer's key protects what the offerer sends
//	plain, err := d.RTP(ts, src, packet) // errors.Is(err, srtpdec.ErrAuth), ErrNoKey...
//	for _, st := range d.Streams() { ... st.RTP.AuthFailed ... }
//
// The ciphers are pion/srtp's (one srtp.Context per key, which tracks the
// rollover counter per SSRC). This package adds what a capture needs:
// keys bound to SSRCs or sources, counters per stream (authentication
// failures, packets without a key), a bounded stream table expired by
// packet time, no replay rejection (captures repeat packets), and
// rollover-counter guessing for a capture that starts after the first
// 65536 packets of a stream.
package srtpdec
