//go:build !linux

package live

import (
	"context"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// Options configure a live capture; see the Linux build.
type Options struct {
	SnapLen      int
	PollInterval time.Duration
	Promiscuous  bool
}

// Source is unavailable off Linux.
type Source struct{}

// Open reports ErrUnsupported off Linux.
func Open(context.Context, string, Options) (*Source, error) { return nil, ErrUnsupported }

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
