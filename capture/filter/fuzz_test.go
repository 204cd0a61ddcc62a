package filter

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
)

var fuzzLinks = []uint32{LinkTypeEthernet, LinkTypeLinuxSLL, LinkTypeSLL2, LinkTypeRaw, LinkTypeIPv4, LinkTypeIPv6}

// FuzzCompile: the compiler never panics; every error is a located
// *SyntaxError whose token is the text at its offset, or one of the
// whole-program errors; every program loads in the VM, stays within the
// kernel's limit and runs on a packet.
func FuzzCompile(f *testing.F) {
	for i, e := range diffExprs {
		f.Add(e, uint8(i))
	}
	pkt := append(make([]byte, 14), ipv4UDP(5060, 5060, 1, 0)...)
	pkt[12] = 0x08
	f.Fuzz(func(t *testing.T, expr string, li uint8) {
		lt := fuzzLinks[int(li)%len(fuzzLinks)]
		prog, err := CompileInstructions(expr, lt, 0)
		if err != nil {
			var se *SyntaxError
			switch {
			case errors.As(err, &se):
				if se.Offset < 0 || se.Offset > len(expr) || !strings.HasPrefix(expr[se.Offset:], se.Token) {
					t.Fatalf("%q: error %v: token %q not at offset %d", expr, err, se.Token, se.Offset)
				}
				if se.Token == "" && se.Offset != len(expr) && strings.TrimSpace(expr[se.Offset:]) != "" {
					t.Fatalf("%q: empty token before the end: %v", expr, err)
				}
			case errors.Is(err, ErrRejectsAll), errors.Is(err, ErrTooLong):
			default:
				t.Fatalf("%q: unlocated error %v", expr, err)
			}
			return
		}
		if len(prog) == 0 || len(prog) > maxInsns {
			t.Fatalf("%q: %d instructions", expr, len(prog))
		}
		if _, err := bpf.Assemble(prog); err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if _, err := vm.Run(pkt); err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
	})
}
