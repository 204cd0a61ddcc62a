package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/voiptool/voiptool/sipflow"
)

// corpusDir is the shared public corpus next to the repository root.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		t.Skipf("corpus not present at %s (%v): skipping", dir, err)
	}
	return dir
}

// corpusStore feeds the UDP payloads of a plain Ethernet pcap into a
// store. Fragments and tunnels are not handled: the files below need
// neither.
func corpusStore(t *testing.T, path string) *sipflow.Store {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var (
		eth layers.Ethernet
		ip4 layers.IPv4
		ip6 layers.IPv6
		udp layers.UDP
		pl  gopacket.Payload
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &udp, &pl)
	p.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	s := sipflow.NewStore(sipflow.StoreOptions{})
	for frame := 1; frame < 1_000_000; frame++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, frame, err)
		}
		if err := p.DecodeLayers(data, &decoded); err != nil {
			continue // not Ethernet/IP/UDP; the SIP parser is what is under test here
		}
		var src, dst netip.Addr
		hasUDP := false
		for _, l := range decoded {
			switch l {
			case layers.LayerTypeIPv4:
				src, _ = netip.AddrFromSlice(ip4.SrcIP)
				dst, _ = netip.AddrFromSlice(ip4.DstIP)
			case layers.LayerTypeIPv6:
				src, _ = netip.AddrFromSlice(ip6.SrcIP)
				dst, _ = netip.AddrFromSlice(ip6.DstIP)
			case layers.LayerTypeUDP:
				hasUDP = true
			}
		}
		if !hasUDP || len(udp.Payload) == 0 {
			continue
		}
		s.Add(udp.Payload, sipflow.Meta{
			Time: ci.Timestamp.UTC(), Frame: frame, Offset: -1, Transport: sipflow.TransportUDP,
			Src: netip.AddrPortFrom(src, uint16(udp.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(udp.DstPort)),
		})
	}
	return s
}

// TestCorpusRenders runs every writer over every call of real captures,
// including the PROTOS malformed-INVITE suite, and checks the outputs
// parse back.
func TestCorpusRenders(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{
		"sip-udp-b2bua-reinvite-g711a-bidir.pcap",
		"sip-udp-register-invite-cancel-auth-noisy.pcap",
		"sip-udp-t38-fax-reinvite-megaco.pcap",
		"sip-ipv6-udp-basic-call.pcap",
		"sip-protos-c07-r2-fuzz.pcap",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s missing: %v", name, err)
			}
			s := corpusStore(t, path)
			calls := s.Snapshot()
			if len(calls) == 0 {
				t.Fatal("no dialogs found")
			}
			var b bytes.Buffer
			if err := WriteCalls(&b, FormatCSV, calls, TableOptions{}); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil || len(recs) != len(calls)+1 {
				t.Fatalf("CSV: %d records for %d calls, err %v", len(recs), len(calls), err)
			}
			b.Reset()
			if err := WriteCalls(&b, FormatJSON, calls, TableOptions{}); err != nil {
				t.Fatal(err)
			}
			var arr []json.RawMessage
			if err := json.Unmarshal(b.Bytes(), &arr); err != nil || len(arr) != len(calls) {
				t.Fatalf("JSON: %d objects for %d calls, err %v", len(arr), len(calls), err)
			}
			if err := WriteCalls(io.Discard, FormatTable, calls, TableOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := WriteKPIs(io.Discard, FormatTable, s.KPIs(sipflow.Filter{})); err != nil {
				t.Fatal(err)
			}
			details := make([]sipflow.CallDetail, 0, len(calls))
			for _, c := range calls {
				d, ok := s.Call(c.CallID)
				if !ok {
					t.Fatalf("Call(%q) missing", c.CallID)
				}
				details = append(details, d)
			}
			// One ladder per call and one with every dialog merged.
			flows := []Flow{FlowFromCalls(details, nil)}
			for _, d := range details[:min(len(details), 20)] {
				flows = append(flows, FlowFromCalls([]sipflow.CallDetail{d}, nil))
			}
			for _, f := range flows {
				for ff := FlowText; ff <= FlowHTML; ff++ {
					b.Reset()
					if err := WriteFlow(&b, ff, f, FlowOptions{}); err != nil {
						t.Fatal(err)
					}
					if ff == FlowSVG || ff == FlowHTML {
						xmlWellFormed(t, b.Bytes())
					}
				}
			}
		})
	}
}
