package main

import (
	"github.com/spf13/pflag"

	"github.com/voiptool/voiptool/internal/livecap"
)

// liveFlags are the capture options every command with -i shares
// (tcpdump's letters where tcpdump has one).
type liveFlags struct {
	ifaces     []string
	filterFile string
	bufferMB   int
	snaplen    int
	noPromisc  bool
	fanout     int
	expr       string // from trailing words or -F, set by take
}

func (l *liveFlags) addFlags(f *pflag.FlagSet) {
	f.StringArrayVarP(&l.ifaces, "interface", "i", nil, "capture live on `IFACE` (\"any\" for all; needs CAP_NET_RAW); repeatable. With -i, words after the options are a tcpdump capture filter")
	f.StringVarP(&l.filterFile, "filter-file", "F", "", "read the capture filter expression from `FILE`")
	f.IntVarP(&l.bufferMB, "buffer-size", "B", 0, "kernel ring per interface in `MB` (default 64; halved while the kernel refuses)")
	f.IntVarP(&l.snaplen, "snaplen", "s", 0, "keep at most `N` bytes of each packet (default: whole packets)")
	f.BoolVarP(&l.noPromisc, "no-promiscuous-mode", "p", false, "do not put the interface into promiscuous mode")
	f.IntVar(&l.fanout, "fanout", 0, "read each interface with `N` sockets in a kernel fanout group (symmetric flow hash: both directions of a flow on one reader), each on its own goroutine; the -B ring is shared out between them")
}

// take splits positional words: with -i they are the capture filter
// (tcpdump style), else they are files, returned for the caller.
func (l *liveFlags) take(cmd string, args []string) (files []string, err error) {
	if len(l.ifaces) == 0 {
		if l.fanout > 0 {
			return nil, usageErrorf("%s: --fanout needs -i", cmd)
		}
		if l.filterFile != "" {
			return nil, usageErrorf("%s: -F needs -i (a capture filter applies to live interfaces)", cmd)
		}
		return args, nil
	}
	expr, err := livecap.ExprFromArgs(args, l.filterFile)
	if err != nil {
		return nil, usageErrorf("%s: %v", cmd, err)
	}
	l.expr = expr
	o := l.options()
	if _, err := o.Check(); err != nil {
		return nil, usageErrorf("%s: %v", cmd, err)
	}
	return nil, nil
}

func (l *liveFlags) options() livecap.Options {
	return livecap.Options{Ifaces: l.ifaces, Expr: l.expr, BufferMB: l.bufferMB, SnapLen: l.snaplen, NoPromisc: l.noPromisc, Fanout: l.fanout}
}
