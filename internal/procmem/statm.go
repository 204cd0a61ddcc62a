package procmem

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ErrUnavailable is returned where the kernel does not say (no
// /proc/self/statm: not Linux, or /proc not mounted).
var ErrUnavailable = errors.New("procmem: /proc/self/statm unavailable")

// ErrFormat is returned when statm is not what proc(5) describes.
var ErrFormat = errors.New("procmem: statm not understood")

// FileResident returns the bytes of file-backed pages resident in the
// process now (statm's third field, "shared": RssFile + RssShmem, proc(5)):
// for a pure-Go program, the executable's pages it has touched.
func FileResident() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return fileResident(b, os.Getpagesize())
}

// fileResident parses statm's fields (pages) and returns the third in
// bytes.
func fileResident(statm []byte, pageSize int) (int64, error) {
	f := bytes.Fields(statm)
	if len(f) < 3 {
		return 0, fmt.Errorf("%w: %d fields", ErrFormat, len(f))
	}
	pages, err := strconv.ParseInt(string(f[2]), 10, 64)
	if err != nil || pages < 0 {
		return 0, fmt.Errorf("%w: shared pages %q", ErrFormat, f[2])
	}
	return pages * int64(pageSize), nil
}
