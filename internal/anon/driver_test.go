package anon

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/pcap"
)

// anonymizeFile runs AnonymizeCapture from in to a file in dir, in the
// input's format.
func anonymizeFile(t *testing.T, m *Mapper, in, out string, o CaptureOptions) CaptureStats {
	t.Helper()
	r, err := pcap.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := m.LearnCapture(r, o); err != nil && !isDamage(err) {
		t.Fatal(err)
	}
	r.Close()
	if r, err = pcap.Open(in); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st CaptureStats
	if r.Format().Kind == pcap.FormatPcapng {
		w, err := pcap.NewNgWriter(f, pcap.NgWriterOptions{Application: "voiptool anonymize"})
		if err != nil {
			t.Fatal(err)
		}
		st, err = m.AnonymizeCapture(r, &NgInterfaces{W: w, R: r}, o)
		if err != nil && !isDamage(err) {
			t.Fatal(err)
		}
		w.Flush()
	} else {
		w, err := pcap.NewWriter(f, pcap.WriterOptions{LinkType: r.LinkType(), Nanosecond: r.Format().Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		st, err = m.AnonymizeCapture(r, w, o)
		if err != nil && !isDamage(err) {
			t.Fatal(err)
		}
		w.Flush()
	}
	return st
}

// isDamage: a damaged file ends reading; what came before was written.
func isDamage(err error) bool {
	var fe *pcap.FormatError
	return errors.As(err, &fe)
}

// events decodes a capture and counts its payloads by kind.
func events(t *testing.T, path string) map[capture.Kind]int {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d := capture.NewDecoder(capture.Options{})
	n := map[capture.Kind]int{}
	emit := func(ev *capture.Event) { n[ev.Kind]++ }
	for {
		data, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if isDamage(err) {
				break
			}
			t.Fatal(err)
		}
		d.Decode(data, p, emit)
	}
	d.Flush(emit)
	return n
}

// TestAnonymizeCaptures runs every generated capture through the driver:
// every record is written or counted, the output decodes to as many SIP
// and RTP payloads as were written, and the leak checker finds none of
// the originals in any byte of the output file.
func TestAnonymizeCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*.pcap*"))
	if len(files) == 0 {
		t.Skip("no testdata/pcaps")
	}
	for _, in := range files {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			if r, err := pcap.Open(in); err != nil {
				t.Skip("not a capture:", err)
			} else {
				r.Close()
			}
			m := NewMapper(testKey(t, "driver"), Options{})
			out := filepath.Join(t.TempDir(), strings.TrimSuffix(name, ".gz"))
			st := anonymizeFile(t, m, in, out, CaptureOptions{})
			if st.Written+st.NotWritten() != st.Records {
				t.Fatalf("records %d, written %d + not written %d: %+v", st.Records, st.Written, st.NotWritten(), st)
			}
			if strings.Contains(name, "-frag-") && (st.Defragmented == 0 || st.FragmentsMerged == 0 || st.DroppedReassembled != 0) {
				t.Errorf("fragmented capture: %d datagrams written reassembled, %d fragments merged, %d dropped as reassembled", st.Defragmented, st.FragmentsMerged, st.DroppedReassembled)
			}
			before, after := events(t, in), events(t, out)
			if after[capture.KindHEP] != st.HEP {
				t.Errorf("output has %d HEP payloads, %d were written", after[capture.KindHEP], st.HEP)
			}
			if after[capture.KindSIP] != st.SIP+st.SIPText {
				t.Errorf("output has %d SIP payloads, %d were written (%+v, input %v)", after[capture.KindSIP], st.SIP+st.SIPText, st, before)
			}
			// RTP is recognised through the SDP of SIP that was written
			if st.DroppedFixup+st.DroppedReassembled == 0 && after[capture.KindRTP] != st.RTP {
				t.Errorf("output has %d RTP payloads, %d were written (%+v)", after[capture.KindRTP], st.RTP, st)
			}
			rep, err := leak.ScanFile(out, leak.NewChecker(m.Identifiers()), 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range rep.Hits {
				t.Errorf("leak in record %d at %d: %v %q (%v)", h.Frame, h.Offset, h.Category, h.Ident, h.Encoding)
			}
			t.Logf("%d records: %d written, SIP %d, RTP %d, RTCP %d; dropped %d (no VoIP %d, reassembled %d, HEP %d); %d identifiers",
				st.Records, st.Written, st.SIP, st.RTP, st.RTCP, st.Dropped(), st.DroppedNoVoIP, st.DroppedReassembled, st.DroppedHEP, m.Identifiers().Len())
		})
	}
}

