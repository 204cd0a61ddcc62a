package testpeer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// CorpusFile is the path of a file of the shared corpus (../shared/corpus
// beside the repository), or skips the test when it is absent.
func CorpusFile(t testing.TB, name string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test: cannot find ../shared/corpus")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "corpus", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not present (../shared/corpus): %v", name, err)
	}
	return p
}

// Sources opens capture files for a test, closed when it ends.
func Sources(t testing.TB, files ...string) []capture.Source {
	t.Helper()
	var srcs []capture.Source
	for _, f := range files {
		r, err := pcap.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		srcs = append(srcs, r)
	}
	return srcs
}
