//go:build libpcap && cgo

package filter

import (
	"reflect"
	"testing"

	"golang.org/x/net/bpf"
)

// TestLibpcapMatchesTcpdump: CompileLibpcap is libpcap itself, so its
// program is tcpdump's instruction for instruction; and its verdicts are
// ours on every packet.
func TestLibpcapMatchesTcpdump(t *testing.T) {
	tcpdump := tcpdumpPath(t)
	tmp := t.TempDir()
	byLink := loadPackets(t)
	n := 0
	for _, lt := range []uint32{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeRaw} {
		for _, expr := range []string{"udp port 5060", "vlan and tcp", "ip[6:2] & 0x1fff != 0", "host 10.0.2.15 or net 2001:db8::/32"} {
			raw, err := CompileLibpcap(expr, lt, 0)
			if lt != LinkTypeEthernet && expr == "vlan and tcp" {
				if err == nil {
					t.Errorf("%q on %d: libpcap compiled it", expr, lt)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%q on %d: %v", expr, lt, err)
			}
			lib := make([]bpf.Instruction, len(raw))
			for i, r := range raw {
				lib[i] = r.Disassemble()
			}
			td, err := tcpdumpProgram(t, tcpdump, tmp, lt, expr)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(lib, td) {
				t.Errorf("%q on %d: libpcap and tcpdump -ddd differ", expr, lt)
			}
			ours, err := CompileInstructions(expr, lt, 0)
			if err != nil {
				t.Fatal(err)
			}
			vo, _ := bpf.NewVM(ours)
			vl, err := bpf.NewVM(lib)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range byLink[lt] {
				a, _ := vo.Run(p.data)
				b, _ := vl.Run(p.data)
				n++
				if (a > 0) != (b > 0) {
					t.Errorf("%q on %d: %s packet %d: ours %d, libpcap %d", expr, lt, p.file, p.num, a, b)
				}
			}
		}
	}
	t.Logf("%d verdicts compared with libpcap", n)
}
