package tlsdec

import (
	"bytes"
	"testing"
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
