package filter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/voiptool/voiptool/pcap"
)

func TestErrors(t *testing.T) {
	tests := []struct {
		expr    string
		link    uint32
		wantErr error
		off     int
		tok     string
	}{
		{"udp and portrnge 5060", LinkTypeEthernet, ErrUnknownPrimitive, 8, "portrnge"},
		{"port 70000", LinkTypeEthernet, ErrBadNumber, 5, "70000"},
		{"portrange 1-99999", LinkTypeEthernet, ErrBadNumber, 10, "1-99999"},
		{"host example.com", LinkTypeEthernet, ErrUnsupported, 5, "example.com"},
		{"(udp", LinkTypeEthernet, ErrSyntax, 4, ""},
		{"udp)", LinkTypeEthernet, ErrSyntax, 3, ")"},
		{"udp or 5060", LinkTypeEthernet, ErrSyntax, 7, "5060"},
		{"net 10.1.0.0/8", LinkTypeEthernet, ErrBadAddress, 4, "10.1.0.0"},
		{"host 10.0.0.0/8", LinkTypeEthernet, ErrQualifier, 5, "10.0.0.0"},
		{"ip port 80", LinkTypeEthernet, ErrQualifier, 8, "80"},
		{"tcp host 10.0.0.1", LinkTypeEthernet, ErrQualifier, 9, "10.0.0.1"},
		{"vlan 5000", LinkTypeEthernet, ErrBadNumber, 5, "5000"},
		{"udp and vlan", LinkTypeLinuxSLL, ErrLinkType, 8, "vlan"},
		{"vlan", LinkTypeRaw, ErrLinkType, 0, "vlan"},
		{"ip[0:3] = 1", LinkTypeEthernet, ErrBadNumber, 5, "3"},
		{"ip[0] / 0 = 1", LinkTypeEthernet, ErrBadNumber, 6, "/"},
		{"ip[0] << 32 = 1", LinkTypeEthernet, ErrBadNumber, 6, "<<"},
		{"ip[0] = 1 $", LinkTypeEthernet, ErrSyntax, 10, "$"},
		{"gateway foo", LinkTypeEthernet, ErrUnsupported, 0, "gateway"},
		{"port http", LinkTypeEthernet, ErrUnsupported, 5, "http"},
		{"host 1.2.3.400", LinkTypeEthernet, ErrBadAddress, 5, "1.2.3.400"},
		{"host 2001:db8::1/64", LinkTypeEthernet, ErrQualifier, 5, "2001:db8::1"},
		{"ether src 0:1:2:3:4:5", LinkTypeLinuxSLL, ErrLinkType, 10, "0:1:2:3:4:5"},
		{"host 0:1:2:3:4:5", LinkTypeEthernet, ErrQualifier, 5, "0:1:2:3:4:5"},
		{"udp and multicast", LinkTypeRaw, ErrLinkType, 8, "multicast"},
		{"ether proto 100", LinkTypeEthernet, ErrUnsupported, 12, "100"},
	}
	for _, tt := range tests {
		_, err := Compile(tt.expr, tt.link, 0)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%q: error %v, want %v", tt.expr, err, tt.wantErr)
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: %T is no *SyntaxError", tt.expr, err)
			continue
		}
		if se.Offset != tt.off || se.Token != tt.tok {
			t.Errorf("%q: at %d %q, want %d %q (%v)", tt.expr, se.Offset, se.Token, tt.off, tt.tok, err)
		}
	}
	_, err := Compile("udp and portrnge 5060", LinkTypeEthernet, 0)
	if got, want := err.Error(), `filter: at offset 8 ("portrnge"): unknown primitive`; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	for _, lt := range []uint32{0, 108, 105, 9999} {
		if _, err := Compile("udp", lt, 0); !errors.Is(err, ErrLinkType) {
			t.Errorf("link type %d: %v, want ErrLinkType", lt, err)
		}
	}
	for _, c := range []struct {
		expr string
		lt   uint32
	}{{"arp", LinkTypeRaw}, {"ip6", LinkTypeIPv4}, {"ip and udp port 5060", LinkTypeIPv6}} {
		if _, err := Compile(c.expr, c.lt, 0); !errors.Is(err, ErrRejectsAll) {
			t.Errorf("%q on %d: %v, want ErrRejectsAll", c.expr, c.lt, err)
		}
	}
}

