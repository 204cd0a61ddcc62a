package filter

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/voiptool/voiptool/pcap"
)

// diffExprs is compiled by us and by tcpdump for every link type; both
// programs must give the same verdict on every packet of the corpus and
// of testdata/pcaps. Addresses and ports are taken from those captures so
// that most expressions accept some packets and reject others.
var diffExprs = []string{
	"",
	// protocols
	"ip", "ip6", "udp", "tcp", "sctp", "icmp", "icmp6", "igmp", "arp", "rarp",
	"not ip", "!ip6", "ip or ip6", "ip and udp", "ip6 and tcp", "not udp and not tcp",
	"ip proto 17", "ip6 proto 17", "proto 6", "ip6 proto 44", "proto 132",
	// hosts and nets
	"host 10.0.2.15", "src host 10.0.2.15", "dst host 10.0.2.15", "host 192.168.1.104",
	"src or dst host 192.168.1.105", "src and dst host 192.168.1.104", "ip host 157.161.10.73",
	"arp host 192.168.1.1", "host 5.148.125.101 and host 157.161.10.73",
	"host fec0::216:d3ff:fe0d:22c", "ip6 host fe80::21a:a0ff:fe07:32e0", "src host 2001:db8::10",
	"dst host fd17:625c:f037:2:a00:27ff:feb9:3519", "host 2001:db8::1 or host 10.0.0.1",
	"net 10.0.0.0/8", "net 192.168.1.0/24", "src net 192.168.0.0/16", "dst net 172.16.0.0/12",
	"net 10.0.0.0 mask 255.0.0.0", "net 192.168 ", "net 10", "host 10.0.2",
	"net 2001:db8::/32", "src net fd17:625c:f037:2::/64", "dst net fe80::/10", "net ::/0", "net 0.0.0.0/0",
	"not net 10.0.0.0/8", "ip6 net fec0::/10 and udp",
	// ports
	"port 5060", "udp port 5060", "tcp port 5060", "sctp port 5060", "src port 5060", "dst port 5060",
	"udp dst port 5060", "tcp src port 5061", "port 5060 or 5061", "port 5060 or 5061 or 5062",
	"port 5060 and not 5061", "port 6060", "port 8080", "port 9060", "port sip", "udp port sip-tls",
	"src or dst port 7902", "src and dst port 5060", "port 15060 or 25060",
	"portrange 5060-5070", "udp portrange 10000-20000", "tcp portrange 5060-5061", "src portrange 1024-65535",
	"dst portrange 7000-8000", "portrange 5070-5060", "portrange 5060", "port 1029 or portrange 29000-30000",
	"not port 5060", "not udp port 5060", "udp and not port 5060", "host 10.0.2.20 and port 5060",
	"(port 5060 or 5061) and host 192.168.1.104", "host 192.168.1.104 and (port 5060 or 7902)",
	"port (5060 or 7902)", "host (10.0.2.15 or 10.0.2.20)", "port 5060 or not 7902",
	// operators
	"udp or tcp and port 5060", "(udp or tcp) and port 5060", "udp or (tcp and port 5060)",
	"udp && port 5060 || icmp", "!(udp || tcp)", "not not udp", "ip and not (udp and port 7902)",
	"tcp and (port 6060 or port 5061) and not host 10.0.0.1",
	// vlan
	"vlan", "vlan 100", "vlan 1508", "vlan 142", "vlan and udp", "vlan and port 5060", "vlan 100 and udp port 5060",
	"vlan and host 10.140.67.167", "vlan and vlan", "vlan 200 and vlan", "not vlan", "udp or vlan", "vlan or udp",
	"vlan and ip6", "port 5060 or (vlan and port 5060)",
	// byte offsets and arithmetic
	"ip[6:2] & 0x1fff != 0", "ip[6:2] & 0x1fff = 0", "ip[6] & 0x20 != 0", "ip[0] & 0xf > 5",
	"udp port 5060 or (ip[6:2] & 0x1fff != 0)", "(udp port 5060) or (ip[6:2] & 0x1fff != 0) or (ip6[6] = 44)",
	"ip[9] = 17", "ip[2:2] > 1000", "ip[2:2] < 200", "ip[2:2] <= 576", "ip[2:2] >= 1400", "ip[8] == 64",
	"ip6[6] = 44", "ip6[6] == 17 and ip6[4:2] > 500", "tcp[13] & 2 != 0", "tcp[tcpflags] & tcp-syn != 0",
	"udp[0:2] = 5060", "udp[2:2] = 5060 or udp[0:2] = 5060", "udp[8] & 0xc0 = 0x80", "icmp[0] = 3",
	"ether[12:2] = 0x8100", "ether[0] & 1 != 0", "link[0:4] = 0", "len > 1000", "len <= 100", "len - 14 > 500",
	"ip[2:2] - ((ip[0] & 0xf) << 2) > 1000", "ip[ip[0] & 0xf] = 0", "udp[udp[4:2] - 1] = 0x0a",
	"ip[2:2] * 2 / 4 % 256 > 10", "ip[0] | 0xf0 = 0xf5", "ip[0] ^ 0x45 = 0", "ip[0] >> 4 = 4",
	"greater 1000", "less 100", "greater 200 and udp", "1 = 1", "len = len", "ip[0] & 0xf != 5",
	"sctp[0:2] = 5060", "icmp[icmptype] = icmp-unreach", "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
	"ip[0] % 3 + 1 = 2", "ip[0] ^ 5 * 2 = 0x4f", "ip[2:2] * 2 % 7 + 1 > 3",
	// more combinations
	"ip and ip6", "udp and tcp", "ip6 and udp port 5060", "ip6 and not udp", "icmp6 or icmp",
	"dst and src host 192.168.1.104", "not (host 10.0.2.15 or host 10.0.2.20)", "host 10.0.2.15 or arp",
	"vlan and not vlan 100", "vlan 1508 or vlan 142", "sctp port 5060 or sctp port 2905",
	"src host 10.0.2.20 and dst port 5060 and udp", "tcp portrange 5060-5061 or udp port 5060",
	"ip6 net fd17:625c:f037:2::/64 and port 5062", "ip6[40:2] = 5060", "ip6[6] = 17 and ip6[42:2] = 5060",
	"(udp[0:2] = 7902 or udp[2:2] = 7902) and ip[8] < 128", "len > 100 and len < 200 and udp",
	// link layer
	"ether host 00:13:72:8d:bf:64", "ether src d0:67:e5:14:6b:d3", "ether dst 1:0:5e:0:0:1",
	"ether src 1c:e6:c7:53:33:c0 or ether dst 0:0:0:0:0:2", "ether src and dst host 00:00:00:00:00:00",
	"broadcast", "multicast", "ether broadcast", "ether multicast", "ip multicast", "ip6 multicast",
	"not multicast and udp", "ether proto 0x0800", "ether proto 0x86dd", "ether proto 0x806", "ether proto 0x8100",
	"vlan and ether proto 0x800", "ether host 10.0.0.1", "host 00:11:22:33:44:55",
	"ether proto 100", "ip broadcast", "udp port http", "gateway 10.0.0.1", "mpls", "pppoes 7",
	// errors on every link type
	"portrnge 5060", "host", "port 70000", "udp or 5060", "net 10.1.0.0/8", "host 10.0.0.0/8",
	"ip port 80", "vlan 5000", "(udp", "udp)", "ip[0:3] = 1", "ip[0] / 0 = 1", "host example.com",
	"10.0.0.1", "tcp host 10.0.0.1", "ip host ::1", "port 5060-5070",
}

