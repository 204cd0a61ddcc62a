//go:build libpcap && cgo

package filter

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
	"golang.org/x/net/bpf"
)

// LibpcapAvailable reports whether CompileLibpcap works in this build.
const LibpcapAvailable = true

// CompileLibpcap compiles expr with libpcap's own pcap_compile (through
// gopacket/pcap), for the whole of tcpdump's language and every link type
// libpcap knows. It exists only in builds with -tags libpcap and cgo
// (libpcap-dev installed); the default build is pure Go and returns
// ErrNoLibpcap.
func CompileLibpcap(expr string, linkType uint32, snaplen int) ([]bpf.RawInstruction, error) {
	if snaplen <= 0 {
		snaplen = DefaultSnapLen
	}
	dlt := linkType
	if dlt == LinkTypeRaw || dlt == LinkTypeRaw14 {
		// libpcap compiles for a DLT, not a LINKTYPE: raw IP is DLT_RAW,
		// 12 (OpenBSD's 14 is not a DLT elsewhere).
		dlt = LinkTypeRaw12
	}
	ins, err := pcap.CompileBPFFilter(layers.LinkType(dlt), snaplen, expr)
	if err != nil {
		return nil, fmt.Errorf("filter: libpcap: %w", err)
	}
	raw := make([]bpf.RawInstruction, len(ins))
	for i, in := range ins {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return raw, nil
}
