package recorder

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// Interface Statistics Block option codes (pcapng 4.6), spelled out
// here so the test does not trust the writer's constants.
const (
	optISBIfRecv   = 4
	optISBIfDrop   = 5
	optISBOSDrop   = 7
	optISBUsrDeliv = 8
)

// frame is an Ethernet/IPv4/UDP-shaped record of n bytes whose payload
// carries its sequence number, so reading back can check order.
func frame(i, n int) []byte {
	b := make([]byte, n)
	b[12], b[13] = 0x08, 0x00
	binary.BigEndian.PutUint32(b[n-4:], uint32(i))
	return b
}

func pkt(i int, at time.Duration, lt pcap.LinkType, n int) pcap.Packet {
	return pcap.Packet{Timestamp: t0.Add(at), CaptureLength: n, Length: n, LinkType: lt, Number: i + 1}
}

// start runs a recorder the way its owner does and returns a stop
// function that closes it and waits for Run.
func start(t *testing.T, o Options) (*Recorder, func() error) {
	t.Helper()
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var runErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		runErr = r.Run(context.Background())
	}()
	return r, func() error {
		r.Close()
		wg.Wait()
		return runErr
	}
}

// readAll reads every record of every file with our reader.
func readAll(t *testing.T, files ...string) (n int, seqs []uint32, ifaces []pcap.Interface) {
	t.Helper()
	for _, f := range files {
		rd, err := pcap.Open(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for {
			data, _, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			n++
			seqs = append(seqs, binary.BigEndian.Uint32(data[len(data)-4:]))
		}
		ifaces = append(ifaces, rd.Interfaces()...)
		rd.Close()
	}
	return n, seqs, ifaces
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Strings(out)
	return out
}

// isbs walks a little-endian pcapng file block by block (independently
// of our reader, which skips statistics) and returns each ISB's options.
func isbs(t *testing.T, path string) []map[uint16]uint64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []map[uint16]uint64
	for off := 0; off+12 <= len(b); {
		typ := binary.LittleEndian.Uint32(b[off:])
		blen := int(binary.LittleEndian.Uint32(b[off+4:]))
		if blen < 12 || off+blen > len(b) {
			t.Fatalf("bad block at %d", off)
		}
		if typ == 5 {
			opts := map[uint16]uint64{}
			o := b[off+20 : off+blen-4]
			for len(o) >= 4 {
				code, l := binary.LittleEndian.Uint16(o), int(binary.LittleEndian.Uint16(o[2:]))
				if code == 0 {
					break
				}
				if l == 8 {
					opts[code] = binary.LittleEndian.Uint64(o[4:])
				}
				o = o[4+(l+3)/4*4:]
			}
			out = append(out, opts)
		}
		off += blen
	}
	return out
}

