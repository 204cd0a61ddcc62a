package sink

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Errors of output files.
var (
	ErrOutputIsInput = errors.New("sink: output file is also an input")
	ErrSymlinkOutput = errors.New("sink: output is a symbolic link (not followed)")
	ErrNotRegular    = errors.New("sink: output exists and is not a regular file")
)

// DefaultPerm is the mode of new capture files: they hold personal data
// (numbers, names, addresses), so only their owner reads them.
const DefaultPerm = 0o600

// CheckOutput refuses an output path that is a symbolic link (running
// as root, following a planted link would overwrite what it points to),
// an existing non-regular file, or the same file as one of inputs (same
// device and inode: `dump x.pcap -w x.pcap` would truncate its input).
func CheckOutput(path string, inputs []string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s", ErrSymlinkOutput, path)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%w: %s", ErrNotRegular, path)
	}
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return fmt.Errorf("%w: %s", ErrOutputIsInput, path)
		}
	}
	return nil
}

// CreateTemp makes a new hidden temporary file beside path, for writing
// a file that appears under its final name only when complete. It never
// follows a link (O_EXCL creates or fails; O_NOFOLLOW).
func CreateTemp(path string, perm os.FileMode) (*os.File, error) {
	if perm == 0 {
		perm = DefaultPerm
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	for i := 0; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf(".%s.%d-%d.partial", base, os.Getpid(), time.Now().UnixNano()+int64(i)))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
		if errors.Is(err, os.ErrExist) && i < 100 {
			continue
		}
		return f, err
	}
}

// atomicFile is a file written under a temporary name and renamed to its
// final one on Close (after CheckOutput once more: the path may have
// been replaced by a link meanwhile).
type atomicFile struct {
	f      *os.File
	final  string
	inputs []string
}

func (a *atomicFile) Write(b []byte) (int, error) { return a.f.Write(b) }

func (a *atomicFile) Close() error {
	err := a.f.Close()
	if err == nil {
		err = CheckOutput(a.final, a.inputs)
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.final)
	}
	if err != nil {
		os.Remove(a.f.Name())
	}
	return err
}
