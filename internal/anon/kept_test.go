package anon

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/internal/pcapgen"
)

// In a generated capture of 1 800 calls, RTP timestamp 2560 (0a 00)
// followed by an SSRC starting 00 01 spells 10.0.0.1 in raw bytes
// hundreds of times: the raw-byte search finds them, and they are told
// apart as coincidences in kept fields, not leaks; an address written
// raw into a payload stays a leak.
func TestKeptFieldHits(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and checks a 22 MB capture")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pcap"), filepath.Join(dir, "out.pcap")
	f, err := os.Create(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := pcapgen.WriteLarge(f, 1800, 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err := AnonymizeFile(in, out, testKey(t, "kept"), FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Leaks.Hits) != 0 || len(res.KeptFieldHits) == 0 {
		t.Fatalf("leaks %d (%v), coincidences in kept fields %d: want 0 and some", len(res.Leaks.Hits), res.Leaks.Hits, len(res.KeptFieldHits)) // a pseudonym equal to another original was one such leak
	}
	for _, h := range res.KeptFieldHits {
		if h.Encoding != leak.RawBytes {
			t.Fatalf("a %v hit taken for a kept field", h.Encoding)
		}
	}

	// The same bytes at the same place but one field later (inside the
	// payload the anonymiser would have silenced) are a leak.
	rep := &leak.FileReport{Hits: append([]leak.Hit(nil), res.KeptFieldHits[0])}
	rep.Hits[0].Offset += 12
	moved, err := keptFieldHits(out, rep, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(moved) != 0 || len(rep.Hits) != 1 {
		t.Errorf("a raw match in the payload was excused as a kept field")
	}
}