func TestSingleFilePcapngInterfacesAndStats(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pcapng")
	r, stop := start(t, Options{
		Path:        path,
		SourceNames: []string{"eth0", "any"},
		Counters: func(src int) SourceCounters {
			return SourceCounters{Received: 1000 + uint64(src), KernelDrop: 7, QueueDrop: 3, HasReceived: true, HasKernel: true}
		},
	})
	for i := range 100 {
		src, lt := i%2, pcap.LinkTypeEthernet
		if src == 1 {
			lt = pcap.LinkTypeRaw
		}
		if !r.Write(src, pkt(i, time.Duration(i)*time.Millisecond, lt, 120), frame(i, 120)) {
			t.Fatalf("record %d dropped", i)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Packets != 100 || st.Files != 1 || st.Dropped+st.Failed+st.Refused != 0 || st.Current != "" {
		t.Fatalf("stats %+v", st)
	}
	if files := listDir(t, dir); len(files) != 1 || files[0] != path {
		t.Fatalf("files %v: want only %s (no temporary left)", files, path)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600 (captures hold personal data)", fi.Mode().Perm())
	}
	n, seqs, ifaces := readAll(t, path)
	if n != 100 || seqs[99] != 99 {
		t.Fatalf("read %d records", n)
	}
	if len(ifaces) != 2 || ifaces[0].Name != "eth0" || ifaces[1].Name != "any" || ifaces[1].LinkType != pcap.LinkTypeRaw {
		t.Errorf("interfaces %+v", ifaces)
	}
	is := isbs(t, path)
	if len(is) != 2 {
		t.Fatalf("%d statistics blocks, want 2", len(is))
	}
	if is[0][optISBIfDrop] != 7 || is[0][optISBOSDrop] != 3 || is[0][optISBIfRecv] != 1000 || is[0][optISBUsrDeliv] != 50 {
		t.Errorf("ISB eth0 %+v", is[0])
	}
	if is[1][optISBIfRecv] != 1001 || is[1][optISBUsrDeliv] != 50 {
		t.Errorf("ISB any %+v", is[1])
	}
	tsharkReads(t, path, 100)
}

func TestClassicPcapRefusesSecondLinkType(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pcap")
	r, stop := start(t, Options{Path: path})
	r.Write(0, pkt(0, 0, pcap.LinkTypeEthernet, 80), frame(0, 80))
	r.Write(1, pkt(1, time.Millisecond, pcap.LinkTypeRaw, 80), frame(1, 80))
	r.Write(0, pkt(2, 2*time.Millisecond, pcap.LinkTypeEthernet, 80), frame(2, 80))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Packets != 2 || st.Refused != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n, _, _ := readAll(t, path); n != 2 {
		t.Fatalf("read %d", n)
	}
}

func TestRotateBySizeAndRing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ring.pcap")
	const max = 4096
	r, stop := start(t, Options{Path: path, MaxFileBytes: max, MaxFiles: 3})
	for i := range 200 {
		r.Write(0, pkt(i, time.Duration(i)*time.Millisecond, pcap.LinkTypeEthernet, 200), frame(i, 200))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	files := listDir(t, dir)
	if len(files) != 3 {
		t.Fatalf("%d files kept, want the ring's 3: %v", len(files), files)
	}
	if st.Files != st.Removed+3 || st.Packets != 200 {
		t.Fatalf("stats %+v", st)
	}
	for _, f := range files {
		fi, _ := os.Stat(f)
		if fi.Size() > max {
			t.Errorf("%s is %d bytes, above -C %d", f, fi.Size(), max)
		}
		if !strings.HasPrefix(filepath.Base(f), "ring-") || !strings.HasSuffix(f, ".pcap") {
			t.Errorf("name %s", f)
		}
	}
	// The ring kept the newest: the last record is in the last file, and
	// the kept files hold a contiguous tail of the sequence.
	n, seqs, _ := readAll(t, files...)
	if seqs[n-1] != 199 {
		t.Errorf("last kept record %d, want 199", seqs[n-1])
	}
	for i := 1; i < n; i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("kept records not contiguous at %d: %d after %d", i, seqs[i], seqs[i-1])
		}
	}
	tsharkReads(t, files[0], -1)
}

func TestRotateByPacketTime(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.pcapng")
	r, stop := start(t, Options{Path: path, Interval: time.Second})
	// 0.5 s into the second, 5 s of records every 100 ms: seconds 0..5.
	for i := range 51 {
		r.Write(0, pkt(i, 500*time.Millisecond+time.Duration(i)*100*time.Millisecond, pcap.LinkTypeEthernet, 90), frame(i, 90))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	files := listDir(t, dir)
	if len(files) != 6 {
		t.Fatalf("%d files, want 6: %v", len(files), files)
	}
	if !strings.HasSuffix(files[1], "-000002-20261206T100001Z.pcapng") {
		t.Errorf("second file %s: want it to start at 10:00:01 (aligned to the interval)", files[1])
	}
	if n, _, _ := readAll(t, files...); n != 51 {
		t.Errorf("read %d of 51", n)
	}
}

func TestMaxTotalAndGzip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "z.pcap")
	const total = 64 << 10
	r, stop := start(t, Options{Path: path, MaxTotalBytes: total, Gzip: true})
	for i := range 2000 {
		r.Write(0, pkt(i, time.Duration(i)*time.Millisecond, pcap.LinkTypeEthernet, 300), frame(i, 300))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	files := listDir(t, dir)
	var sum int64
	for _, f := range files {
		if !strings.HasSuffix(f, ".pcap.gz") {
			t.Errorf("%s not gzipped", f)
		}
		fi, _ := os.Stat(f)
		sum += fi.Size()
	}
	if sum > total {
		t.Errorf("files hold %d bytes, above --max-total %d", sum, total)
	}
	if st.Compressed != st.Files || st.Files == 0 {
		t.Errorf("stats %+v", st)
	}
	n, seqs, _ := readAll(t, files...) // our reader opens gzip
	if n == 0 || seqs[n-1] != 1999 {
		t.Errorf("read %d records, last %v", n, seqs)
	}
}