// unsupportedExprs are valid tcpdump that Compile refuses with
// ErrUnsupported (the package doc lists them).
var unsupportedExprs = map[string]bool{
	"ether proto 100": true, "ip broadcast": true, "udp port http": true, "gateway 10.0.0.1": true,
	"mpls": true, "pppoes 7": true,
}

// tcpdumpPath finds tcpdump or skips.
func tcpdumpPath(t testing.TB) string {
	if p, err := exec.LookPath("tcpdump"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/tcpdump", "/usr/bin/tcpdump"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("tcpdump not installed: skipping the comparison with libpcap's compiler")
	return ""
}

// tcpdumpLinkType is the LINKTYPE tcpdump is asked to compile for: all
// raw-IP variants compile alike.
func tcpdumpLinkType(lt uint32) uint32 {
	if lt == LinkTypeRaw12 || lt == LinkTypeRaw14 {
		return LinkTypeRaw
	}
	return lt
}

// errRejectsAllTcpdump marks tcpdump's own "expression rejects all packets".
var errRejectsAllTcpdump = errors.New("tcpdump: expression rejects all packets")

// tcpdumpProgram compiles expr with tcpdump -ddd against an empty capture
// file of the link type (no interface, no privileges needed).
func tcpdumpProgram(t testing.TB, tcpdump, dir string, lt uint32, expr string) ([]bpf.Instruction, error) {
	file := filepath.Join(dir, fmt.Sprintf("empty-%d.pcap", lt))
	if _, err := os.Stat(file); err != nil {
		var hdr [24]byte
		binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
		binary.LittleEndian.PutUint16(hdr[4:], 2)
		binary.LittleEndian.PutUint16(hdr[6:], 4)
		binary.LittleEndian.PutUint32(hdr[16:], 262144)
		binary.LittleEndian.PutUint32(hdr[20:], lt)
		if err := os.WriteFile(file, hdr[:], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(tcpdump, "-ddd", "-r", file, expr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "rejects all packets") {
			return nil, errRejectsAllTcpdump
		}
		return nil, fmt.Errorf("tcpdump: %s", msg)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	var prog []bpf.Instruction
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			continue
		}
		if len(f) != 4 {
			t.Fatalf("tcpdump -ddd line %q", sc.Text())
		}
		var v [4]uint64
		for i := range f {
			v[i], err = strconv.ParseUint(f[i], 10, 32)
			if err != nil {
				t.Fatalf("tcpdump -ddd line %q: %v", sc.Text(), err)
			}
		}
		raw := bpf.RawInstruction{Op: uint16(v[0]), Jt: uint8(v[1]), Jf: uint8(v[2]), K: uint32(v[3])}
		prog = append(prog, raw.Disassemble())
	}
	return prog, nil
}

type capPacket struct {
	file string
	num  int
	data []byte
}

// corpusDirs are the captures compared on: the shared corpus beside the
// repository (or $VOIPTOOL_CORPUS) and the repository's testdata/pcaps.
func corpusDirs(t testing.TB) []string {
	dirs := []string{filepath.Join("..", "..", "testdata", "pcaps")}
	shared := filepath.Join("..", "..", "..", "shared", "corpus")
	if env := os.Getenv("VOIPTOOL_CORPUS"); env != "" {
		shared = env
	}
	if _, err := os.Stat(filepath.Join(shared, "MANIFEST.md")); err == nil {
		dirs = append(dirs, shared)
	} else {
		t.Logf("shared corpus not at %s: comparing on testdata/pcaps only", shared)
	}
	return dirs
}

// loadPackets reads every record of every capture, grouped by link type.
func loadPackets(t testing.TB) map[uint32][]capPacket {
	byLink := map[uint32][]capPacket{}
	for _, dir := range corpusDirs(t) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			name := e.Name()
			if !strings.HasSuffix(name, ".pcap") && !strings.HasSuffix(name, ".pcapng") && !strings.HasSuffix(name, ".gz") {
				continue
			}
			r, err := pcap.Open(filepath.Join(dir, name))
			if err != nil {
				continue // not a capture (garbage-not-pcap.bin and friends)
			}
			for {
				data, p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					break // truncated.pcap: keep what was read
				}
				lt := uint32(p.LinkType) & 0xffff
				data = append([]byte(nil), data...) // the reader reuses its buffer
				byLink[lt] = append(byLink[lt], capPacket{name, p.Number, data})
				if lt == LinkTypeEthernet && p.Number <= transcodePerFile {
					transcode(byLink, name, p.Number, data)
				}
				if lt == LinkTypeLinuxSLL && len(data) >= 16 && p.Number <= transcodePerFile {
					// as an Ethernet frame, for raw IP and cooked v2
					eth := append(make([]byte, 12, 12+len(data)), data[14:]...)
					transcode(byLink, name+" (SLL)", p.Number, eth, LinkTypeSLL2, LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6)
				}
			}
			r.Close()
		}
	}
	return byLink
}

