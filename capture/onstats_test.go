package capture

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// TestRunPublishesStatus: Run publishes the decoder's Stats while it
// runs, every ctxCheckEvery records, never ahead of the final ones.
func TestRunPublishesStatus(t *testing.T) {
	r, err := pcap.Open(filepath.Join("..", "testdata", "pcaps", "basic-call.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var st Status
	var seen []int // decoder packet counts seen by a reader, one per new generation
	gen := uint64(0)
	final, err := Run(context.Background(), []Source{r}, Options{Status: &st}, nil, func(*Event) error {
		if s := st.Snapshot(); s.Generation != gen {
			gen = s.Generation
			seen = append(seen, s.Decoder.Packets)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (final.Packets + ctxCheckEvery - 1) / ctxCheckEvery; len(seen) < want-1 {
		t.Fatalf("saw %d publications for %d records, want about %d", len(seen), final.Packets, want)
	}
	for i, p := range seen {
		if p%ctxCheckEvery != 0 || p > final.Packets {
			t.Errorf("publication %d: %d packets (final %d)", i, p, final.Packets)
		}
	}
	if s := st.Snapshot(); s.Decoder.Packets != final.Packets || s.Sources[0].Records != uint64(final.Packets) {
		t.Errorf("final snapshot %+v, want %d packets", s.Decoder, final.Packets)
	}
}
