package pcap

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// corpusFiles returns the public captures in ../shared/corpus next to the
// repository root, skipping the test when the corpus is absent.
func corpusFiles(t *testing.T) (dir string, files []string) {
	t.Helper()
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		root = filepath.Dir(root)
	}
	dir = filepath.Join(root, "..", "shared", "corpus")
	files, _ = filepath.Glob(filepath.Join(dir, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("corpus not found at %s; interop tests need the shared captures", dir)
	}
	return dir, files
}

// manifestCounts reads the packet column of MANIFEST.md's summary table.
func manifestCounts(t *testing.T, dir string) map[string]int {
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.md"))
	if err != nil {
		return nil
	}
	row := regexp.MustCompile("^\\| `([^`]+)` \\| \\d+ \\| [^|]+ \\| (\\d+) \\|")
	m := map[string]int{}
	for _, line := range strings.Split(string(b), "\n") {
		if s := row.FindStringSubmatch(line); s != nil {
			n, _ := strconv.Atoi(s[2])
			m[s[1]] = n
		}
	}
	return m
}

type refReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// TestCorpusMatchesPcapgo reads every corpus file with our Reader and with
// gopacket's independent pcapgo and compares every record.
func TestCorpusMatchesPcapgo(t *testing.T) {
	dir, files := corpusFiles(t)
	counts := manifestCounts(t, dir)
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var ref refReader
			var refLink func(ci gopacket.CaptureInfo) layers.LinkType
			if r.Format().Kind == FormatPcapng {
				ng, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
				if err != nil {
					t.Fatal(err)
				}
				ref = ng
				refLink = func(ci gopacket.CaptureInfo) layers.LinkType { return ci.AncillaryData[0].(layers.LinkType) }
			} else {
				pr, err := pcapgo.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatal(err)
				}
				ref = pr
				refLink = func(gopacket.CaptureInfo) layers.LinkType { return pr.LinkType() }
			}
			n, restarts := 0, 0
			for {
				data, p, err := r.Next()
				wdata, ci, werr := ref.ReadPacketData()
				if err == io.EOF && werr == io.EOF {
					break
				}
				if werr != nil && err == nil && r.Format().Kind == FormatPcap && strings.Contains(werr.Error(), "exceeds original packet length") {
					// pcapgo refuses caplen > len (tshark and tcpdump accept
					// it) and cannot go on; check what it decoded of the
					// header, then restart it on the rest of the file.
					n++
					if !p.Timestamp.Equal(ci.Timestamp) || p.CaptureLength != ci.CaptureLength || p.Length != ci.Length {
						t.Fatalf("packet %d: ours %v %d/%d, pcapgo header %v %d/%d", n, p.Timestamp, p.CaptureLength, p.Length, ci.Timestamp, ci.CaptureLength, ci.Length)
					}
					next := p.Offset + pcapRecordHdrLen + int64(p.CaptureLength)
					if !bytes.Equal(data, raw[next-int64(p.CaptureLength):next]) {
						t.Fatalf("packet %d: data differs", n)
					}
					pr, err := pcapgo.NewReader(io.MultiReader(bytes.NewReader(raw[:pcapHeaderLen]), bytes.NewReader(raw[next:])))
					if err != nil {
						t.Fatal(err)
					}
					ref = pr
					restarts++
					continue
				}
				if err != nil || werr != nil {
					t.Fatalf("packet %d: ours %v, pcapgo %v", n+1, err, werr)
				}
				n++
				if !p.Timestamp.Equal(ci.Timestamp) || p.CaptureLength != ci.CaptureLength || p.Length != ci.Length ||
					uint32(p.LinkType) != uint32(refLink(ci)) || !bytes.Equal(data, wdata) {
					t.Fatalf("packet %d: ours %v cap %d len %d %v, pcapgo %v cap %d len %d %v (data equal %v)",
						n, p.Timestamp, p.CaptureLength, p.Length, p.LinkType, ci.Timestamp, ci.CaptureLength, ci.Length, refLink(ci), bytes.Equal(data, wdata))
				}
				// Offsets point at the record: re-read it.
				got, err := ReadRecordAt(bytes.NewReader(raw), r.Format(), p, nil)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("packet %d: ReadRecordAt: %v", n, err)
				}
			}
			if want, ok := counts[name]; ok && n != want {
				t.Errorf("%d packets, MANIFEST says %d", n, want)
			}
			st := r.Stats()
			if st.Damaged || st.Bytes != int64(len(raw)) {
				t.Errorf("stats %+v, file %d bytes", st, len(raw))
			}
			if restarts != st.Oddities.CaptureOverLength {
				t.Errorf("pcapgo refused %d records as caplen > len, we counted %d", restarts, st.Oddities.CaptureOverLength)
			}
			t.Logf("%d packets, %s, link %v, oddities %+v, skipped blocks %d", n, r.Format(), r.LinkType(), st.Oddities, st.SkippedBlocks)
		})
	}
}

