package leak

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

func TestScanFile(t *testing.T) {
	s := NewSet(0)
	s.Add(IP, "192.0.2.77")
	s.Add(User, "secretuser")
	s.Add(Host, "leaky.example.org")
	c := NewChecker(s)
	dir := t.TempDir()

	frames := [][]byte{
		[]byte("nothing to see here"),
		append([]byte("raw address: "), 192, 0, 2, 77),
		[]byte("From: <sip:SECRETUSER@x>"),
	}
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.WriterOptions{LinkType: pcap.LinkTypeNull})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		w.WritePacket(pcap.Packet{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(f), Length: len(f)}, f)
	}
	w.Flush()
	plain := filepath.Join(dir, "a.pcap")
	os.WriteFile(plain, buf.Bytes(), 0o600)

	// pcapng: the application name in the section header is not a packet
	var ng bytes.Buffer
	nw, err := pcap.NewNgWriter(&ng, pcap.NgWriterOptions{Application: "capture of leaky.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	nw.AddInterface(pcap.LinkTypeNull, 0)
	for i, f := range frames {
		nw.WritePacket(pcap.Packet{Timestamp: time.Unix(int64(i), 0), CaptureLength: len(f), Length: len(f)}, f)
	}
	nw.Flush()
	ngPath := filepath.Join(dir, "b.pcapng.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(ng.Bytes())
	zw.Close()
	os.WriteFile(ngPath, gz.Bytes(), 0o600)

	for _, tc := range []struct {
		path   string
		frames map[int]Category
	}{
		{plain, map[int]Category{2: IP, 3: User}},
		{ngPath, map[int]Category{0: Host, 2: IP, 3: User}},
	} {
		rep, err := ScanFile(tc.path, c, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Records != 3 {
			t.Fatalf("%s: %d records", tc.path, rep.Records)
		}
		got := map[int]Category{}
		for _, h := range rep.Hits {
			got[h.Frame] = h.Category
		}
		if len(got) != len(tc.frames) {
			t.Fatalf("%s: hits %v, want frames %v", tc.path, rep.Hits, tc.frames)
		}
		for f, cat := range tc.frames {
			if got[f] != cat {
				t.Fatalf("%s: frame %d: %v, want %v (hits %v)", tc.path, f, got[f], cat, rep.Hits)
			}
		}
	}
}
