package filter

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

// randomExprs builds n expressions from tcpdump's grammar (a fixed seed:
// the same every run), with addresses and ports that occur in the
// captures, so that their verdicts vary.
func randomExprs(n int) []string {
	r := rand.New(rand.NewPCG(10, 5060))
	pick := func(s ...string) string { return s[r.IntN(len(s))] }
	v4 := func() string {
		return pick("10.0.2.15", "10.0.2.20", "192.168.1.104", "192.168.1.105", "157.161.10.73",
			"5.148.125.101", "10.140.67.167", "10.0.0.1", "192.168.1.10", "224.2.158.25")
	}
	v6 := func() string {
		return pick("fec0::216:d3ff:fe0d:22c", "fe80::21a:a0ff:fe07:32e0", "2001:db8::1", "2001:db8::10",
			"fd17:625c:f037:2:a00:27ff:feb9:3519", "fd17:625c:f037:2:a00:27ff:feb9:4222")
	}
	port := func() string {
		return pick("5060", "5061", "5062", "7902", "1029", "53", "6060", "8080", "9060", "51412", "15060", "25060", "1900")
	}
	net := func() string {
		return pick("10.0.0.0/8", "192.168.1.0/24", "192.168.0.0/16", "172.16.0.0/12", "10.0.2.0/24",
			"157.161.0.0/16", "224.0.0.0/4", "2001:db8::/32", "fd17:625c:f037:2::/64", "fe80::/10", "fec0::/10",
			"10", "192.168", "10.0.0.0 mask 255.0.0.0")
	}
	dir := func() string { return pick("", "", "src ", "dst ", "src or dst ", "src and dst ") }
	var prim func() string
	prim = func() string {
		switch r.IntN(24) {
		case 0:
			return pick("ip", "ip6", "udp", "tcp", "sctp", "icmp", "icmp6", "arp", "igmp")
		case 1:
			return dir() + "host " + v4()
		case 2:
			return dir() + pick("", "ip6 ") + "host " + v6()
		case 3:
			return dir() + "net " + net()
		case 4, 5, 6:
			return pick("", "udp ", "tcp ", "sctp ") + dir() + "port " + port()
		case 7:
			lo := r.IntN(20000)
			return pick("", "udp ", "tcp ") + dir() + fmt.Sprintf("portrange %d-%d", lo, lo+r.IntN(50000))
		case 8:
			return pick("vlan", "vlan 100", "vlan 1508", "vlan 142", "vlan 7")
		case 9:
			return pick("ip", "ip6", "") + " proto " + pick("1", "6", "17", "44", "58", "132")
		case 10:
			return pick("greater ", "less ") + fmt.Sprint(r.IntN(1600))
		case 11:
			return fmt.Sprintf("ip[%d:%s] & 0x%x != 0", r.IntN(20), pick("1", "2", "4"), r.Uint32()&0xffff)
		case 12:
			return pick("ip[6:2] & 0x1fff != 0", "ip[6:2] & 0x1fff = 0", "ip6[6] = 44", "ip[9] = 17", "ip6[6] == 17")
		case 13:
			return fmt.Sprintf("%s[%d:2] %s %d", pick("udp", "tcp", "sctp"), pick2(r, 0, 2), pick("=", "!=", ">", "<=", ">=", "<"), r.IntN(65536))
		case 14:
			return fmt.Sprintf("tcp[tcpflags] & %s != 0", pick("tcp-syn", "tcp-ack", "tcp-fin|tcp-rst", "tcp-push"))
		case 15:
			return fmt.Sprintf("len %s %d", pick(">", "<", ">=", "<=", "=", "!="), r.IntN(1600))
		case 16:
			return fmt.Sprintf("ip[2:2] - ((ip[0] & 0xf) << 2) %s %d", pick(">", "<"), r.IntN(1500))
		case 17:
			return fmt.Sprintf("ether[%d] & %d = %d", r.IntN(20), r.IntN(256), r.IntN(256))
		case 18:
			return "port " + port() + " or " + port()
		case 19:
			return dir() + "host " + v4() + pick(" or ", " and ") + pick("", "not ") + v4()
		case 20:
			return fmt.Sprintf("ip6[%d:%s] %s %d", r.IntN(48), pick("1", "2", "4"), pick(">", "<", "="), r.Uint32()&0xffff)
		case 22:
			return "ether " + pick("host ", "src ", "dst ", "src or dst ") +
				pick("00:13:72:8d:bf:64", "d0:67:e5:14:6b:d3", "1:0:5e:0:0:1", "0:0:0:0:0:2", "ff:ff:ff:ff:ff:ff")
		case 23:
			return pick("broadcast", "multicast", "ip multicast", "ip6 multicast", "ether proto 0x800", "ether proto 0x806")
		default:
			return "port (" + port() + " or " + port() + ")"
		}
	}
	var expr func(depth int) string
	expr = func(depth int) string {
		if depth == 0 || r.IntN(3) == 0 {
			p := prim()
			if r.IntN(5) == 0 {
				p = pick("not ", "!") + p
			}
			return p
		}
		l, rr := expr(depth-1), expr(depth-1)
		op := pick(" and ", " or ", " && ", " || ")
		switch r.IntN(4) {
		case 0:
			return "(" + l + ")" + op + rr
		case 1:
			return l + op + "(" + rr + ")"
		case 2:
			return "not (" + l + op + rr + ")"
		}
		return l + op + rr
	}
	out := make([]string, n)
	for i := range out {
		out[i] = expr(3)
	}
	return out
}

