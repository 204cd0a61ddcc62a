package sipflow

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// corpusDir is the shared public corpus next to the repository.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		t.Skipf("corpus not present at %s (%v): skipping", dir, err)
	}
	return dir
}

// manifestCounts reads the "SIP msgs" column of MANIFEST.md's summary table.
func manifestCounts(t *testing.T, dir string) map[string]int {
	f, err := os.Open(filepath.Join(dir, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([^`]+)` \\| \\d+ \\| [^|]+ \\| \\d+ \\| (\\d+) \\|")
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := row.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[2])
			out[m[1]] = n
		}
	}
	return out
}

type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

func openCapture(t *testing.T, path string) packetReader {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if strings.HasSuffix(path, ".pcapng") {
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// udpSIP feeds every UDP payload (IPv4 fragments reassembled) that starts
// with a SIP start line into s. It returns how many it fed.
func udpSIP(t *testing.T, path string, s *Store) int {
	r := openCapture(t, path)
	defrag := ip4defrag.NewIPv4Defragmenter()
	fed := 0
	var probe Message
	for frame := 1; ; frame++ {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Logf("%s: stop at frame %d: %v", filepath.Base(path), frame, err)
			break
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		var src, dst netip.Addr
		var payload []byte
		var sport, dport uint16
		if ip4, ok := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
			src, _ = netip.AddrFromSlice(ip4.SrcIP)
			dst, _ = netip.AddrFromSlice(ip4.DstIP)
			if ip4.Flags&layers.IPv4MoreFragments != 0 || ip4.FragOffset != 0 {
				whole, err := defrag.DefragIPv4(ip4)
				if err != nil || whole == nil {
					continue
				}
				if whole.Protocol != layers.IPProtocolUDP {
					continue
				}
				p := gopacket.NewPacket(whole.Payload, layers.LayerTypeUDP, gopacket.Default)
				udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
				if !ok {
					continue
				}
				payload, sport, dport = udp.Payload, uint16(udp.SrcPort), uint16(udp.DstPort)
			}
		} else if ip6, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6); ok {
			src, _ = netip.AddrFromSlice(ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(ip6.DstIP)
		}
		if payload == nil {
			udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
			if !ok {
				continue
			}
			payload, sport, dport = udp.Payload, uint16(udp.SrcPort), uint16(udp.DstPort)
		}
		if probe.Unmarshal(payload) != nil {
			continue
		}
		s.Add(payload, Meta{Time: ci.Timestamp, Src: netip.AddrPortFrom(src, sport), Dst: netip.AddrPortFrom(dst, dport),
			Transport: TransportUDP, Frame: frame, Offset: -1})
		fed++
	}
	return fed
}

// plainUDP lists the captures whose SIP is all in whole UDP datagrams
// (IPv4 fragments reassembled here), so our message count must equal
// tshark's. The others carry SIP over TCP, SCTP, TLS, HEP or IPv6 fragments,
// which this test does not reassemble.
var plainUDP = []string{
	"sip-udp-b2bua-reinvite-g711a-bidir.pcap",
	"sip-udp-g711a-bidir-183-earlymedia.pcap",
	"sip-udp-g711a-g711u-two-calls-oneway-rtp.pcap",
	"sip-udp-g711u-bidir-401-183-magicjack.pcap",
	"sip-udp-g722-oneway-rtp.pcap",
	"sip-udp-g726-8-sequential-calls-dynamic-pt.pcap",
	"sip-udp-g729a-oneway-rtp.pcap",
	"sip-udp-ilbc-30ms-oneway-rtp.pcap",
	"sip-udp-opus-oneway-rtp.pcap",
	"sip-udp-pbx-ipv4frag-subscribe-notify-g711u-jitter.pcap",
	"sip-udp-register-invite-cancel-auth-noisy.pcap",
	"sip-udp-rfc2833-dtmf-register-603.pcap",
	"sip-udp-t38-fax-reinvite-megaco.pcap",
	"sip-udp-zrtp-srtcp-register-subscribe-options-rtploss.pcap",
	"sip-ipv6-udp-basic-call.pcap",
	// UDP inside encapsulations gopacket decodes (GRE/ERSPAN, PPPoE, raw IP)
	"sip-erspan-gre-subscribe-notify-refer-hold.pcapng",
	"sip-pppoe-info-dtmf-cancel.pcap",
	"sip-protos-c07-r2-fuzz.pcap",
	"sip-rawip-linktype-invite-403-register-401.pcap",
	"sip-scanner-icmp-quoted-sip.pcap",
	"sip-vlan-gre-ppp-single-100trying.pcapng",
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	want := manifestCounts(t, dir)
	if len(want) < 30 {
		t.Fatalf("MANIFEST parse found %d rows", len(want))
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			s := NewStore(StoreOptions{})
			fed := udpSIP(t, path, s)
			st := s.Stats()
			// every fed payload is either stored or counted as skipped
			if got := st.Messages + st.NoCallID; got != int64(fed) {
				t.Errorf("fed %d, stored %d + no Call-ID %d", fed, st.Messages, st.NoCallID)
			}
			for _, c := range s.Snapshot() {
				if d, ok := s.Call(c.CallID); !ok || len(d.Messages) != c.Messages {
					t.Errorf("call %s: detail messages mismatch", c.CallID)
				}
			}
			_ = s.KPIs(Filter{})
			t.Logf("fed %d, calls %d, retrans %d, warnings %d (tshark: %d)", fed, st.Calls, st.Retransmissions, st.WithWarnings, want[name])
			for _, p := range plainUDP {
				if p == name && int64(want[name]) != st.Messages {
					t.Errorf("SIP messages %d, MANIFEST (tshark) says %d", st.Messages, want[name])
				}
			}
		})
	}
}

