package tlsdec

import (
	"bytes"
	"os"
	"testing"
	"time"
)

// FuzzKeyLogFollow is differential: a key log read as it grows (Follow,
// written in pieces cut at arbitrary points, read after each) holds the
// same secrets and counts the same lines as the whole file read at once
// (ReadFrom), for any file of complete lines.
func FuzzKeyLogFollow(f *testing.F) {
	f.Add([]byte("CLIENT_RANDOM "+cr1+" "+ms+"\n# comment\nSERVER_HANDSHAKE_TRAFFIC_SECRET "+cr2+" "+s32+"\n"), []byte{3, 70, 1})
	f.Add([]byte("bad line\r\nCLIENT_TRAFFIC_SECRET_0 "+cr1+" "+s32+"\r\n\n"), []byte{0, 200})
	f.Add([]byte("CLIENT_RANDOM "+cr1+" "+ms+"\n"), []byte{1, 1, 1, 1, 1})
	f.Fuzz(func(t *testing.T, file, cuts []byte) {
		if len(file) == 0 || file[len(file)-1] != '\n' {
			return // a last line still being written is waited for, by design
		}
		for _, line := range bytes.Split(file, []byte("\n")) {
			if len(line) > maxPartialLine {
				return // longer lines are refused as they grow, not at once
			}
		}
		whole := NewKeyLog(KeyLogOptions{MaxEntries: 8})
		if _, err := whole.ReadFrom(bytes.NewReader(file)); err != nil {
			return
		}
		var grow bytes.Buffer
		followed := NewKeyLog(KeyLogOptions{MaxEntries: 8})
		followed.Follow(&grow, 0)
		rest := file
		for _, c := range cuts {
			n := min(int(c), len(rest))
			grow.Write(rest[:n])
			rest = rest[n:]
			followed.Refresh()
		}
		grow.Write(rest)
		followed.Refresh()
		a, b := whole.Stats(), followed.Stats()
		if a.Lines != b.Lines || a.Entries != b.Entries || a.Secrets != b.Secrets || a.BadLines != b.BadLines || a.Unknown != b.Unknown || a.Refused != b.Refused {
			t.Fatalf("read at once %+v, followed %+v", a, b)
		}
		for cr, s := range whole.m {
			if s2, ok := followed.Lookup(cr); !ok || s2 != *s {
				t.Fatalf("secrets of %x differ", cr)
			}
		}
	})
}

// FuzzLateKeys is differential: a session whose key log gets every
// secret only after chunk k (a followed file written late, as a live
// application writes it) emits the same plaintext, direction by
// direction, as one that had the secrets from the start, whatever the
// chunks; only while the wait stays within its bounds, which are set
// above any input here.
func FuzzLateKeys(f *testing.F) {
	for _, fx := range fixtures {
		chunks := readPcapStreams(f, testdataPath(fx.name+".pcap"), pcapServer.port)
		f.Add(encodeChunks(chunks), uint8(len(chunks)/2))
	}
	var all bytes.Buffer
	for _, fx := range fixtures {
		b, err := os.ReadFile(testdataPath(fx.name + ".keylog"))
		if err != nil {
			f.Fatal(err)
		}
		all.Write(b)
	}
	keys := fuzzKeys(f)
	f.Fuzz(func(t *testing.T, b []byte, k uint8) {
		chunks := decodeChunks(b)
		var want, got [2][]byte
		o := Options{MaxBuffer: 1 << 22, MaxKeyWait: 1 << 20}
		s1 := NewSession(keys, func(d Direction, p []byte) { want[d] = append(want[d], p...) }, o)
		var file bytes.Buffer
		late := NewKeyLog(KeyLogOptions{})
		late.Follow(&file, time.Nanosecond)
		s2 := NewSession(late, func(d Direction, p []byte) { got[d] = append(got[d], p...) }, o)
		for i, c := range chunks {
			if i == int(k) {
				file.Write(all.Bytes())
			}
			s1.Feed(c.dir, c.b)
			s2.SetMark(time.Unix(0, int64(i+1)), uint64(i))
			s2.Feed(c.dir, c.b)
		}
		if int(k) >= len(chunks) {
			file.Write(all.Bytes())
		}
		s1.End()
		s2.End()
		if !bytes.Equal(want[0], got[0]) || !bytes.Equal(want[1], got[1]) {
			t.Fatalf("keys from the start: %d+%d bytes; logged after chunk %d: %d+%d", len(want[0]), len(want[1]), k, len(got[0]), len(got[1]))
		}
		// The counts agree; the first reason may not: records that waited
		// are judged after the other direction's damage, if any.
		a, c := s1.Stats(), s2.Stats()
		if a.Undecrypted != c.Undecrypted {
			t.Fatalf("stats differ:\n%+v\n%+v", a, c)
		}
	})
}
