package hep

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// maxGrowth is how much re-encoding can add to a decoded HEP3 packet: two
// 6-byte MAC chunks widen to u64 (2+2), and a usec chunk >= 1e6 without a
// seconds chunk gains a seconds chunk (10).
const maxGrowth = 14

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzUnmarshal/corpus-* from the shared corpus")

// FuzzUnmarshal checks decode → encode → decode → Equal for every input
// that decodes (including ones with wrongly sized chunks, which must survive
// in Extra), and that a decoded packet re-encodes to a stable byte string.
func FuzzUnmarshal(f *testing.F) {
	f.Add(hep3())
	f.Add(hep3([]byte{0, 0, 0, 7, 0, 9, 1, 2, 3}, []byte{0, 0, 0, 0x0f, 0, 7, 'X'}))
	f.Add(hep3([]byte{0, 0, 0, 9, 0, 10, 0xff, 0xff, 0xff, 0xff}, []byte{0, 0, 0, 10, 0, 10, 0xff, 0xff, 0xff, 0xff}))
	f.Add(hep3([]byte{0, 3, 0, 1, 0, 7, 1}, []byte{0, 0, 0, 0x10, 0, 8, 0x78, 0x9c}))
	if b, err := fullPacket().Marshal(); err == nil {
		f.Add(b)
	}
	f.Add([]byte{2, 0x01, 2, 17, 0x13, 0xc4, 0x13, 0xc6, 192, 168, 0, 1, 192, 168, 0, 2,
		0x4c, 0x36, 0x4d, 0x58, 0x40, 0xe2, 0x01, 0x00, 0xe4, 0x00, 0x00, 0x00, 'S', 'I', 'P'})
	f.Add([]byte{1, 16, 2, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2, 'S'})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.Unmarshal(b); err != nil && !errors.Is(err, ErrBadChunkValue) {
			return
		}
		out, err := p.Marshal()
		if errors.Is(err, ErrTooLarge) && len(b) > maxPacketLen-maxGrowth {
			return // normalisation may push a near-64 KiB packet over the limit
		}
		if err != nil {
			t.Fatalf("Marshal of decoded packet: %v", err)
		}
		var q Packet
		if err := q.Unmarshal(out); err != nil && !errors.Is(err, ErrBadChunkValue) {
			t.Fatalf("re-Unmarshal: %v\nin  %x\nout %x", err, b, out)
		}
		if !p.Equal(&q) {
			t.Fatalf("round trip differs\nin  %x\nout %x\np %+v\nq %+v", b, out, p, q)
		}
		again, err := q.Marshal()
		if err != nil || string(again) != string(out) {
			t.Fatalf("encoding not stable: %v\n%x\n%x", err, out, again)
		}
	})
}

// TestWriteFuzzSeeds refreshes the committed seed corpus from the shared
// capture corpus: go test -run TestWriteFuzzSeeds -update-seeds ./hep/
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshal")
	for _, name := range []string{corpusPlain, corpusCompressed} {
		for i, b := range corpusPayloads(t, name) {
			if name == corpusCompressed && i%3 != 0 {
				continue // every packet appears three times in this capture
			}
			file := filepath.Join(dir, fmt.Sprintf("corpus-%s-%02d", name[:len(name)-len(filepath.Ext(name))], i))
			if err := os.WriteFile(file, []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