func TestCompileRawMatchesInstructions(t *testing.T) {
	ins, err := CompileInstructions("udp port 5060", LinkTypeLinuxSLL, 1500)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Compile("udp port 5060", LinkTypeLinuxSLL, 1500)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := bpf.Assemble(ins)
	if !reflect.DeepEqual(raw, want) {
		t.Fatal("Compile and CompileInstructions differ")
	}
	var rets []uint32
	for _, in := range ins {
		if r, ok := in.(bpf.RetConstant); ok {
			rets = append(rets, r.Val)
		}
	}
	if !reflect.DeepEqual(rets, []uint32{1500, 0}) {
		t.Errorf("returns %v, want [1500 0]", rets)
	}
	all, err := CompileInstructions("", LinkTypeEthernet, 0)
	if err != nil || len(all) != 1 || all[0] != (bpf.RetConstant{Val: DefaultSnapLen}) {
		t.Errorf("empty expression: %v %v", all, err)
	}
}

// ipv4UDP is a raw IPv4/UDP packet (IHL 5 unless opts) from sport to dport.
func ipv4UDP(sport, dport uint16, opts int, fragOff uint16) []byte {
	ihl := 20 + 4*opts
	b := make([]byte, ihl+8+4)
	b[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], fragOff)
	b[8], b[9] = 64, protoUDP
	copy(b[12:], []byte{10, 0, 0, 1, 10, 0, 0, 2})
	binary.BigEndian.PutUint16(b[ihl:], sport)
	binary.BigEndian.PutUint16(b[ihl+2:], dport)
	return b
}

func run(t *testing.T, expr string, lt uint32, pkt []byte) bool {
	t.Helper()
	prog, err := CompileInstructions(expr, lt, 0)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	return n > 0
}

