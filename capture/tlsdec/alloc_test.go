package tlsdec

import "testing"

// TestDecryptAllocs: once a session's keys are installed, decrypting and
// emitting application data allocates nothing (records are opened in
// place in the direction's buffer).
func TestDecryptAllocs(t *testing.T) {
	for _, name := range []string{"tls12-ecdhe-ecdsa-aes128gcm", "tls13-aes128gcm", "tls12-ecdhe-ecdsa-chacha20"} {
		t.Run(name, func(t *testing.T) {
			keys := fixtureKeys(t, name)
			chunks := readPcapStreams(t, testdataPath(name+".pcap"), pcapServer.port)
			var emitted int
			emit := func(d Direction, p []byte) { emitted += len(p) }
			// The split: after the chunk that leaves both directions with
			// their application keys (key derivation is per phase, not per record).
			split := -1
			probe := NewSession(keys, emit, Options{})
			ready := func(s *Session) bool {
				for _, ds := range s.dir {
					if ds.aead == nil || (s.stats.Version == VersionTLS13 && !ds.appPhase) {
						return false
					}
				}
				return true
			}
			for i, c := range chunks {
				probe.Feed(c.dir, c.b)
				if ready(probe) {
					split = i + 1
					break
				}
			}
			if split < 0 {
				t.Fatal("no application data")
			}
			const runs = 20
			sessions := make([]*Session, runs+1)
			for i := range sessions {
				sessions[i] = NewSession(keys, emit, Options{})
				for _, c := range chunks[:split] {
					sessions[i].Feed(c.dir, c.b)
				}
				// Grow both buffers to a full record once, as a long-lived session has.
				for d := range sessions[i].dir {
					sessions[i].dir[d].buf = append(make([]byte, 0, recordHeaderLen+maxRecordLen), sessions[i].dir[d].buf...)
				}
			}
			n := 0
			emitted = 0
			allocs := testing.AllocsPerRun(runs, func() {
				s := sessions[n]
				n++
				for _, c := range chunks[split:] {
					s.Feed(c.dir, c.b)
				}
			})
			if allocs != 0 {
				t.Fatalf("%v allocations per session's application data", allocs)
			}
			if emitted == 0 || sessions[0].Stats().Reason != ReasonNone {
				t.Fatalf("nothing decrypted (%v)", sessions[0].Stats().Reason)
			}
		})
	}
}

// BenchmarkDecrypt decrypts a whole committed session, handshake included.
func BenchmarkDecrypt(b *testing.B) {
	for _, name := range []string{"tls12-ecdhe-ecdsa-aes128gcm", "tls13-aes128gcm", "tls13-chacha20-keyupdate"} {
		b.Run(name, func(b *testing.B) {
			keys := fuzzKeys(b)
			chunks := readPcapStreams(b, testdataPath(name+".pcap"), pcapServer.port)
			var total int
			for _, c := range chunks {
				total += len(c.b)
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				s := NewSession(keys, nil, Options{})
				for _, c := range chunks {
					s.Feed(c.dir, c.b)
				}
				if s.Stats().Reason != ReasonNone {
					b.Fatal(s.Stats().Reason)
				}
			}
		})
	}
}
