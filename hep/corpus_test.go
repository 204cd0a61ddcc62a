package hep

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// corpusDir is the shared capture corpus, a sibling of the repository root.
const corpusDir = "../../shared/corpus"

const (
	corpusPlain      = "hep3-udp9060-sip-options-publish-rtcpjson-log.pcap"
	corpusCompressed = "hep3-udp9060-sll-compressed.pcapng"
)

func corpusPath(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(corpusDir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available (%v); the shared corpus lives next to the repository", name, err)
	}
	return p
}

type packetReader interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// corpusPayloads returns the UDP payloads of every packet in a corpus file
// (pcap or pcapng, any link type gopacket decodes).
func corpusPayloads(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open(corpusPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r packetReader
	if strings.HasSuffix(name, ".pcapng") {
		r, err = pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	} else {
		r, err = pcapgo.NewReader(f)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out [][]byte
	for i := 0; i < 100000; i++ { // bound: corpus files are small
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s packet %d: %v", name, i, err)
		}
		pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			t.Fatalf("%s packet %d: no UDP layer", name, i)
		}
		out = append(out, append([]byte(nil), udp.Payload...))
	}
	return out
}

func TestCorpusPlain(t *testing.T) {
	pkts := corpusPayloads(t, corpusPlain)
	if len(pkts) != 8 {
		t.Fatalf("%d packets, MANIFEST says 8", len(pkts))
	}
	var sip, logs, rtcp int
	for i, b := range pkts {
		var p Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if p.Version != 3 || p.CaptureID != 2001 || string(p.AuthKey) != "myHep" ||
			string(p.CorrelationID) != "qgf3dm9rudi@127.0.0.1" || p.Family != familyIPv4 || p.Protocol != 17 ||
			p.Compressed || len(p.Extra) != 0 {
			t.Fatalf("packet %d: %+v", i, p)
		}
		if p.Time.Year() != 2016 {
			t.Fatalf("packet %d: time %v", i, p.Time)
		}
		a1, a2 := netip.MustParseAddr("192.168.1.1"), netip.MustParseAddr("192.168.1.2")
		if !(p.Src.Addr() == a1 && p.Dst.Addr() == a2) && !(p.Src.Addr() == a2 && p.Dst.Addr() == a1) {
			t.Fatalf("packet %d: %v -> %v", i, p.Src, p.Dst)
		}
		switch p.ProtoType {
		case ProtoSIP:
			sip++
			if p.Src.Port() != 5060 || !(bytes.HasPrefix(p.Payload, []byte("SIP/2.0 ")) || bytes.Contains(p.Payload[:16], []byte(" sip:"))) {
				t.Fatalf("packet %d: SIP payload %.30q from port %d", i, p.Payload, p.Src.Port())
			}
		case ProtoLog:
			logs++
		case ProtoRTCPJSON:
			rtcp++
			if p.Payload[0] != '{' {
				t.Fatalf("packet %d: RTCP JSON payload %.30q", i, p.Payload)
			}
		}
		assertRoundTrip(t, &p)
	}
	// MANIFEST: INVITE/100/407, OPTIONS/200, PUBLISH, one LOG, one JSON RTCP report.
	if sip != 6 || logs != 1 || rtcp != 1 {
		t.Fatalf("SIP %d LOG %d RTCP %d, want 6/1/1", sip, logs, rtcp)
	}
}

func TestCorpusCompressed(t *testing.T) {
	pkts := corpusPayloads(t, corpusCompressed)
	if len(pkts) != 21 {
		t.Fatalf("%d packets, MANIFEST says 21", len(pkts))
	}
	var buf []byte
	for i, b := range pkts {
		var p Packet
		if err := p.Unmarshal(b); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !p.Compressed || p.ProtoType != ProtoSIP || p.CaptureID != 228 || p.Protocol != 6 {
			t.Fatalf("packet %d: %+v", i, p)
		}
		var err error
		buf, err = p.Decompress(buf[:0])
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !bytes.HasPrefix(buf, []byte("REGISTER sip:")) && !bytes.HasPrefix(buf, []byte("SIP/2.0 ")) {
			t.Fatalf("packet %d inflates to %.40q", i, buf)
		}
		if !bytes.HasSuffix(buf, []byte("\r\n")) {
			t.Fatalf("packet %d: inflated SIP does not end in CRLF: %q", i, buf[len(buf)-10:])
		}
		assertRoundTrip(t, &p)
	}
}