func TestSemantics(t *testing.T) {
	plain := ipv4UDP(40000, 5060, 0, 0)
	withOpts := ipv4UDP(40000, 5060, 3, 0)
	laterFrag := ipv4UDP(40000, 5060, 0, 185) // offset 1480 bytes: no UDP header really
	tests := []struct {
		expr string
		pkt  []byte
		want bool
	}{
		{"udp port 5060", plain, true},
		{"udp port 5060", withOpts, true}, // ports behind IPv4 options
		{"udp dst port 5060 and src port 40000", withOpts, true},
		{"udp src port 5060", plain, false},
		{"udp port 5060", laterFrag, false}, // tcpdump: not the first fragment
		{WithFragments("udp port 5060"), laterFrag, true},
		{"ip[6:2] & 0x1fff != 0", laterFrag, true},
		{"portrange 5000-5100", plain, true},
		{"portrange 5061-5100", plain, false},
		{"-ip[0] = 0xffffffbb", plain, true}, // -0x45
		{"ip[0] % 3 + 1 = 2", plain, false},  // 0x45 % (3+1) = 1, as libpcap parses it
		{"ip[0] % 3 + 1 = 1", plain, true},
		{"host 10.0.0.1 and dst host 10.0.0.2", plain, true},
		{"net 10 and not net 11", plain, true},
		{"udp or tcp and port 9", plain, false}, // (udp or tcp) and port 9
		{"less 40 and greater 32", plain, true},
	}
	for _, tt := range tests {
		if got := run(t, tt.expr, LinkTypeRaw, tt.pkt); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// TestLongJumps needs conditional jumps further than 255 instructions,
// which classic BPF cannot encode: the emitter adds trampolines.
func TestLongJumps(t *testing.T) {
	var parts []string
	for p := 1; p <= 40; p++ {
		parts = append(parts, fmt.Sprintf("udp port %d", p))
	}
	expr := "(" + strings.Join(parts, " or ") + ") and host 10.0.0.1"
	prog, err := CompileInstructions(expr, LinkTypeRaw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program of %d instructions: too short to test long jumps", len(prog))
	}
	jumps := 0
	for _, in := range prog {
		if _, ok := in.(bpf.Jump); ok {
			jumps++
		}
	}
	if jumps == 0 {
		t.Error("no trampoline in a program needing long jumps")
	}
	for _, c := range []struct {
		port uint16
		want bool
	}{{1, true}, {20, true}, {40, true}, {41, false}} {
		if got := run(t, expr, LinkTypeRaw, ipv4UDP(c.port, 9999, 0, 0)); got != c.want {
			t.Errorf("port %d: %v, want %v", c.port, got, c.want)
		}
	}
	if _, err := Compile(strings.Repeat("udp port 1 or ", 400)+"udp", LinkTypeEthernet, 0); !errors.Is(err, ErrTooLong) {
		t.Errorf("huge program: %v, want ErrTooLong", err)
	}
}

func TestFragmentWarning(t *testing.T) {
	for _, c := range []struct {
		expr string
		want bool
	}{
		{"udp port 5060", true},
		{"port 5060 or port 5061", true},
		{"udp and portrange 10000-20000", true},
		{"not not port 5060", true},
		{"tcp[13] & 2 != 0", true},
		{"host 10.0.0.1 and not port 22", false},
		{"udp", false},
		{"host 10.0.0.1", false},
		{"portrnge 5060", false},
		{"", false},
	} {
		hint, ok := FragmentWarning(c.expr)
		if ok != c.want {
			t.Errorf("%q: warning %v, want %v (%s)", c.expr, ok, c.want, hint)
		}
		if ok && !strings.Contains(hint, "("+c.expr+") or (ip[6:2] & 0x1fff != 0)") {
			t.Errorf("%q: hint %q lacks the widened expression", c.expr, hint)
		}
	}
}

// TestWithFragmentsKeepsFragments: on testdata's fragmented INVITEs a port
// filter drops the tails; the widened expression keeps every packet.
func TestWithFragmentsKeepsFragments(t *testing.T) {
	for _, f := range []string{"ipv4-frag-invite.pcap", "ipv6-frag-invite.pcap"} {
		r, err := pcap.Open(filepath.Join("..", "..", "testdata", "pcaps", f))
		if err != nil {
			t.Fatal(err)
		}
		var plain, widened, total int
		for {
			data, p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			total++
			if run(t, "udp port 5060", uint32(p.LinkType), data) {
				plain++
			}
			if run(t, WithFragments("udp port 5060"), uint32(p.LinkType), data) {
				widened++
			}
		}
		r.Close()
		if total < 2 || plain >= total || widened != total {
			t.Errorf("%s: %d packets, port filter keeps %d, widened %d", f, total, plain, widened)
		}
	}
}

func BenchmarkVMSIPPacket(b *testing.B) {
	prog, err := CompileInstructions("udp port 5060 or udp portrange 10000-20000", LinkTypeEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		b.Fatal(err)
	}
	frame := append(make([]byte, 14), ipv4UDP(16384, 16386, 0, 0)...)
	binary.BigEndian.PutUint16(frame[12:], etherIPv4)
	frame = append(frame, make([]byte, 160)...) // an RTP packet's payload
	b.ReportAllocs()
	for b.Loop() {
		if n, _ := vm.Run(frame); n == 0 {
			b.Fatal("rejected")
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("(udp port 5060 or tcp port 5061) and not host 10.0.0.1 or (ip[6:2] & 0x1fff != 0)", LinkTypeLinuxSLL, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCompileLibpcapAbsent(t *testing.T) {
	if LibpcapAvailable {
		t.Skip("built with libpcap")
	}
	if _, err := CompileLibpcap("udp", LinkTypeEthernet, 0); !errors.Is(err, ErrNoLibpcap) {
		t.Errorf("CompileLibpcap without libpcap: %v", err)
	}
}

// TestDeepNesting: parentheses open arithmetic or boolean expressions;
// deep nests of either compile to the same program as no parentheses.
func TestDeepNesting(t *testing.T) {
	want, err := CompileInstructions("udp and ip[9] = 17", LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	expr := strings.Repeat("(", n) + "udp" + strings.Repeat(")", n) + " and " + strings.Repeat("(", n) + "ip[9]" + strings.Repeat(")", n) + " = 17"
	got, err := CompileInstructions(expr, LinkTypeEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nested program differs:\n%v\n%v", got, want)
	}
}

func BenchmarkCompileDeepParens(b *testing.B) {
	expr := strings.Repeat("(", 5000) + "udp port 5060" + strings.Repeat(")", 5000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(expr, LinkTypeEthernet, 0); err != nil {
			b.Fatal(err)
		}
	}
}
