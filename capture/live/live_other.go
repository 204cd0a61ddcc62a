//go:build !linux

package live

import (
	"context"
	"time"

	"golang.org/x/net/bpf"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// Options configure a live capture; see the Linux build.
type Options struct {
	SnapLen      int
	PollInterval time.Duration
	Promiscuous  bool
	BufferSize   int
	Filter       []bpf.RawInstruction
}

// LinkTypeFor reports ErrUnsupported off Linux.
func LinkTypeFor(string) (pcap.LinkType, error) { return 0, ErrUnsupported }

// Warnings are empty off Linux.
func (*Source) Warnings() []string { return nil }

// RingSize is 0 off Linux.
func (*Source) RingSize() int { return 0 }

// Source is unavailable off Linux.
type Source struct{}

// Open reports ErrUnsupported off Linux.
func Open(context.Context, string, Options) (*Source, error) { return nil, ErrUnsupported }

// OpenFanout reports ErrUnsupported off Linux.
func OpenFanout(context.Context, string, Options, int) ([]*Source, error) {
	return nil, ErrUnsupported
}

// Next is never reached: Open fails.
func (*Source) Next() ([]byte, pcap.Packet, error) { return nil, pcap.Packet{}, ErrUnsupported }

// NextContext is never reached: Open fails.
func (*Source) NextContext(context.Context) ([]byte, pcap.Packet, error) {
	return nil, pcap.Packet{}, ErrUnsupported
}

// Name is empty off Linux.
func (*Source) Name() string { return "" }

// KernelStats reports ErrUnsupported off Linux.
func (*Source) KernelStats() (capture.KernelStats, error) {
	return capture.KernelStats{}, ErrUnsupported
}

// Close does nothing.
func (*Source) Close() error { return nil }