func pick2(r *rand.Rand, a, b int) int {
	if r.IntN(2) == 0 {
		return a
	}
	return b
}

// TestTcpdumpRandomExpressions compares random expressions as
// TestTcpdumpVerdicts compares the table.
func TestTcpdumpRandomExpressions(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping random expressions against tcpdump")
	}
	tcpdump := tcpdumpPath(t)
	tmp := t.TempDir()
	byLink := loadPackets(t)
	exprs := randomExprs(150)
	var links []uint32
	for lt := range byLink {
		if _, ok := TcpdumpName(lt); ok {
			links = append(links, lt)
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i] < links[j] })
	var compiled, bothErr, runs, accepted int
	for _, expr := range exprs {
		for _, lt := range links {
			ours, oerr := CompileInstructions(expr, lt, 0)
			theirs, terr := tcpdumpProgram(t, tcpdump, tmp, tcpdumpLinkType(lt), expr)
			if terr != nil && !errors.Is(terr, errRejectsAllTcpdump) {
				if oerr == nil {
					t.Errorf("link %d %q: tcpdump refuses (%v), we compile it", lt, expr, terr)
				}
				bothErr++
				continue
			}
			if terr != nil {
				theirs = []bpf.Instruction{bpf.RetConstant{}}
			}
			if oerr != nil {
				if !errors.Is(oerr, ErrRejectsAll) {
					t.Errorf("link %d %q: we refuse (%v), tcpdump compiles it", lt, expr, oerr)
					continue
				}
				ours = []bpf.Instruction{bpf.RetConstant{}}
			}
			vo, err := bpf.NewVM(ours)
			if err != nil {
				t.Fatalf("link %d %q: %v", lt, expr, err)
			}
			vt, err := bpf.NewVM(theirs)
			if err != nil {
				t.Fatalf("link %d %q: tcpdump's program: %v", lt, expr, err)
			}
			compiled++
			bad := 0
			for _, p := range byLink[lt] {
				no, _ := vo.Run(p.data)
				nt, _ := vt.Run(p.data)
				runs++
				if nt > 0 {
					accepted++
				}
				if (no > 0) != (nt > 0) {
					if bad++; bad <= 2 {
						t.Errorf("link %d %q: %s packet %d: ours %d, tcpdump %d", lt, expr, p.file, p.num, no, nt)
					}
				}
			}
		}
	}
	t.Logf("%d random expressions × %d link types: %d programs compared over %d packet verdicts (tcpdump accepted %d); %d refused by both",
		len(exprs), len(links), compiled, runs, accepted, bothErr)
	if strings.Count(fmt.Sprint(exprs), "port") == 0 || compiled == 0 {
		t.Fatal("nothing compared")
	}
}
