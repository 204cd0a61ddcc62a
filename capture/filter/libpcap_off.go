//go:build !libpcap || !cgo

package filter

import "golang.org/x/net/bpf"

// LibpcapAvailable reports whether CompileLibpcap works in this build.
const LibpcapAvailable = false

// CompileLibpcap needs a build with -tags libpcap and cgo; this pure-Go
// build returns ErrNoLibpcap.
func CompileLibpcap(expr string, linkType uint32, snaplen int) ([]bpf.RawInstruction, error) {
	return nil, ErrNoLibpcap
}
