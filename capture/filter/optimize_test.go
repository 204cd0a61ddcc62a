package filter

import (
	"testing"

	"golang.org/x/net/bpf"
)

// plainProgram compiles expr without the emitter's optimisations.
func plainProgram(expr string, lt uint32) ([]bpf.Instruction, error) {
	l, err := linkFor(lt)
	if err != nil {
		return nil, err
	}
	root, err := parse(expr, l)
	if err != nil {
		return nil, err
	}
	return assembleWith(root, DefaultSnapLen, true)
}

// truncations are the lengths each packet is also cut to: the
// optimisations only skip loads made before on the same path, so even
// packets too short for the headers get the same verdicts.
var truncations = []int{1, 13, 15, 17, 21, 23, 27, 33, 35, 41, 47, 55, 57, 63}

// TestOptimizationsKeepVerdicts: the optimised program and the program as
// written agree on every packet of the captures, whole and truncated.
func TestOptimizationsKeepVerdicts(t *testing.T) {
	byLink := loadPackets(t)
	exprs := append(append([]string(nil), diffExprs...), randomExprs(150)...)
	var progs, runs, saved int
	for lt, pkts := range byLink {
		if _, ok := TcpdumpName(lt); !ok {
			continue
		}
		// Every 4th packet whole and every 16th cut short: the corpus's
		// RTP streams are many packets alike.
		step := 4
		if testing.Short() {
			step = 32
		}
		for _, expr := range exprs {
			opt, err := CompileInstructions(expr, lt, 0)
			if err != nil {
				continue
			}
			plain, err := plainProgram(expr, lt)
			if err != nil {
				t.Fatalf("link %d %q: unoptimised: %v", lt, expr, err)
			}
			saved += len(plain) - len(opt)
			vo, _ := bpf.NewVM(opt)
			vp, _ := bpf.NewVM(plain)
			progs++
			bad := 0
			check := func(p capPacket, b []byte) {
				a, _ := vo.Run(b)
				c, _ := vp.Run(b)
				runs++
				if a != c {
					if bad++; bad <= 2 {
						t.Errorf("link %d %q: %s packet %d (%d bytes): optimised %d, as written %d", lt, expr, p.file, p.num, len(b), a, c)
					}
				}
			}
			for i := 0; i < len(pkts); i += step {
				p := pkts[i]
				check(p, p.data)
				if i%(4*step) == 0 {
					for _, n := range truncations {
						if n < len(p.data) {
							check(p, p.data[:n])
						}
					}
				}
			}
		}
	}
	t.Logf("%d programs, %d verdicts compared; optimisation saved %d instructions", progs, runs, saved)
}

// FuzzOptimizations: on any packet the optimised program returns what the
// program as written returns.
func FuzzOptimizations(f *testing.F) {
	pkt := append(make([]byte, 14), ipv4UDP(5060, 5061, 1, 0)...)
	pkt[12] = 0x08
	for i, e := range diffExprs {
		f.Add(e, uint8(i), pkt[:len(pkt)-i%len(pkt)])
	}
	f.Fuzz(func(t *testing.T, expr string, li uint8, data []byte) {
		lt := fuzzLinks[int(li)%len(fuzzLinks)]
		opt, err := CompileInstructions(expr, lt, 0)
		if err != nil {
			return
		}
		plain, err := plainProgram(expr, lt)
		if err != nil {
			t.Fatalf("%q: unoptimised: %v", expr, err)
		}
		vo, err := bpf.NewVM(opt)
		if err != nil {
			t.Fatal(err)
		}
		vp, err := bpf.NewVM(plain)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := vo.Run(data)
		b, _ := vp.Run(data)
		if a != b {
			t.Fatalf("%q on %x: optimised %d, as written %d", expr, data, a, b)
		}
	})
}
