// Package tlsdec decrypts captured TLS 1.2 and 1.3 connections from the
// secrets of an NSS key log (SSLKEYLOGFILE, tls.Config.KeyLogWriter,
// openssl -keylogfile, or a pcapng Decryption Secrets Block), in pure Go
// on the standard library's AEADs.
//
//	keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
//	keys.ReadFrom(f)                            // bad lines counted in keys.Stats()
//	s := tlsdec.NewSession(keys, func(d tlsdec.Direction, plain []byte) {
//		sip.Feed(d, plain)                      // plain is valid during the call only
//	}, tlsdec.Options{})
//	s.Feed(tlsdec.ClientToServer, segment)       // reassembled bytes of each direction,
//	s.Feed(tlsdec.ServerToClient, segment)       // in capture order between directions
//	st := s.Stats()                              // suite, version, records, st.Reason
//
// The ClientHello and ServerHello are read in the clear (client random,
// version including supported_versions, cipher suite). TLS 1.3 keys come
// from the handshake and application traffic secrets through
// HKDF-Expand-Label (RFC 8446 7), with KeyUpdate followed; TLS 1.2 keys
// from the master secret (CLIENT_RANDOM) through the PRF (RFC 5246 6.3).
// Suites: AES-128/256-GCM and ChaCha20-Poly1305 in both versions. CBC
// suites are refused (MAC-then-encrypt cannot be checked reliably), as
// are TLS 1.3 early data, versions before 1.2 and TLS 1.3 drafts; a TLS
// 1.2 renegotiation is not followed (its records then fail
// authentication, counted). A resumed TLS 1.2 session whose key log has
// no line of its own (Go logs full handshakes only) finds the master
// secret by ticket or session id from an earlier decrypted session of the
// same KeyLog. Every record not
// decrypted is counted per session with its Reason. Records are decrypted
// in place: no allocation per record once the buffers have grown.
package tlsdec
