//go:build linux

package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// DefaultBufferSize is the kernel ring of a live capture when
// Options.BufferSize is zero: about two seconds of a busy SIP server's
// 30 000 packets/s at full size, so a burst or a GC pause is absorbed.
const DefaultBufferSize = 64 << 20

// minBufferSize is where halving on ENOMEM gives up.
const minBufferSize = 1 << 20

// Options configure a live capture. The zero value captures whole
// packets into a 64 MiB ring with a 100 ms poll interval.
type Options struct {
	// SnapLen is the most bytes kept of each packet; 0 means 65535,
	// enough for any SIP message over UDP.
	SnapLen int
	// PollInterval bounds how long Next blocks before it looks at
	// whether the source was closed; 0 means 100 ms.
	PollInterval time.Duration
	// Promiscuous puts a named interface into promiscuous mode.
	Promiscuous bool
	// BufferSize is the kernel ring in bytes (tcpdump -B, in KiB there);
	// 0 means DefaultBufferSize. When the kernel refuses it (ENOMEM) it
	// is halved, down to 1 MiB, and each step is reported in Warnings.
	BufferSize int
	// Filter is a classic BPF program for this source's link type (see
	// LinkTypeFor; package capture/bpf compiles tcpdump expressions),
	// run in the kernel so rejected packets cost nothing here.
	Filter []bpf.RawInstruction
}

// Source is a live AF_PACKET capture. It is used by one goroutine
// (Next), but Close may be called from any goroutine.
type Source struct {
	ctx      context.Context
	name     string
	tp       *afpacket.TPacket
	link     pcap.LinkType
	n        int
	ring     int
	warnings []string
}

// LinkTypeFor is the link type Open will deliver for iface: Ethernet
// for interfaces with an Ethernet header (loopback included), raw IP
// for "any" and interfaces without one. A filter must be compiled for
// it.
func LinkTypeFor(iface string) (pcap.LinkType, error) {
	if iface == "" || iface == "any" {
		return pcap.LinkTypeRaw, nil
	}
	ifi, err := interfaceByName(iface)
	if err != nil {
		return 0, err
	}
	if len(ifi.HardwareAddr) == 6 || ifi.Flags&net.FlagLoopback != 0 {
		return pcap.LinkTypeEthernet, nil
	}
	return pcap.LinkTypeRaw, nil
}

// interfaceByName wraps net.InterfaceByName so that a wrong name lists
// the names that exist.
func interfaceByName(iface string) (*net.Interface, error) {
	ifi, err := net.InterfaceByName(iface)
	if err == nil {
		return ifi, nil
	}
	var names []string
	if all, lerr := net.Interfaces(); lerr == nil {
		for _, i := range all {
			names = append(names, i.Name)
		}
	}
	return nil, fmt.Errorf("%w: %q (interfaces here: any, %s)", ErrNoInterface, iface, strings.Join(names, ", "))
}

// Open starts capturing on iface. "any" (or "") captures on every
// interface; there, and on interfaces without an Ethernet header, the
// kernel hands over the IP packet alone (link type RAW), much like
// libpcap's cooked "any" device. Cancelling ctx ends the capture: Next
// then returns io.EOF within one poll interval, as at the end of a file.
func Open(ctx context.Context, iface string, o Options) (*Source, error) {
	if o.SnapLen <= 0 {
		o.SnapLen = 65535
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 100 * time.Millisecond
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	link := pcap.LinkTypeRaw
	loopback := false
	opts := []any{afpacket.OptPollTimeout(o.PollInterval)}
	if iface != "" && iface != "any" {
		ifi, err := interfaceByName(iface)
		if err != nil {
			return nil, err
		}
		opts = append(opts, afpacket.OptInterface(ifi.Name))
		loopback = ifi.Flags&net.FlagLoopback != 0
		if len(ifi.HardwareAddr) == 6 || ifi.Flags&net.FlagLoopback != 0 {
			// Loopback carries a (zeroed) Ethernet header too.
			link = pcap.LinkTypeEthernet
			opts = append(opts, afpacket.OptAddVLANHeader(true))
		}
	}
	if link == pcap.LinkTypeRaw {
		opts = append(opts, afpacket.OptSocketType(unix.SOCK_DGRAM))
	}
	var warnings []string
	// Frames must hold a whole snaplen; blocks hold several frames, and
	// the ring is as many blocks as fit the buffer.
	frame := frameSize(o.SnapLen)
	block := frame * max(1, (1<<20)/frame)
	size := o.BufferSize
	var tp *afpacket.TPacket
	for {
		blocks := max(size/block, 2)
		var err error
		tp, err = afpacket.NewTPacket(append(opts,
			afpacket.OptFrameSize(frame), afpacket.OptBlockSize(block), afpacket.OptNumBlocks(blocks))...)
		if err == nil {
			size = blocks * block
			break
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("%w (capturing on %s): run as root, or grant the capability once: sudo setcap cap_net_raw,cap_net_admin+ep $(command -v voiptool)", ErrPermission, displayName(iface))
		}
		if errors.Is(err, unix.ENOMEM) && size/2 >= minBufferSize {
			warnings = append(warnings, fmt.Sprintf("%s: the kernel refused a %d MiB ring (out of memory); trying %d MiB", displayName(iface), size>>20, size>>21))
			size /= 2
			continue
		}
		return nil, fmt.Errorf("live: open %q: %w", displayName(iface), err)
	}
	if prog := program(loopback, o.Filter); prog != nil {
		if err := tp.SetBPF(prog); err != nil {
			tp.Close()
			return nil, fmt.Errorf("live: %q: filter: %w", displayName(iface), err)
		}
	}
	if o.Promiscuous && link == pcap.LinkTypeEthernet {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("live: promiscuous %q: %w", iface, err)
		}
	}
	return &Source{ctx: ctx, name: displayName(iface), tp: tp, link: link, ring: size, warnings: warnings}, nil
}

