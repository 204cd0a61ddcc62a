package benchfloor

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/internal/pcapgen"
)

func TestDecodeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if err := pcapgen.WriteLarge(w, 3, 10); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err := DecodeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// WriteLarge: calls * (7 + 2*rtpPerCall) records, 172-byte G.711 RTP payloads.
	if want := 3 * (7 + 2*10); res.Records != want {
		t.Fatalf("records = %d, want %d", res.Records, want)
	}
	if res.Payload < 3*2*10*172 {
		t.Fatalf("payload = %d bytes, less than the RTP alone", res.Payload)
	}
	if _, err := DecodeFile(filepath.Join(t.TempDir(), "missing.pcap")); err == nil {
		t.Fatal("missing file: no error")
	}
}
