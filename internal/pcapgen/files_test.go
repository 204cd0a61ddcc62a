package pcapgen

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// committedDir is testdata/pcaps at the repository root.
const committedDir = "../../testdata/pcaps"

// TestCommittedFilesUpToDate regenerates every scenario into a temporary
// directory and requires the committed files to be byte-identical, and
// that testdata/pcaps holds nothing else but README.md.
func TestCommittedFilesUpToDate(t *testing.T) {
	tmp := t.TempDir()
	if err := Write(tmp); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"README.md": true}
	for _, s := range Scenarios() {
		want[s.File] = true
		got, err := os.ReadFile(filepath.Join(tmp, s.File))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join(committedDir, s.File))
		if err != nil {
			t.Errorf("%s: %v (run go generate ./internal/pcapgen)", s.File, err)
			continue
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("%s: committed file differs from the generator (run go generate ./internal/pcapgen)", s.File)
		}
	}
	ents, err := os.ReadDir(committedDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !want[e.Name()] {
			t.Errorf("unexpected file testdata/pcaps/%s: not produced by pcapgen", e.Name())
		}
	}
	readme, err := os.ReadFile(filepath.Join(committedDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Scenarios() {
		if !bytes.Contains(readme, []byte("`"+s.File+"`")) {
			t.Errorf("README.md does not describe %s", s.File)
		}
	}
}

func TestScenarioTable(t *testing.T) {
	total := 0
	names := map[string]bool{}
	for _, s := range Scenarios() {
		if names[s.Name] || names[s.File] {
			t.Errorf("duplicate scenario %s", s.Name)
		}
		names[s.Name], names[s.File] = true, true
		if len(s.Bytes()) >= 100_000 {
			t.Errorf("%s: %d bytes, want < 100 KB", s.File, len(s.Bytes()))
		}
		total += len(s.Bytes())
		if s.Description == "" {
			t.Errorf("%s: no description", s.Name)
		}
		w := s.Want
		if !w.ReadErr && w.Packets == 0 {
			t.Errorf("%s: no packets", s.Name)
		}
		if w.UDP+w.TCP+w.SCTP != w.Packets && !w.ReadErr {
			t.Errorf("%s: UDP+TCP+SCTP = %d, Packets = %d", s.Name, w.UDP+w.TCP+w.SCTP, w.Packets)
		}
		if len(w.Streams) > 0 {
			pk := 0
			for _, st := range w.Streams {
				pk += st.Packets
			}
			if pk != w.RTP {
				t.Errorf("%s: streams hold %d packets, RTP = %d", s.Name, pk, w.RTP)
			}
		}
		msgs := 0
		for _, d := range w.Dialogs {
			msgs += d.Messages
		}
		if len(w.Dialogs) > 0 && msgs != w.SIP {
			t.Errorf("%s: dialogs hold %d messages, SIP = %d", s.Name, msgs, w.SIP)
		}
	}
	if total >= 1_500_000 {
		t.Errorf("total %d bytes, want < 1.5 MB", total)
	}
}

// TestDeterministic builds the table twice and compares every byte.
func TestDeterministic(t *testing.T) {
	a, b := Scenarios(), Scenarios()
	for i := range a {
		if !bytes.Equal(a[i].Bytes(), b[i].Bytes()) {
			t.Errorf("%s differs between two builds", a[i].File)
		}
	}
}

// rec is one record read back by pcapgo.
type rec struct {
	ci   gopacket.CaptureInfo
	data []byte
	link layers.LinkType
}

// readBack reads a scenario's bytes with gopacket's pcapgo readers,
// which share no code with this package's writers.
func readBack(t *testing.T, s Scenario) ([]rec, error) {
	t.Helper()
	var r io.Reader = bytes.NewReader(s.Bytes())
	if strings.HasSuffix(s.File, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, err
		}
		r = zr
	}
	var out []rec
	if strings.HasSuffix(s.File, ".pcapng") {
		ng, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, err
		}
		for {
			data, ci, err := ng.ReadPacketData()
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			if err != nil {
				return out, err
			}
			lt := ng.LinkType()
			if len(ci.AncillaryData) > 0 {
				if v, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					lt = v
				}
			}
			out = append(out, rec{ci, data, lt})
		}
	}
	pr, err := pcapgo.NewReader(r)
	if err != nil {
		return nil, err
	}
	for {
		data, ci, err := pr.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec{ci, data, pr.LinkType()})
	}
}