// TestAnonymizeTshark: tshark reads the output without checksum or
// malformed-packet complaints.
func TestAnonymizeTshark(t *testing.T) {
	ts, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	for _, name := range []string{"basic-call.pcap", "tcp-multi-message.pcap", "tunnels-vxlan.pcap", "vlan-qinq.pcap", "pcapng-two-interfaces.pcapng", "ipv4-frag-invite.pcap", "ipv6-frag-invite.pcap", "websocket.pcap"} {
		in := filepath.Join("..", "..", "testdata", "pcaps", name)
		if _, err := os.Stat(in); err != nil {
			continue
		}
		m := NewMapper(testKey(t, "tshark"), Options{})
		out := filepath.Join(t.TempDir(), name)
		anonymizeFile(t, m, in, out, CaptureOptions{})
		cmd := exec.Command(ts, "-n", "-r", out, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
			"-o", "tcp.check_checksum:TRUE", "-Y", "_ws.expert.severity >= warning && !(_ws.expert.message contains \"Connection\") && !(tcp.analysis)", "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message")
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v\n%s", name, err, b)
		}
		if s := strings.TrimSpace(string(b)); s != "" {
			t.Errorf("%s: tshark warnings:\n%s", name, s)
		}
	}
}

// corpusDir is the shared public corpus next to the repository root.
func corpusDir(t testing.TB) string {
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("shared corpus absent:", dir)
	}
	return dir
}

// TestAnonymizeCorpus: the real captures of the shared corpus, anonymised
// in two passes, hold none of their originals in any byte of the output.
func TestAnonymizeCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir(t), "*.pcap*"))
	for _, in := range files {
		name := filepath.Base(in)
		t.Run(name, func(t *testing.T) {
			m := NewMapper(testKey(t, "corpus"), Options{})
			out := filepath.Join(t.TempDir(), strings.TrimSuffix(name, ".gz"))
			st := anonymizeFile(t, m, in, out, CaptureOptions{})
			if st.Written+st.NotWritten() != st.Records {
				t.Fatalf("records %d, written %d + not written %d", st.Records, st.Written, st.NotWritten())
			}
			rep, err := leak.ScanFile(out, leak.NewChecker(m.Identifiers()), 0)
			if err != nil && !isDamage(err) {
				t.Fatal(err)
			}
			for i, h := range rep.Hits {
				if i == 20 {
					t.Errorf("... %d hits", len(rep.Hits))
					break
				}
				t.Errorf("leak in record %d at %d: %v %q (%v)", h.Frame, h.Offset, h.Category, h.Ident, h.Encoding)
			}
			t.Logf("%d records: %d written (SIP %d, text %d, RTP %d, RTCP %d); dropped: no VoIP %d, reassembled %d, HEP %d, fixup %d, media %d, decode %d; %d identifiers",
				st.Records, st.Written, st.SIP, st.SIPText, st.RTP, st.RTCP, st.DroppedNoVoIP, st.DroppedReassembled, st.DroppedHEP,
				st.DroppedFixup, st.DroppedBadMedia, st.DroppedDecodeErrors, m.Identifiers().Len())
		})
	}
}

// memWriter keeps written records.
type memWriter struct{ recs [][]byte }

func (w *memWriter) WritePacket(p pcap.Packet, data []byte) error {
	if p.CaptureLength != len(data) {
		return errors.New("capture length is not the data's")
	}
	w.recs = append(w.recs, append([]byte(nil), data...))
	return nil
}

