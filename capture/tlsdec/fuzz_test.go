package tlsdec

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// encodeChunks is the fuzz input format of FuzzSession: per chunk one
// byte of direction, two of length, then the bytes.
func encodeChunks(chunks []chunk) []byte {
	var b []byte
	for _, c := range chunks {
		for p := c.b; len(p) > 0; {
			n := min(len(p), 0xffff)
			b = append(b, byte(c.dir))
			b = binary.BigEndian.AppendUint16(b, uint16(n))
			b = append(b, p[:n]...)
			p = p[n:]
		}
	}
	return b
}

func decodeChunks(b []byte) []chunk {
	var out []chunk
	for len(b) >= 3 {
		d, n := Direction(b[0]&1), int(binary.BigEndian.Uint16(b[1:]))
		b = b[3:]
		n = min(n, len(b))
		out = append(out, chunk{d, b[:n]})
		b = b[n:]
	}
	return out
}

// fuzzKeys holds the secrets of every committed fixture, so mutated
// real sessions reach the decryption paths.
func fuzzKeys(t testing.TB) *KeyLog {
	k := NewKeyLog(KeyLogOptions{})
	for _, f := range fixtures {
		b, err := os.ReadFile(testdataPath(f.name + ".keylog"))
		if err != nil {
			t.Fatal(err)
		}
		k.ReadFrom(bytes.NewReader(b))
	}
	return k
}

func runSession(keys *KeyLog, chunks []chunk, split bool) ([2][]byte, SessionStats) {
	var out [2][]byte
	s := NewSession(keys, func(d Direction, p []byte) { out[d] = append(out[d], p...) }, Options{MaxBuffer: 1 << 20})
	for _, c := range chunks {
		if !split {
			s.Feed(c.dir, c.b)
			continue
		}
		for i := range c.b {
			s.Feed(c.dir, c.b[i:i+1])
		}
	}
	s.End()
	return out, s.Stats()
}

// FuzzSession feeds arbitrary two-way streams (seeded with the committed
// captures) and checks that how the bytes are cut does not change what is
// decrypted or counted: whole chunks and single bytes must agree.
func FuzzSession(f *testing.F) {
	for _, fx := range fixtures {
		chunks := readPcapStreams(f, testdataPath(fx.name+".pcap"), pcapServer.port)
		f.Add(encodeChunks(chunks))
	}
	keys := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		chunks := decodeChunks(b)
		p1, s1 := runSession(keys, chunks, false)
		p2, s2 := runSession(keys, chunks, true)
		if !bytes.Equal(p1[0], p2[0]) || !bytes.Equal(p1[1], p2[1]) || s1 != s2 {
			t.Fatalf("chunked and byte-at-a-time differ:\n%+v\n%+v", s1, s2)
		}
		for d := range 2 {
			st := s1.Dir[d]
			if st.Decrypted > st.Records || st.AppRecords > st.Decrypted || int64(len(p1[d])) != st.AppBytes {
				t.Fatalf("inconsistent counters %+v, %d bytes out", st, len(p1[d]))
			}
		}
	})
}

// FuzzKeyLogLine: no line panics, and a stored secret survives being
// written back in canonical form and read again.
func FuzzKeyLogLine(f *testing.F) {
	f.Add([]byte("CLIENT_RANDOM " + cr1 + " " + ms))
	f.Add([]byte("SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr1 + " " + s32))
	f.Add([]byte("# comment"))
	f.Add([]byte("CLIENT_RANDOM 00 11"))
	f.Fuzz(func(t *testing.T, line []byte) {
		k := NewKeyLog(KeyLogOptions{MaxEntries: 4})
		if k.AddLine(line) != nil || k.Stats().Secrets != 1 {
			return
		}
		fields := bytes.Fields(line)
		var cr [32]byte
		hex.Decode(cr[:], fields[1])
		s, ok := k.Lookup(cr)
		if !ok {
			t.Fatal("stored secret not found")
		}
		var label Label
		for l := range labelCount {
			if s.Get(l) != nil {
				label = l
			}
		}
		k2 := NewKeyLog(KeyLogOptions{})
		if err := k2.AddLine([]byte(label.String() + " " + hex.EncodeToString(cr[:]) + " " + hex.EncodeToString(s.Get(label)))); err != nil {
			t.Fatal(err)
		}
		s2, _ := k2.Lookup(cr)
		if s2 != s {
			t.Fatal("round trip changed the secrets")
		}
	})
}

// TestGenerateFuzzSeeds writes the committed seed corpora (with -update).
func TestGenerateFuzzSeeds(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata/fuzz")
	}
	write := func(target, name string, b []byte) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, fx := range fixtures[:2] {
		chunks := readPcapStreams(t, testdataPath(fx.name+".pcap"), pcapServer.port)
		// The handshake only: both hellos and the first protected records.
		write("FuzzSession", fx.name+"-handshake", encodeChunks(chunks[:min(4, len(chunks))]))
	}
	write("FuzzSession", "midstream-appdata", encodeChunks([]chunk{{ClientToServer, []byte{23, 3, 3, 0, 4, 1, 2, 3, 4}}}))
	write("FuzzSession", "bad-header", encodeChunks([]chunk{{ServerToClient, []byte{99, 3, 3, 0, 1, 0}}}))
	write("FuzzSession", "split-handshake", encodeChunks([]chunk{{ClientToServer, []byte{22, 3, 1, 0, 3, 1, 0, 0}}, {ClientToServer, []byte{22, 3, 1, 0, 2, 40, 3}}}))
	write("FuzzKeyLogLine", "master", []byte("CLIENT_RANDOM "+cr1+" "+ms))
	write("FuzzKeyLogLine", "tls13", []byte("CLIENT_TRAFFIC_SECRET_0 "+cr2+" "+s32))
	write("FuzzKeyLogLine", "odd", []byte("EXPORTER_SECRET "+cr1+" 0"))
	write("FuzzKeyLogLine", "comment", []byte("  # CLIENT_RANDOM"))
}
