//go:build linux

package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// Options configure a live capture. The zero value captures whole
// packets with a 100 ms poll interval.
type Options struct {
	// SnapLen is the most bytes kept of each packet; 0 means 65535,
	// enough for any SIP message over UDP.
	SnapLen int
	// PollInterval bounds how long Next blocks before it looks at
	// whether the source was closed; 0 means 100 ms.
	PollInterval time.Duration
	// Promiscuous puts a named interface into promiscuous mode.
	Promiscuous bool
}

// Source is a live AF_PACKET capture. It is used by one goroutine
// (Next), but Close may be called from any goroutine.
type Source struct {
	ctx  context.Context
	name string
	tp   *afpacket.TPacket
	link pcap.LinkType
	n    int
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
	link := pcap.LinkTypeRaw
	loopback := false
	opts := []any{
		afpacket.OptPollTimeout(o.PollInterval),
		// Frames must hold a whole snaplen; the block size is a multiple.
		afpacket.OptFrameSize(frameSize(o.SnapLen)),
		afpacket.OptBlockSize(frameSize(o.SnapLen) * 32),
		afpacket.OptNumBlocks(64),
	}
	if iface != "" && iface != "any" {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return nil, fmt.Errorf("live: interface %q: %w", iface, err)
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
	tp, err := afpacket.NewTPacket(opts...)
	if err != nil {
		return nil, fmt.Errorf("live: open %q: %w", displayName(iface), err)
	}
	if loopback {
		// Every packet on loopback is seen twice, leaving and arriving;
		// keep the arriving copy, as libpcap does on "lo".
		prog, err := bpf.Assemble(dropOutgoing())
		if err == nil {
			err = tp.SetBPF(prog)
		}
		if err != nil {
			tp.Close()
			return nil, fmt.Errorf("live: %q: filter: %w", iface, err)
		}
	}
	if o.Promiscuous && link == pcap.LinkTypeEthernet {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("live: promiscuous %q: %w", iface, err)
		}
	}
	return &Source{ctx: ctx, name: displayName(iface), tp: tp, link: link}, nil
}

// packetOutgoing is the kernel's sll_pkttype for a packet we send
// (linux/if_packet.h PACKET_OUTGOING).
const packetOutgoing = 4

// dropOutgoing is a classic BPF program that drops PACKET_OUTGOING copies
// (the packet-type ancillary load) and keeps the rest whole.
func dropOutgoing() []bpf.Instruction {
	return []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 1},
		bpf.RetConstant{Val: 0x40000},
		bpf.RetConstant{Val: 0},
	}
}

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
