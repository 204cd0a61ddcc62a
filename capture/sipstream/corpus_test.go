package sipstream

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/pcap"
)

// corpusDir is the shared capture corpus next to the repository root.
const corpusDir = "../../../shared/corpus"

// feedPcap decodes every TCP segment of a capture into a.
func feedPcap(t *testing.T, path string, a *Assembler, emit func(*Message)) {
	t.Helper()
	for _, s := range readSegments(t, path) {
		a.Add(s, emit)
		checkHeld(t, a)
	}
	a.Flush(emit)
}

// readSegments decodes every TCP segment of a capture (innermost IP
// header, so IP-in-IP works); it is test scaffolding, not the capture
// package.
func readSegments(t *testing.T, path string) []*Segment {
	t.Helper()
	var out []*Segment
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for n := uint64(1); ; n++ {
		data, ci, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s packet %d: %v", path, n, err)
		}
		p := gopacket.NewPacket(data, layers.LinkType(ci.LinkType), gopacket.NoCopy)
		var src, dst netip.Addr
		var tcp *layers.TCP
		for _, l := range p.Layers() {
			switch l := l.(type) {
			case *layers.IPv4:
				src, _ = netip.AddrFromSlice(l.SrcIP.To4())
				dst, _ = netip.AddrFromSlice(l.DstIP.To4())
			case *layers.IPv6:
				src, _ = netip.AddrFromSlice(l.SrcIP)
				dst, _ = netip.AddrFromSlice(l.DstIP)
			case *layers.TCP:
				tcp = l
			}
		}
		if tcp == nil || !src.IsValid() {
			continue
		}
		out = append(out, &Segment{
			Src: netip.AddrPortFrom(src, uint16(tcp.SrcPort)), Dst: netip.AddrPortFrom(dst, uint16(tcp.DstPort)),
			Seq: tcp.Seq, SYN: tcp.SYN, FIN: tcp.FIN, RST: tcp.RST,
			Payload: append([]byte(nil), tcp.Payload...), Time: ci.Timestamp, Ref: n,
		})
	}
	return out
}

// TestCorpus compares message counts with tshark 4.x on the public
// captures: `tshark -d tcp.port==6060,sip -Y "sip && tcp" -T fields -e
// sip.CSeq`, one CSeq per SIP message.
func TestCorpus(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not available at %s: %v", corpusDir, err)
	}
	cases := []struct {
		file            string
		msgs, ws, tls   uint64
		minRetransSegs  uint64
		wantStreamsOver uint64
	}{
		{"sip-tcp-g711a-cn-rtcp.pcap", 7, 0, 0, 0, 0},
		{"sip-tcp-port6060-segmented-486-487-cancel-prack-update.pcap", 406, 0, 0, 0, 0},
		{"sip-tcp-to-udp-proxy-tcp-retrans-sll.pcap", 4, 0, 0, 1, 0},
		{"sip-websocket-tcp-plus-udp.pcap", 11, 11, 0, 0, 0},
		{"sip-ipip-tcp.pcap", 4, 0, 0, 0, 0},
		{"sip-tls-midstream-nonmonotonic-ts.pcap", 0, 0, 2, 0, 0},
		{"sip-tls13-sll-g722-rtcp.pcap", 0, 0, 1, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(corpusDir, tc.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s missing: %v", tc.file, err)
			}
			a := New(Options{})
			var n uint64
			feedPcap(t, path, a, func(m *Message) {
				n++
				if startLine(m.Payload) != stYes || m.FirstRef > m.LastRef || m.FirstRef == 0 {
					t.Errorf("bad message refs %d..%d %q", m.FirstRef, m.LastRef, m.Payload[:min(40, len(m.Payload))])
				}
				h := scanHeaders(m.Payload)
				if h.st != stYes || !h.callID || !h.cseq || h.end+h.cl != len(m.Payload) && !m.WebSocket {
					t.Errorf("malformed message %q", m.Payload)
				}
			})
			st := a.Stats()
			t.Logf("%+v", st)
			if n != tc.msgs || st.WebSocketMessages != tc.ws || st.TLSStreams < tc.tls ||
				st.RetransmittedSegments < tc.minRetransSegs || st.Gaps != 0 {
				t.Fatalf("messages %d (want %d), stats %+v", n, tc.msgs, st)
			}
		})
	}
}

// TestCorpusReordered swaps neighbouring data segments and retransmits
// some, in the capture with the most segmented messages: the messages must
// be the same, in the same order, with nothing counted as lost.
func TestCorpusReordered(t *testing.T) {
	path := filepath.Join(corpusDir, "sip-tcp-port6060-segmented-486-487-cancel-prack-update.pcap")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	segs := readSegments(t, path)
	// Messages of one direction keep their order; across directions the
	// emission order follows segment arrival, so compare per direction.
	collect := func(segs []*Segment) []string {
		a := New(Options{})
		var c collector
		for _, s := range segs {
			a.Add(s, c.emit)
		}
		a.Flush(c.emit)
		if st := a.Stats(); st.Gaps != 0 {
			t.Fatalf("gaps: %+v", st)
		}
		perDir := map[flowKey][]string{}
		var order []flowKey
		for _, m := range c.msgs {
			k := flowKey{m.src, m.dst}
			if perDir[k] == nil {
				order = append(order, k)
			}
			perDir[k] = append(perDir[k], m.payload)
		}
		slices.SortFunc(order, func(a, b flowKey) int {
			if c := a.src.Compare(b.src); c != 0 {
				return c
			}
			return a.dst.Compare(b.dst)
		})
		var out []string
		for _, k := range order {
			out = append(out, perDir[k]...)
		}
		return out
	}
	want := collect(segs)
	// The capture starts mid-connection, and without a SYN the first
	// segment seen defines where a stream starts: leave the first two
	// segments of each direction alone.
	seen := map[flowKey]int{}
	var mixed []*Segment
	for i := 0; i < len(segs); i++ {
		seen[flowKey{segs[i].Src, segs[i].Dst}]++
		if i+1 < len(segs) && i%3 == 0 && len(segs[i].Payload) > 0 && !segs[i].FIN && !segs[i+1].FIN &&
			seen[flowKey{segs[i].Src, segs[i].Dst}] > 2 && seen[flowKey{segs[i+1].Src, segs[i+1].Dst}] > 1 {
			seen[flowKey{segs[i+1].Src, segs[i+1].Dst}]++
			mixed = append(mixed, segs[i+1], segs[i], segs[i])
			i++
			continue
		}
		mixed = append(mixed, segs[i])
	}
	got := collect(mixed)
	if len(got) != len(want) || len(want) != 406 {
		t.Fatalf("reordered: %d messages, in order: %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d differs", i)
		}
	}
}
