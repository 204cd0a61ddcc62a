package livecap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/net/bpf"

	"github.com/voiptool/voiptool/capture/filter"
	"github.com/voiptool/voiptool/capture/live"
)

// ErrFilter wraps an expression that does not compile.
// It reads as a user-facing message, without the package prefix, since
// it is the whole of what a user with a typo sees.
var ErrFilter = errors.New("bad capture filter")

// Options are the shared capture options.
type Options struct {
	Ifaces    []string // "any" for every interface
	Expr      string   // tcpdump filter syntax; empty: everything
	BufferMB  int      // kernel ring in MiB (0: live.DefaultBufferSize)
	SnapLen   int      // bytes kept per packet (0: whole packets)
	NoPromisc bool     // tcpdump -p: leave the interface's promiscuous mode alone
	// Fanout reads each interface with this many sockets in one kernel
	// fanout group (0 or 1: one socket); see live.OpenFanout.
	Fanout int
}

// ExprFromArgs joins trailing command-line words into an expression, as
// tcpdump does (`voiptool capture -i any udp port 5060`), or reads it
// from file when one is named (-F), in which case words are an error.
func ExprFromArgs(args []string, file string) (string, error) {
	if file == "" {
		return strings.Join(args, " "), nil
	}
	if len(args) > 0 {
		return "", fmt.Errorf("%w: give the expression either on the command line or with -F, not both", ErrFilter)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	// Lines starting with # are comments (a filter never starts so).
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			lines = append(lines, t)
		}
	}
	return strings.Join(lines, " "), nil
}

// Check compiles the expression for every interface's link type without
// opening anything, so a typo is a usage error before capturing starts.
// It returns the warnings Open would give about the expression.
func (o Options) Check() ([]string, error) {
	var warnings []string
	if o.Expr == "" {
		return nil, nil
	}
	for _, iface := range o.Ifaces {
		lt, err := live.LinkTypeFor(iface)
		if err != nil {
			return nil, err
		}
		if _, err := compile(o.Expr, uint32(lt), o.SnapLen); err != nil {
			return nil, filterErr(err)
		}
	}
	if hint, ok := filter.FragmentWarning(o.Expr); ok {
		warnings = append(warnings, hint)
	}
	return warnings, nil
}

// Open opens every interface with the options. On error, what was
// opened is closed. Warnings are for the user (a smaller ring than
// asked, fragments a filter would drop).
func (o Options) Open(ctx context.Context) ([]*live.Source, []string, error) {
	warnings, err := o.Check()
	if err != nil {
		return nil, nil, err
	}
	var out []*live.Source
	closeAll := func() {
		for _, s := range out {
			s.Close()
		}
	}
	for _, iface := range o.Ifaces {
		lo := live.Options{SnapLen: o.SnapLen, Promiscuous: !o.NoPromisc, BufferSize: o.BufferMB << 20}
		if o.Expr != "" {
			lt, err := live.LinkTypeFor(iface)
			if err != nil {
				closeAll()
				return nil, nil, err
			}
			prog, err := compile(o.Expr, uint32(lt), o.SnapLen)
			if err != nil {
				closeAll()
				return nil, nil, filterErr(err)
			}
			lo.Filter = prog
		}
		group, err := live.OpenFanout(ctx, iface, lo, o.Fanout)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		for _, s := range group {
			warnings = append(warnings, s.Warnings()...)
		}
		out = append(out, group...)
	}
	return out, warnings, nil
}

// filterErr wraps a compile error in ErrFilter without repeating the
// filter package's prefix.
func filterErr(err error) error {
	return fmt.Errorf("%w: %s", ErrFilter, strings.TrimPrefix(err.Error(), "filter: "))
}

// compile is the one place a capture filter is compiled for a socket:
// with our own compiler in the default pure-Go build, with libpcap's
// pcap_compile in a build with -tags libpcap (and cgo), where the whole
// of tcpdump's language is accepted.
func compile(expr string, linkType uint32, snaplen int) ([]bpf.RawInstruction, error) {
	if filter.LibpcapAvailable {
		return filter.CompileLibpcap(expr, linkType, snaplen)
	}
	return filter.Compile(expr, linkType, snaplen)
}
