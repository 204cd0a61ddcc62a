//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestNamedFIFOWaits: a capture file that is a named FIFO (tcpdump -w
// writing into it) reaches the pcap reader as an input that may wait,
// through the byte counter openFile wraps it in, so capture.Run hands
// on the packets read so far before each read instead of holding them
// back until a batch fills. Before, the wrapper hid the file's mode.
func TestNamedFIFOWaits(t *testing.T) {
	name := filepath.Join(t.TempDir(), "cap.fifo")
	if err := syscall.Mkfifo(name, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// A writer on the other end: the open of a FIFO for reading waits
	// for one, and NewReader reads the file header.
	wrote := make(chan error, 1)
	go func() {
		w, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		defer w.Close()
		hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
		_, err = w.Write(hdr)
		wrote <- err
	}()
	in := &inputs{}
	r, err := in.openFile(name)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
	if !r.OnWait(func() {}) {
		t.Fatal("a named FIFO reported as an input that never waits")
	}
}
