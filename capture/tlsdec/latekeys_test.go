package tlsdec

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// handshakeDone returns how many chunks carry the handshake: the chunks
// up to the first one a keyed session emits application data from.
func handshakeDone(t *testing.T, name string, chunks []chunk) int {
	t.Helper()
	emitted := false
	s := NewSession(fixtureKeys(t, name), func(Direction, []byte) { emitted = true }, Options{})
	for i, c := range chunks {
		s.Feed(c.dir, c.b)
		if emitted {
			return i
		}
	}
	t.Fatal("no application data")
	return 0
}

// A key log line written after the handshake (as a live application
// writes it, after the capture saw the first protected records) still
// decrypts the session: its protected records wait, and the followed key
// log is read again when the next record needs the keys.
func TestKeysLoggedAfterHandshake(t *testing.T) {
	for _, name := range []string{"tls13-aes128gcm", "tls12-ecdhe-ecdsa-aes128gcm", "tls13-chacha20-keyupdate"} {
		t.Run(name, func(t *testing.T) {
			chunks := readPcapStreams(t, testdataPath(name+".pcap"), pcapServer.port)
			want, _ := decryptChunks(t, fixtureKeys(t, name), chunks)
			line, err := os.ReadFile(testdataPath(name + ".keylog"))
			if err != nil {
				t.Fatal(err)
			}
			split := handshakeDone(t, name, chunks) + 1 // the first application record is fed too
			var file bytes.Buffer                       // the key log file: reads at its end return io.EOF
			keys := NewKeyLog(KeyLogOptions{})
			keys.Follow(&file, time.Second)
			var got [2][]byte
			s := NewSession(keys, func(d Direction, p []byte) { got[d] = append(got[d], p...) }, Options{})
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, c := range chunks {
				if i == split {
					file.Write(line) // the application logs its secrets now
				}
				s.SetMark(t0.Add(time.Duration(i)*300*time.Millisecond), uint64(i))
				s.Feed(c.dir, c.b)
				if i == split-1 && (len(got[0])+len(got[1]) != 0 || !s.Waiting()) {
					t.Fatalf("before the key log line: %d+%d bytes emitted, waiting %v", len(got[0]), len(got[1]), s.Waiting())
				}
			}
			// Decrypted as the records came, not only by End's last look.
			if s.Waiting() || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
				t.Fatalf("after the last record: waiting %v, %d+%d plaintext bytes, want %d+%d", s.Waiting(), len(got[0]), len(got[1]), len(want[0]), len(want[1]))
			}
			s.End()
			st := s.Stats()
			if !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) || len(want[0]) == 0 {
				t.Errorf("late keys: %d+%d plaintext bytes, want %d+%d", len(got[0]), len(got[1]), len(want[0]), len(want[1]))
			}
			if st.Reason != ReasonNone || !st.LateKeys || st.KeyWaitExceeded {
				t.Errorf("stats %+v", st)
			}
			if ks := keys.Stats(); ks.Reads == 0 || ks.Entries != 1 {
				t.Errorf("key log %+v", ks)
			}
		})
	}
}

// Keys logged only after the last record: End's last look finds them.
func TestKeysLoggedAtEnd(t *testing.T) {
	const name = "tls13-aes256gcm-keyupdate"
	chunks := readPcapStreams(t, testdataPath(name+".pcap"), pcapServer.port)
	want, _ := decryptChunks(t, fixtureKeys(t, name), chunks)
	line, err := os.ReadFile(testdataPath(name + ".keylog"))
	if err != nil {
		t.Fatal(err)
	}
	// A real file, appended to by another writer, as SSLKEYLOGFILE is.
	path := filepath.Join(t.TempDir(), "keylog")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	keys := NewKeyLog(KeyLogOptions{})
	keys.Follow(r, 0)
	var got [2][]byte
	s := NewSession(keys, func(d Direction, p []byte) { got[d] = append(got[d], p...) }, Options{MaxKeyWait: 1000, MaxBuffer: 1 << 20})
	for _, c := range chunks {
		s.Feed(c.dir, c.b)
	}
	if len(got[0])+len(got[1]) != 0 {
		t.Fatal("plaintext without keys")
	}
	// Half a line first: it is not taken until its newline is written.
	w.Write(line[:40])
	s.Retry()
	if !s.Waiting() {
		t.Fatal("a partial key log line was taken")
	}
	w.Write(line[40:])
	s.End()
	if !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
		t.Errorf("keys at the end: %d+%d plaintext bytes, want %d+%d", len(got[0]), len(got[1]), len(want[0]), len(want[1]))
	}
	if st := s.Stats(); st.Reason != ReasonNone || !st.LateKeys {
		t.Errorf("stats %+v", st)
	}
	if ks := keys.Stats(); ks.BadLines != 0 {
		t.Errorf("key log %+v", ks)
	}
}

// Keys that never come: the session waits for MaxKeyWait records, then
// counts them (and every later one) as having no key.
func TestKeyWaitBounded(t *testing.T) {
	const name = "tls13-aes128gcm"
	chunks := readPcapStreams(t, testdataPath(name+".pcap"), pcapServer.port)
	var file bytes.Buffer
	keys := NewKeyLog(KeyLogOptions{})
	keys.Follow(&file, 0)
	var emitted int
	s := NewSession(keys, func(d Direction, p []byte) { emitted += len(p) }, Options{MaxKeyWait: 3})
	exceededAt := -1
	for i, c := range chunks {
		s.Feed(c.dir, c.b)
		if exceededAt < 0 && s.Stats().KeyWaitExceeded {
			exceededAt = i
		}
	}
	s.End()
	st := s.Stats()
	if exceededAt < 0 || exceededAt == len(chunks)-1 || st.Reason != ReasonNoKey || emitted != 0 || s.Waiting() {
		t.Fatalf("exceeded at chunk %d of %d, stats %+v", exceededAt, len(chunks), st)
	}
	protected := st.Dir[0].Undecrypted + st.Dir[1].Undecrypted
	if protected == 0 || st.Undecrypted[ReasonNoKey] != protected {
		t.Errorf("%d protected records, %d counted without a key", protected, st.Undecrypted[ReasonNoKey])
	}
}

// A followed key log truncated in place (an application restarted with
// the same SSLKEYLOGFILE) is read again from its start: secrets written
// after the truncation are found; those held before are kept.
func TestFollowTruncated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keylog")
	first := "CLIENT_RANDOM " + cr1 + " " + ms + "\n"
	if err := os.WriteFile(path, []byte(first+"# padding so the file is longer than what follows it\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	k := NewKeyLog(KeyLogOptions{})
	k.Follow(r, 0)
	k.Refresh()
	if err := os.WriteFile(path, []byte("SERVER_TRAFFIC_SECRET_0 "+cr2+" "+s32+"\n"), 0o600); err != nil { // truncates
		t.Fatal(err)
	}
	k.Refresh()
	var a, b [32]byte
	hex.Decode(a[:], []byte(cr1))
	hex.Decode(b[:], []byte(cr2))
	_, okA := k.Lookup(a)
	sb, okB := k.Lookup(b)
	if st := k.Stats(); !okA || !okB || sb.Get(LabelServerTraffic0) == nil || st.Restarts != 1 || st.BadLines != 0 {
		t.Fatalf("held %v %v, stats %+v", okA, okB, st)
	}
}