// program is the socket filter: on loopback, where every packet is seen
// twice (leaving and arriving), a prefix keeps the arriving copy, as
// libpcap does on "lo"; then the user's filter. A classic BPF program's
// jumps are relative, so the user's program runs unchanged after the
// prefix.
func program(loopback bool, user []bpf.RawInstruction) []bpf.RawInstruction {
	if !loopback {
		return user
	}
	prefix, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: packetOutgoing, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err) // a constant program: cannot fail
	}
	if len(user) == 0 {
		keep, _ := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0x40000}})
		user = keep
	}
	return append(prefix, user...)
}

// RingSize is the kernel ring's size in bytes, after any halving.
func (s *Source) RingSize() int { return s.ring }

// Warnings are what Open had to give up (a smaller ring), for the user.
func (s *Source) Warnings() []string { return s.warnings }

// packetOutgoing is the kernel's sll_pkttype for a packet we send
// (linux/if_packet.h PACKET_OUTGOING).
const packetOutgoing = 4

func displayName(iface string) string {
	if iface == "" {
		return "any"
	}
	return iface
}

// frameSize rounds snaplen plus the TPACKET header up to the page-sized
// multiple AF_PACKET requires.
func frameSize(snap int) int {
	const page = 4096
	n := snap + 128
	return (n + page - 1) / page * page
}

// Name is the interface being captured.
func (s *Source) Name() string { return s.name }

// LinkType is the link type of every packet this source returns.
func (s *Source) LinkType() pcap.LinkType { return s.link }

// Next returns the next packet. The data aliases the kernel ring and is
// valid until the next call. Once the context given to Open is cancelled
// it returns io.EOF, so a pipeline ends the same way as at the end of a
// file.
func (s *Source) Next() ([]byte, pcap.Packet, error) {
	return s.NextContext(context.Background())
}

// NextContext is Next that also gives up, within one poll interval, once
// ctx is done, returning ctx.Err(). capture.Run reads a live source
// through it on a goroutine of its own (capture.LiveSource).
func (s *Source) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	for {
		if s.ctx.Err() != nil {
			return nil, pcap.Packet{}, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, pcap.Packet{}, err
		}
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, pcap.Packet{}, fmt.Errorf("live: %s: %w", s.name, err)
		}
		s.n++
		return data, pcap.Packet{
			Timestamp:     ci.Timestamp,
			CaptureLength: ci.CaptureLength,
			Length:        ci.Length,
			LinkType:      s.link,
			Number:        s.n,
		}, nil
	}
}

// Stats are the kernel's counters: packets it queued for us and packets
// it dropped because we did not keep up. Drops are shown to the user,
// never hidden.
type Stats struct {
	Received, Dropped uint64
}

// Stats reads the kernel's counters.
func (s *Source) Stats() (Stats, error) {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return Stats{}, fmt.Errorf("live: %s: stats: %w", s.name, err)
	}
	return Stats{Received: uint64(v3.Packets()), Dropped: uint64(v3.Drops())}, nil
}

// KernelStats reads the kernel's counters as capture.KernelStats (safe
// beside Next: afpacket accumulates them under its own lock, since the
// kernel clears them on every read).
func (s *Source) KernelStats() (capture.KernelStats, error) {
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return capture.KernelStats{}, fmt.Errorf("live: %s: stats: %w", s.name, err)
	}
	return capture.KernelStats{
		Received: uint64(v3.Packets()),
		Dropped:  uint64(v3.Drops()),
		Freezes:  uint64(v3.QueueFreezes()),
	}, nil
}

// Close releases the socket. Call it once Next will not be called
// again (after capture.Run returned).
func (s *Source) Close() error {
	s.tp.Close()
	return nil
}