// TestCorpusSemantics checks call outcomes against what MANIFEST.md says
// each capture contains.
func TestCorpusSemantics(t *testing.T) {
	dir := corpusDir(t)
	load := func(name string) *Store {
		s := NewStore(StoreOptions{})
		udpSIP(t, filepath.Join(dir, name), s)
		return s
	}
	calls := func(s *Store) []CallSummary {
		f, _ := ParseFilter("type=CALL")
		return s.Calls(f, 0, -1)
	}
	t.Run("magicjack 401 then answered", func(t *testing.T) {
		cs := calls(load("sip-udp-g711u-bidir-401-183-magicjack.pcap"))
		if len(cs) != 1 {
			t.Fatalf("calls %d", len(cs))
		}
		c := cs[0]
		if c.State != StateCompleted || c.FinalCode != 200 || c.AuthChallenges != 1 || c.Messages != 11 || c.PDDMS <= 0 || c.SetupMS <= c.PDDMS || c.DurationMS <= 0 {
			t.Errorf("%+v", c)
		}
	})
	t.Run("603 declined and two answered", func(t *testing.T) {
		s := load("sip-udp-rfc2833-dtmf-register-603.pcap")
		var states []string
		for _, c := range calls(s) {
			states = append(states, c.State.String()+"/"+strconv.Itoa(c.FinalCode))
		}
		// The "two answered calls" are one Call-ID seen on two proxy hops
		// (tshark: two INVITE/180/200/ACK sets with CSeq 20); no BYE.
		if got := strings.Join(states, ","); got != "REJECTED/603,IN CALL/200" {
			t.Errorf("states %s", got)
		}
		k := s.KPIs(Filter{})
		if k.Declined != 1 || k.Answered != 2 || k.Invites != 3 || k.NER != 100 {
			t.Errorf("kpis %+v", k)
		}
	})
	t.Run("erspan hold then resume", func(t *testing.T) {
		s := load("sip-erspan-gre-subscribe-notify-refer-hold.pcapng")
		d, ok := s.Call("cdfef7c7647e97e4ff66fbf504c524e4@192.168.1.191")
		if !ok {
			t.Fatal("call missing")
		}
		var kinds []string
		for _, e := range d.Events {
			if e.Kind == "hold" || e.Kind == "resume" {
				kinds = append(kinds, e.Kind)
			}
		}
		if strings.Join(kinds, ",") != "hold,resume" || d.Summary.OnHold {
			t.Errorf("events %v on hold %v", kinds, d.Summary.OnHold)
		}
	})
	t.Run("b2bua legs linked by SDP", func(t *testing.T) {
		cs := calls(load("sip-udp-b2bua-reinvite-g711a-bidir.pcap"))
		if len(cs) != 2 {
			t.Fatalf("calls %d", len(cs))
		}
		for _, c := range cs {
			if len(c.Legs) != 1 || c.Legs[0].Rule != LinkSDP || c.State != StateCompleted {
				t.Errorf("%s: legs %+v state %v", c.CallID, c.Legs, c.State)
			}
		}
	})
	t.Run("fax retransmissions", func(t *testing.T) {
		s := load("sip-udp-t38-fax-reinvite-megaco.pcap")
		if st := s.Stats(); st.Retransmissions == 0 {
			t.Errorf("no retransmissions found: %+v", st)
		}
	})
}