// transcodePerFile is how many Ethernet frames of each capture are also
// re-framed for the other link types, so that each of them is compared on
// the corpus's variety (VLAN, IPv6, fragments, tunnels, ARP) and not only
// on its few native captures.
const transcodePerFile = 200

// transcode re-frames an Ethernet frame as Linux cooked v1 and v2, and
// (VLAN tags stripped) as raw IP and raw IPv4/IPv6, or only as the link
// types listed.
func transcode(byLink map[uint32][]capPacket, file string, num int, eth []byte, only ...uint32) {
	if len(eth) < 14 {
		return
	}
	add := func(lt uint32, tag string, b []byte) {
		if len(only) > 0 && !slices.Contains(only, lt) {
			return
		}
		byLink[lt] = append(byLink[lt], capPacket{file + " as " + tag, num, b})
	}
	etype, payload := eth[12:14], eth[14:]
	sll := make([]byte, 14, 16+len(payload))
	binary.BigEndian.PutUint16(sll[2:], 1) // ARPHRD_ETHER
	binary.BigEndian.PutUint16(sll[4:], 6)
	copy(sll[6:], eth[6:12])
	add(LinkTypeLinuxSLL, "SLL", append(append(sll, etype...), payload...))
	sll2 := make([]byte, 20, 20+len(payload))
	copy(sll2, etype)
	binary.BigEndian.PutUint32(sll2[4:], 2) // ifindex
	binary.BigEndian.PutUint16(sll2[8:], 1)
	sll2[11] = 6
	copy(sll2[12:], eth[6:12])
	add(LinkTypeSLL2, "SLL2", append(sll2, payload...))
	et := binary.BigEndian.Uint16(etype)
	for (et == ether8021Q || et == ether8021AD || et == ether8021QinQ) && len(payload) >= 4 {
		et, payload = binary.BigEndian.Uint16(payload[2:]), payload[4:]
	}
	switch et {
	case etherIPv4:
		add(LinkTypeIPv4, "IPV4", payload)
		add(LinkTypeRaw, "RAW", payload)
		add(LinkTypeRaw12, "RAW12", payload)
	case etherIPv6:
		add(LinkTypeIPv6, "IPV6", payload)
		add(LinkTypeRaw, "RAW", payload)
	}
}

