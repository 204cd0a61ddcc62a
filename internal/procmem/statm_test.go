package procmem

import (
	"errors"
	"os"
	"runtime"
	"testing"
)

func TestFileResidentParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  error
	}{
		{"321402 3664 3046 2246 0 21543 0\n", 3046 * 4096, nil},
		{"1 2 0 0 0 0 0", 0, nil},
		{"1 2", 0, ErrFormat},
		{"", 0, ErrFormat},
		{"1 2 x 0 0 0 0", 0, ErrFormat},
		{"1 2 -5 0 0 0 0", 0, ErrFormat},
	} {
		got, err := fileResident([]byte(tc.in), 4096)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%q: %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// On Linux the executable's touched pages are there: more than nothing,
// less than the executable file.
func TestFileResident(t *testing.T) {
	if runtime.GOOS != "linux" {
		_, err := FileResident()
		if !errors.Is(err, ErrUnavailable) && err != nil {
			t.Errorf("FileResident on %s: %v", runtime.GOOS, err)
		}
		t.Skipf("statm is Linux's; on %s: %v", runtime.GOOS, err)
	}
	n, err := FileResident()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || n > fi.Size()+64<<20 {
		t.Errorf("file-backed resident %d bytes; the test binary is %d", n, fi.Size())
	}
}
