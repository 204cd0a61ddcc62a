package capture

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// TestRunOnStats: Run publishes the decoder's Stats while it runs, every
// ctxCheckEvery records, never ahead of the final ones.
func TestRunOnStats(t *testing.T) {
	r, err := pcap.Open(filepath.Join("..", "testdata", "pcaps", "basic-call.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var seen []Stats
	o := Options{OnStats: func(s Stats) { seen = append(seen, s) }}
	final, err := Run(context.Background(), []Source{r}, o, nil, func(*Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := (final.Packets + ctxCheckEvery - 1) / ctxCheckEvery; len(seen) != want {
		t.Fatalf("OnStats called %d times for %d records, want %d", len(seen), final.Packets, want)
	}
	for i, s := range seen {
		if s.Packets != i*ctxCheckEvery || s.Packets > final.Packets {
			t.Errorf("publication %d: %d packets (final %d)", i, s.Packets, final.Packets)
		}
	}
}
