package hepsource

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/pcap"
)

// arrival is one framed packet and when the listener handed it over.
type arrival struct {
	frame []byte
	at    time.Time
}

// queueLen bounds the frames between the listener's dispatcher and the
// capture's reader; beyond it packets are dropped and counted.
const queueLen = 4096

// Source is a HEP listener read as a capture source.
type Source struct {
	l    *heptransport.Listener
	name string
	dst  netip.AddrPort // the collector's address, the frames' destination

	once    sync.Once
	runErr  chan error
	frames  chan arrival
	free    chan []byte
	dropped atomic.Uint64

	// reader side (the capture's reader goroutine only)
	cur []byte
	n   int
}

// New binds the listener now (so a taken port fails before capturing
// starts); nothing runs until the first NextContext.
func New(addrs []string, o heptransport.ListenOptions) (*Source, error) {
	l, err := heptransport.NewListener(addrs, o)
	if err != nil {
		return nil, err
	}
	bound := l.Addrs()
	dst := netip.AddrPort{}
	if len(bound) > 0 {
		if i := strings.IndexByte(bound[0], ':'); i >= 0 {
			if ap, err := netip.ParseAddrPort(bound[0][i+1:]); err == nil {
				dst = ap
			}
		}
	}
	if dst.Addr().IsUnspecified() || !dst.Addr().IsValid() {
		// A wildcard listener has no one address: the frames name the
		// loopback of its family, with the real port.
		a := netip.IPv6Loopback()
		if !dst.Addr().IsValid() || dst.Addr().Is4() {
			a = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		dst = netip.AddrPortFrom(a, dst.Port())
	}
	s := &Source{l: l, name: "hep " + strings.Join(bound, ","), dst: dst,
		runErr: make(chan error, 1), frames: make(chan arrival, queueLen), free: make(chan []byte, queueLen)}
	for range queueLen {
		s.free <- make([]byte, 0, 2048)
	}
	return s, nil
}

// Name is what status lines call the source.
func (s *Source) Name() string { return s.name }

// Addrs are the bound addresses (a port 0 address has its real port).
func (s *Source) Addrs() []string { return s.l.Addrs() }

// Dropped counts packets lost because the capture fell behind.
func (s *Source) Dropped() uint64 { return s.dropped.Load() }

// Stats are the listener's counters.
func (s *Source) Stats() heptransport.ListenStats { return s.l.Stats() }

// start runs the listener until ctx is done. Its goroutine is waited
// for by the reader that started it: NextContext returns only after the
// listener has stopped, once ctx is done.
func (s *Source) start(ctx context.Context) {
	go func() {
		b := frame.NewBuilder(frame.Options{})
		enc := make([]byte, 0, 2048)
		err := s.l.Run(ctx, func(p *hep.Packet, peer netip.AddrPort) {
			n := p.MarshalSize()
			if cap(enc) < n {
				enc = make([]byte, n)
			}
			enc = enc[:n]
			if _, err := p.MarshalTo(enc); err != nil {
				s.dropped.Add(1)
				return
			}
			now := time.Now()
			f, err := b.Build(peer, s.dst, 17, now, enc)
			if err != nil {
				s.dropped.Add(1)
				return
			}
			select {
			case buf := <-s.free:
				buf = append(buf[:0], f...)
				select {
				case s.frames <- arrival{buf, now}:
				default: // cannot happen: as many buffers as slots
					s.dropped.Add(1)
				}
			default:
				s.dropped.Add(1) // the capture is behind: counted, never blocking the agents' sockets
			}
		})
		s.runErr <- err
	}()
}

// NextContext returns the next HEP packet as an Ethernet/IP/UDP record
// stamped with its arrival time; once ctx is done it waits for the
// listener to stop and returns ctx.Err().
func (s *Source) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	s.once.Do(func() { s.start(ctx) })
	if s.cur != nil {
		s.free <- s.cur
		s.cur = nil
	}
	select {
	case a := <-s.frames:
		s.cur = a.frame
		s.n++
		return a.frame, pcap.Packet{Timestamp: a.at, CaptureLength: len(a.frame), Length: len(a.frame), LinkType: pcap.LinkTypeEthernet, Number: s.n}, nil
	case err := <-s.runErr:
		if err != nil {
			return nil, pcap.Packet{}, fmt.Errorf("hepsource: %w", err)
		}
		return nil, pcap.Packet{}, io.EOF
	case <-ctx.Done():
		if err := <-s.runErr; err != nil && !errors.Is(err, context.Canceled) {
			return nil, pcap.Packet{}, fmt.Errorf("hepsource: %w", err)
		}
		return nil, pcap.Packet{}, ctx.Err()
	}
}

// Next is NextContext without a deadline of its own: it blocks until a
// packet arrives. capture.Run never calls it for a LiveSource.
func (s *Source) Next() ([]byte, pcap.Packet, error) { return s.NextContext(context.Background()) }

// Close releases the sockets of a source that was never read (Run
// releases them itself when its context ends).
func (s *Source) Close() error { return s.l.Close() }
