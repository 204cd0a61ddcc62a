package tlsdec

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// TestGoTLSLoopback runs the SIP call between Go's own TLS client and
// server on loopback for each TLS 1.2 AEAD suite and for TLS 1.3, and
// decrypts what passed on the wire with the key log Go wrote.
func TestGoTLSLoopback(t *testing.T) {
	ecdsaCert := testCert(t, false)
	rsaCert := testCert(t, true)
	tests := []struct {
		name    string
		rsa     bool
		version uint16
		suite   uint16
	}{
		{"tls12-ecdhe-ecdsa-aes128gcm", false, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		{"tls12-ecdhe-rsa-aes128gcm", true, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
		{"tls12-ecdhe-ecdsa-aes256gcm", false, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
		{"tls12-ecdhe-rsa-aes256gcm", true, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
		{"tls12-ecdhe-ecdsa-chacha20", false, tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
		{"tls12-ecdhe-rsa-chacha20", true, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
		{"tls13", false, tls.VersionTLS13, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert := ecdsaCert
			if tt.rsa {
				cert = rsaCert
			}
			chunks, keylog, cs := goCall(t, cert, tt.version, tt.suite)
			plain, st := decryptChunks(t, keyLogFrom(t, keylog), chunks)
			if st.Version != cs.Version || st.Suite != cs.CipherSuite {
				t.Fatalf("parsed version %#04x suite %#04x, negotiated %#04x %#04x", st.Version, st.Suite, cs.Version, cs.CipherSuite)
			}
			checkCall(t, plain, st)
			t.Logf("%s: %d+%d records decrypted, %d+%d application records", tls.CipherSuiteName(st.Suite),
				st.Dir[0].Decrypted, st.Dir[1].Decrypted, st.Dir[0].AppRecords, st.Dir[1].AppRecords)

			// Without the key the session is counted as "no key".
			_, st = decryptChunks(t, NewKeyLog(KeyLogOptions{}), chunks)
			if st.Reason != ReasonNoKey || st.Undecrypted[ReasonNoKey] == 0 {
				t.Fatalf("without keys: reason %v, counts %v", st.Reason, st.Undecrypted)
			}
		})
	}
}

// TestHelloRetryRequest: the server only accepts P-256 while the client
// guesses X25519 first, so the server answers with a HelloRetryRequest
// (a ServerHello with the special random) and the client says hello twice.
func TestHelloRetryRequest(t *testing.T) {
	chunks, keylog, cs := goCallWith(t, testCert(t, false), tls.VersionTLS13, 0, func(c, s *tls.Config) {
		c.CurvePreferences = []tls.CurveID{tls.X25519, tls.CurveP256}
		s.CurvePreferences = []tls.CurveID{tls.CurveP256}
	})
	if cs.CurveID != tls.CurveP256 {
		t.Fatalf("curve %v", cs.CurveID)
	}
	plain, st := decryptChunks(t, keyLogFrom(t, keylog), chunks)
	if !st.HelloRetry {
		t.Fatal("no HelloRetryRequest seen")
	}
	checkCall(t, plain, st)
}

// TestResumedSession: a TLS 1.2 session resumed from a ticket (an
// abbreviated handshake: the server's ChangeCipherSpec comes first) and a
// TLS 1.3 PSK resumption both decrypt from the resumed connection's key
// log lines.
func TestResumedSession(t *testing.T) {
	cert := testCert(t, false)
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cache := tls.NewLRUClientSessionCache(4)
		keys := NewKeyLog(KeyLogOptions{}) // one key log for both connections, as in a capture
		var resumed bool
		for range 2 {
			chunks, keylog, cs := goCallWith(t, cert, v, 0, func(c, s *tls.Config) {
				c.ClientSessionCache = cache
				c.ServerName = "sip.example.com"
				s.SetSessionTicketKeys([][32]byte{{1, 2, 3}}) // the same server across the two connections
			})
			keys.ReadFrom(bytes.NewReader(keylog))
			plain, st := decryptChunks(t, keys, chunks)
			checkCall(t, plain, st)
			resumed = cs.DidResume
			if resumed && v == tls.VersionTLS12 && len(keylog) != 0 {
				t.Fatal("Go now logs resumed TLS 1.2 sessions: the ticket path is no longer tested")
			}
		}
		if !resumed {
			t.Fatalf("version %#04x: second connection did not resume", v)
		}
	}
}
