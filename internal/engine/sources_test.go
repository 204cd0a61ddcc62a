package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// A call seen in two sources names both (here the same capture under two
// names, as two interfaces would see it); a fanout member is named by
// its interface.
func TestCallSources(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var srcs []capture.Source
	for _, name := range []string{"eth0.pcap", "eth1.pcap"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := pcap.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		srcs = append(srcs, r)
	}
	e := New(Options{})
	if _, err := e.Run(context.Background(), srcs, nil); err != nil {
		t.Fatal(err)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) == 0 {
		t.Fatal("no calls")
	}
	for _, c := range calls {
		if len(c.Sources) != 2 || !strings.HasSuffix(c.Sources[0], "eth0.pcap") || !strings.HasSuffix(c.Sources[1], "eth1.pcap") {
			t.Errorf("%s: sources %q", c.CallID, c.Sources)
		}
	}
	for in, want := range map[string]string{"eth0#2": "eth0", "lo#1": "lo", "a#b": "a#b", "file.pcap": "file.pcap", "#3": "#3"} {
		if got := sourceLabel(in); got != want {
			t.Errorf("sourceLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