// FuzzAnonymizeRecord: any Ethernet record through the driver: no panic,
// every record written or counted, and a written record decodes again.
func FuzzAnonymizeRecord(f *testing.F) {
	for _, name := range []string{"basic-call.pcap", "tunnels-vxlan.pcap", "vlan-qinq.pcap", "tcp-multi-message.pcap", "hep3-in-udp.pcap"} {
		r, err := pcap.Open(filepath.Join("..", "..", "testdata", "pcaps", name))
		if err != nil {
			continue
		}
		for k := 0; k < 3; k++ {
			data, _, err := r.Next()
			if err != nil {
				break
			}
			if r.LinkType() == pcap.LinkTypeEthernet {
				f.Add(append([]byte(nil), data...))
			}
		}
		r.Close()
	}
	key, _ := KeyFromString("fuzz")
	f.Fuzz(func(t *testing.T, rec []byte) {
		var file bytes.Buffer
		w, _ := pcap.NewWriter(&file, pcap.WriterOptions{LinkType: pcap.LinkTypeEthernet})
		w.WritePacket(pcap.Packet{Timestamp: time.Unix(1, 0), CaptureLength: len(rec), Length: len(rec)}, rec)
		w.Flush()
		r, err := pcap.NewReader(bytes.NewReader(file.Bytes()), "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		var out memWriter
		m := NewMapper(key, Options{})
		st, err := m.AnonymizeCapture(r, &out, CaptureOptions{})
		if err != nil {
			return // a record the reader refused
		}
		if st.Written+st.NotWritten() != st.Records || len(out.recs) != st.Written {
			t.Fatalf("accounting %+v, %d written", st, len(out.recs))
		}
		d := capture.NewDecoder(capture.Options{})
		for _, o := range out.recs {
			d.Decode(o, pcap.Packet{Timestamp: time.Unix(1, 0), CaptureLength: len(o), Length: len(o), LinkType: pcap.LinkTypeEthernet, Number: 1}, func(*capture.Event) {})
		}
	})
}

// --keep-unparsed writes what the default drops for being understood
// nowhere (no VoIP payload, decode errors) as captured, byte for byte,
// and counts it; everything else is as without it.
func TestKeepUnparsed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "*.pcap"))
	tried := 0
	for _, in := range files {
		if r, err := pcap.Open(in); err != nil {
			continue
		} else {
			r.Close()
		}
		dir := t.TempDir()
		plain := anonymizeFile(t, NewMapper(testKey(t, "keep"), Options{}), in, filepath.Join(dir, "a.pcap"), CaptureOptions{})
		if plain.DroppedNoVoIP+plain.DroppedDecodeErrors == 0 {
			continue
		}
		tried++
		kept := anonymizeFile(t, NewMapper(testKey(t, "keep"), Options{}), in, filepath.Join(dir, "b.pcap"), CaptureOptions{KeepUnparsed: true})
		if kept.KeptUnparsed != plain.DroppedNoVoIP+plain.DroppedDecodeErrors || kept.DroppedNoVoIP+kept.DroppedDecodeErrors != 0 {
			t.Errorf("%s: kept %d as captured, the default dropped %d (no VoIP) + %d (decode errors); still dropped %d + %d",
				filepath.Base(in), kept.KeptUnparsed, plain.DroppedNoVoIP, plain.DroppedDecodeErrors, kept.DroppedNoVoIP, kept.DroppedDecodeErrors)
		}
		if kept.Written != plain.Written+kept.KeptUnparsed || kept.SIP != plain.SIP || kept.RTP != plain.RTP {
			t.Errorf("%s: written %d (default %d + kept %d), SIP %d/%d, RTP %d/%d", filepath.Base(in), kept.Written, plain.Written, kept.KeptUnparsed, kept.SIP, plain.SIP, kept.RTP, plain.RTP)
		}
		if tried == 3 {
			break
		}
	}
	if tried == 0 {
		t.Fatal("no generated capture has records without VoIP: the test proves nothing")
	}
}