// tsharkHEP returns the tshark arguments that make HEP3 fields available:
// nothing when tshark dissects HEP natively, -X lua_script:$VOIPTOOL_HEP_LUA
// when that names sipcapture/hep-wireshark's hep.lua; ok=false otherwise.
func tsharkHEP(t *testing.T) (args []string, ok bool) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		return nil, false
	}
	if lua := os.Getenv("VOIPTOOL_HEP_LUA"); lua != "" {
		args = []string{"-X", "lua_script:" + lua}
	}
	// tshark requires -G to be its first argument.
	out, err := exec.Command("tshark", append([]string{"-G", "fields"}, args...)...).Output()
	if err != nil || !bytes.Contains(out, []byte("\thep3.capture_id\t")) {
		return nil, false
	}
	return args, true
}

// TestCorpusTshark compares the decode of both corpus files with tshark's
// HEP dissector, field by field.
func TestCorpusTshark(t *testing.T) {
	args, ok := tsharkHEP(t)
	if !ok {
		t.Skip("tshark with HEP3 fields not available (tshark 4.0 has no native HEP dissector; " +
			"set VOIPTOOL_HEP_LUA to sipcapture/hep-wireshark lua/hep.lua to enable)")
	}
	protoNames := map[ProtoType]string{ProtoSIP: "SIP", ProtoRTCPJSON: "JSON/RTCP", ProtoLog: "LOG"}
	for _, name := range []string{corpusPlain, corpusCompressed} {
		pkts := corpusPayloads(t, name)
		cmd := exec.Command("tshark", append(args, "-r", corpusPath(t, name), "-T", "fields", "-E", "separator=|",
			"-e", "hep3.src_ipv4_address", "-e", "hep3.dst_ipv4_address", "-e", "hep3.src_port", "-e", "hep3.dst_port",
			"-e", "hep3.timestamp", "-e", "hep3.timestamp_us", "-e", "hep3.capture_id", "-e", "hep3.protocol_type",
			"-e", "hep3.auth_key")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if len(lines) != len(pkts) {
			t.Fatalf("%s: tshark %d lines, %d packets", name, len(lines), len(pkts))
		}
		for i, line := range lines {
			var p Packet
			if err := p.Unmarshal(pkts[i]); err != nil {
				t.Fatal(err)
			}
			f := strings.Split(line, "|")
			port := func(a netip.AddrPort) string {
				if a.Port() == 0 && !p.bit(ChunkSrcPort) {
					return ""
				}
				return strconv.Itoa(int(a.Port()))
			}
			want := []string{p.Src.Addr().String(), p.Dst.Addr().String(), port(p.Src), port(p.Dst),
				strconv.FormatInt(p.Time.Unix(), 10), strconv.Itoa(p.Time.Nanosecond() / 1000),
				strconv.FormatUint(uint64(p.CaptureID), 10), protoNames[p.ProtoType], string(p.AuthKey)}
			for j := range want {
				if f[j] != want[j] {
					t.Errorf("%s packet %d field %d: tshark %q, hep %q (line %q)", name, i, j, f[j], want[j], line)
				}
			}
		}
	}
}

func TestCorpusUnmarshalAllocs(t *testing.T) {
	pkts := corpusPayloads(t, corpusPlain)
	var p Packet
	for i, b := range pkts {
		if n := testing.AllocsPerRun(200, func() { _ = p.Unmarshal(b) }); n != 0 {
			t.Fatalf("packet %d: Unmarshal allocates %v times", i, n)
		}
	}
}

// TestCorpusTruncations decodes every prefix of every corpus packet: each
// must fail with a sentinel error (never panic), and a prefix cut inside the
// chunk list must keep the chunks before the cut.
func TestCorpusTruncations(t *testing.T) {
	pkts := append(corpusPayloads(t, corpusPlain), corpusPayloads(t, corpusCompressed)[:3]...)
	sentinels := []error{ErrTruncatedPacket, ErrTruncated, ErrBadLength, ErrBadChunkLen, ErrBadMagic}
	for i, full := range pkts {
		for n := 0; n < len(full); n++ {
			var p Packet
			err := p.Unmarshal(full[:n])
			known := false
			for _, s := range sentinels {
				known = known || errors.Is(err, s)
			}
			if !known {
				t.Fatalf("packet %d cut at %d: err %v", i, n, err)
			}
		}
		// With the total length patched to the cut, decoding stops at a
		// chunk boundary error but keeps the leading chunks.
		cut := append([]byte(nil), full[:23]...) // inside the third chunk of both senders' layouts
		cut[4], cut[5] = 0, 23
		var p Packet
		if err := p.Unmarshal(cut); !errors.Is(err, ErrTruncated) {
			t.Fatalf("packet %d: %v", i, err)
		}
		if p.Family != familyIPv4 || (p.Protocol != 17 && p.Protocol != 6) {
			t.Fatalf("packet %d: leading chunks lost: %+v", i, p)
		}
	}
}
