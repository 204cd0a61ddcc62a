//go:build !linux

package live

import (
	"net"
	"net/netip"
	"time"
)

// InjectorOptions configure an Injector; see the Linux build.
type InjectorOptions struct {
	SendBuffer int
	Wait       time.Duration
}

// InjectStats count frames; see the Linux build.
type InjectStats struct {
	Sent    uint64 `json:"sent"`
	Bytes   uint64 `json:"bytes"`
	Dropped uint64 `json:"dropped_no_room"`
	TooBig  uint64 `json:"dropped_too_big"`
	Errors  uint64 `json:"errors"`
}

// Injector is unavailable off Linux.
type Injector struct{}

// OpenInjector reports ErrUnsupported off Linux.
func OpenInjector(string, InjectorOptions) (*Injector, error) { return nil, ErrUnsupported }

// Interface is nil off Linux.
func (*Injector) Interface() *net.Interface { return nil }

// Addrs reports ErrUnsupported off Linux.
func (*Injector) Addrs() ([]netip.Addr, error) { return nil, ErrUnsupported }

// Send is never reached: OpenInjector fails.
func (*Injector) Send([]byte) error { return ErrUnsupported }

// Stats are zero off Linux.
func (*Injector) Stats() InjectStats { return InjectStats{} }

// Close does nothing.
func (*Injector) Close() error { return nil }
