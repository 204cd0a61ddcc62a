package testpeer

import (
	"os"
	"path/filepath"
	"testing"
)

// Lock takes an exclusive machine-wide lock named name (an advisory
// flock on a file in the temporary directory), waiting for it, and
// returns the function that releases it. The kernel releases it too if
// the test process dies.
func Lock(t testing.TB, name string) (unlock func()) {
	t.Helper()
	path := filepath.Join(os.TempDir(), "voiptool-test-"+name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		t.Fatalf("testpeer: lock %s: %v", path, err)
	}
	return func() {
		unlockFile(f)
		f.Close()
	}
}