func TestTcpdumpVerdicts(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	tmp := t.TempDir()
	byLink := loadPackets(t)
	var links []uint32
	for lt := range byLink {
		links = append(links, lt)
	}
	sort.Slice(links, func(i, j int) bool { return links[i] < links[j] })

	var exprsCompared, runs, accepted, linksCompared, oursLen, theirsLen int
	for _, lt := range links {
		pkts := byLink[lt]
		if _, ok := TcpdumpName(lt); !ok {
			if _, err := CompileInstructions("udp", lt, 0); !errors.Is(err, ErrLinkType) {
				t.Errorf("link type %d: Compile error %v, want ErrLinkType", lt, err)
			}
			t.Logf("link type %d (%d packets): not supported, skipped", lt, len(pkts))
			continue
		}
		linksCompared++
		t.Logf("link type %d: %d packets", lt, len(pkts))
		for _, expr := range diffExprs {
			ours, oerr := CompileInstructions(expr, lt, 0)
			theirs, terr := tcpdumpProgram(t, tcpdump, tmp, tcpdumpLinkType(lt), expr)
			rejectAll := []bpf.Instruction{bpf.RetConstant{Val: 0}}
			switch {
			case terr != nil && !errors.Is(terr, errRejectsAllTcpdump):
				if oerr == nil {
					t.Errorf("link %d %q: tcpdump refuses (%v), we compile it", lt, expr, terr)
				}
				continue
			case terr != nil:
				theirs = rejectAll
			}
			if unsupportedExprs[expr] {
				if !errors.Is(oerr, ErrUnsupported) {
					t.Errorf("link %d %q: %v, want ErrUnsupported", lt, expr, oerr)
				}
				continue
			}
			if oerr != nil {
				if !errors.Is(oerr, ErrRejectsAll) {
					t.Errorf("link %d %q: we refuse (%v), tcpdump compiles it", lt, expr, oerr)
					continue
				}
				ours = rejectAll
			}
			vo, err := bpf.NewVM(ours)
			if err != nil {
				t.Fatalf("link %d %q: our program does not load: %v\n%v", lt, expr, err, ours)
			}
			vt, err := bpf.NewVM(theirs)
			if err != nil {
				t.Fatalf("link %d %q: tcpdump's program does not load: %v", lt, expr, err)
			}
			exprsCompared++
			oursLen += len(ours)
			theirsLen += len(theirs)
			bad := 0
			for _, p := range pkts {
				no, _ := vo.Run(p.data)
				nt, _ := vt.Run(p.data)
				runs++
				if nt > 0 {
					accepted++
				}
				if (no > 0) != (nt > 0) {
					bad++
					if bad <= 3 {
						t.Errorf("link %d %q: %s packet %d: ours %d, tcpdump %d", lt, expr, p.file, p.num, no, nt)
					}
				}
			}
			if bad > 3 {
				t.Errorf("link %d %q: %d packets differ in all", lt, expr, bad)
			}
		}
	}
	t.Logf("compared %d expression×link-type programs (%d expressions, %d link types) over %d packet verdicts; tcpdump accepted %d",
		exprsCompared, len(diffExprs), linksCompared, runs, accepted)
	t.Logf("program size: ours %d instructions in all, tcpdump's (optimised) %d", oursLen, theirsLen)
	if exprsCompared == 0 || accepted == 0 {
		t.Fatal("nothing compared")
	}
}