// TestCorpusTsharkRewrite writes every third frame of some corpus files
// with Writer and NgWriter and checks tshark reads those frames with the
// same epoch time, length and captured length as in the original.
func TestCorpusTsharkRewrite(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the tshark interop check (several tshark runs)")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed; skipping the tshark interop check")
	}
	dir, _ := corpusFiles(t)
	names := []string{
		"sip-tls13-sll-g722-rtcp.pcap",                    // caplen > len, times in 2041, not in order
		"sip-ipv6-udp-basic-call.pcap",                    // timestamps years apart
		"hep3-udp9060-sll-compressed.pcapng",              // ns pcapng
		"rtp-vlan-mixed-pt-rtpevent-comments.pcapng",      // pcapng with comments, 2012-2022
		"sip-rawip-linktype-invite-403-register-401.pcap", // plain µs pcap, raw IP
	}
	fields := func(path string) []string {
		out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len").Output()
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				t.Fatalf("tshark -r %s: %v: %s", path, err, ee.Stderr)
			}
			t.Fatalf("tshark -r %s: %v", path, err)
		}
		return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	}
	tmp := t.TempDir()
	for _, name := range names {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s not in corpus, skipped", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel() // tshark's wall time is mostly start-up, not CPU
			orig := fields(path)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			nano := false
			for _, i := range r.Interfaces() {
				nano = nano || i.TicksPerSecond > 1e6
			}
			outs := map[string]func(Packet, []byte) error{}
			flushes := []func() error{}
			var pf, nf bytes.Buffer
			pw, err := NewWriter(&pf, WriterOptions{LinkType: r.LinkType(), Nanosecond: nano})
			if err != nil {
				t.Fatal(err)
			}
			nw, err := NewNgWriter(&nf, NgWriterOptions{Application: "voiptool pcap test"})
			if err != nil {
				t.Fatal(err)
			}
			outs["out.pcap"], outs["out.pcapng"] = pw.WritePacket, nw.WritePacket
			flushes = append(flushes, pw.Flush, nw.Flush)
			var want []string
			for {
				data, p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				// NgWriter interfaces mirror the reader's, created as first seen.
				for ifs := r.Interfaces(); len(nw.snaplens) <= p.InterfaceIndex; {
					i := ifs[len(nw.snaplens)]
					if _, err := nw.AddInterface(i.LinkType, i.Snaplen); err != nil {
						t.Fatal(err)
					}
				}
				if p.Number%3 != 1 {
					continue
				}
				want = append(want, orig[p.Number-1])
				for _, write := range outs {
					if err := write(p, data); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, f := range flushes {
				if err := f(); err != nil {
					t.Fatal(err)
				}
			}
			for out, buf := range map[string]*bytes.Buffer{"out.pcap": &pf, "out.pcapng": &nf} {
				p := filepath.Join(tmp, strings.TrimSuffix(name, filepath.Ext(name))+"."+out)
				if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				got := fields(p)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					for i := range min(len(got), len(want)) {
						if got[i] != want[i] {
							t.Errorf("%s: frame %d: tshark %q, original %q", out, i+1, got[i], want[i])
							break
						}
					}
					t.Errorf("%s: %d frames, want %d", out, len(got), len(want))
				}
			}
		})
	}
}