// Nothing is lost without a counter: with the writer not running, the
// queue fills and every further record is counted as dropped.
func TestQueueFullCounted(t *testing.T) {
	r, err := New(Options{Path: filepath.Join(t.TempDir(), "q.pcap"), QueueLen: 4})
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for i := range 10 {
		if r.Write(0, pkt(i, 0, pcap.LinkTypeEthernet, 60), frame(i, 60)) {
			ok++
		}
	}
	if ok != 4 || r.Stats().Dropped != 6 {
		t.Fatalf("queued %d, dropped %d", ok, r.Stats().Dropped)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil { // a cancelled owner still gets the queue written
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Packets != 4 || st.Files != 1 {
		t.Fatalf("stats %+v", st)
	}
	if r.Write(0, pkt(11, 0, pcap.LinkTypeEthernet, 60), frame(11, 60)) || r.Stats().Dropped != 7 {
		t.Errorf("write after close not counted")
	}
}

func TestRefusesSymlinkAndBadDir(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "victim")
	os.WriteFile(target, []byte("keep me"), 0o644)
	link := filepath.Join(dir, "out.pcap")
	if err := os.Symlink(target, link); err != nil {
		t.Skip(err)
	}
	if _, err := New(Options{Path: link}); !errors.Is(err, sink.ErrSymlinkOutput) {
		t.Errorf("symlink output: %v", err)
	}
	if _, err := New(Options{Path: filepath.Join(dir, "no", "such", "dir.pcap")}); err == nil {
		t.Errorf("missing directory accepted")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep me" {
		t.Errorf("link target changed")
	}
}

// tshark, when installed, reads the file without complaint and counts
// want records (want < 0: any).
func tsharkReads(t *testing.T, path string, want int) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Log("tshark not installed: skipping the independent read")
		return
	}
	cmd := exec.Command("tshark", "-r", path, "-T", "fields", "-e", "frame.number")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	lines := strings.Fields(string(out))
	if want >= 0 && len(lines) != want {
		t.Errorf("tshark read %d records, want %d:\n%s", len(lines), want, out)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"100MB": 100e6, "100M": 100e6, "1GiB": 1 << 30, "512k": 512e3, "4096": 4096, "1.5G": 1.5e9, " 2 MiB ": 2 << 20} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "-1M", "10XB", "1e3"} {
		if _, err := ParseSize(in); !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseSize(%q): %v, want ErrBadSize", in, err)
		}
	}
}

// An output that is one of the inputs is refused before anything is
// written: the input survives.
func TestRefusesInputAsOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pcap")
	os.WriteFile(in, []byte("precious"), 0o644)
	if _, err := New(Options{Path: in, Inputs: []string{in}}); !errors.Is(err, sink.ErrOutputIsInput) {
		t.Errorf("output = input: %v", err)
	}
	// The same file by another name (a hard link) too.
	hard := filepath.Join(dir, "hard.pcap")
	if err := os.Link(in, hard); err == nil {
		if _, err := New(Options{Path: hard, Inputs: []string{in}}); !errors.Is(err, sink.ErrOutputIsInput) {
			t.Errorf("hard link to the input: %v", err)
		}
	}
	if b, _ := os.ReadFile(in); string(b) != "precious" {
		t.Errorf("input changed")
	}
}
