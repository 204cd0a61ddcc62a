package heptransport

import (
	"bytes"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// Listener defaults.
const (
	DefaultDedupWindow = 2 * time.Second
	DefaultDedupMax    = 1 << 16 // remembered messages
	DefaultQueueLen    = 1024    // frames between the readers and fn
	DefaultMaxConns    = 1024    // concurrent TCP/TLS connections
	// DefaultMaxConnsPerSource bounds one host's connections, so a
	// single misbehaving host cannot take every slot.
	DefaultMaxConnsPerSource = 256
	// DefaultIdleTimeout closes a connection that sent nothing (not even
	// a keep-alive) for this long.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultDedupTolerance is how far apart two agents' capture times
	// of one packet may be (clock skew between capture hosts plus path
	// delay) for the copies to count as one.
	DefaultDedupTolerance = 50 * time.Millisecond
	maxDatagram           = 65535
	tcpReadBuf            = 2 * maxDatagram // room for one full frame plus a partial one
	handshakeTimeout      = 10 * time.Second
)

var magic3 = []byte("HEP3")

// ListenOptions configures a Listener. The zero value is useful.
type ListenOptions struct {
	// AuthKey, when set, must equal the packet's auth key chunk (0x000e)
	// exactly (constant-time compare); other packets are counted in
	// AuthFailures and dropped. HEPv1/v2 carry no key and always fail.
	AuthKey string
	// DedupWindow: a message with the same payload and addresses as one
	// received less than this long ago is dropped and counted (0: 2 s;
	// negative: no de-duplication).
	DedupWindow time.Duration
	DedupMax    int // bound on remembered messages (0: DefaultDedupMax)
	// DedupTolerance: copies from different agents (capture id or host)
	// are one packet only when their HEP capture times differ by at most
	// this (0: DefaultDedupTolerance). Copies from the same agent are
	// never merged: those are retransmissions.
	DedupTolerance time.Duration
	// QueueLen bounds the frames waiting for fn (0: DefaultQueueLen). A UDP
	// datagram that finds no free slot is dropped and counted in Overruns;
	// TCP readers wait instead (TCP flow control pushes back on the agent).
	QueueLen int
	// MaxConns bounds concurrent connections per TCP/TLS address (0:
	// DefaultMaxConns). When full, a new connection evicts the one idle
	// longest rather than being refused: idle connections must not lock
	// out an agent that has something to send.
	MaxConns int
	// MaxConnsPerSource bounds one host's connections per address (0:
	// DefaultMaxConnsPerSource); beyond it, that host's longest-idle
	// connection is evicted.
	MaxConnsPerSource int
	// IdleTimeout closes a connection that sent nothing for this long
	// (0: DefaultIdleTimeout; negative: never).
	IdleTimeout time.Duration
	TLS         TLSFiles // "tls:" addresses need CertFile and KeyFile
	// Now is the clock for the dedup window (arrival time); nil: time.Now.
	Now func() time.Time
}

// ListenStats counts what a Listener saw. A frame is a UDP datagram or one
// length-framed packet cut from a TCP/TLS stream.
type ListenStats struct {
	Received     uint64 // frames read
	Bytes        uint64
	Decoded      uint64 // frames that decoded (including pings, auth failures, duplicates)
	Delivered    uint64 // packets handed to fn
	Bad          uint64 // frames that did not decode, plus TCP resyncs
	NotHEP3      uint64 // TCP/TLS stream positions that were not "HEP3" (v1/v2 over TCP, garbage)
	AuthFailures uint64
	Duplicates   uint64
	Pings        uint64 // keep-alives: header-only "HEP3", or no payload and protocol type 0
	Overruns     uint64 // UDP datagrams dropped because fn fell behind
	Conns        uint64 // TCP/TLS connections accepted
	ConnsRefused uint64 // TLS handshakes that failed (bad or missing certificate, timeout)
	ConnsEvicted uint64 // connections closed to make room (MaxConns, MaxConnsPerSource)
	ConnsIdle    uint64 // connections closed after IdleTimeout without data
	// ByProto counts delivered packets per HEP protocol type (chunk 0x000b).
	ByProto [256]uint64
	// LastError describes the latest bad frame (with its offset) or I/O error.
	LastError string
}

type counters struct {
	received, bytes, decoded, delivered, bad, notHEP3, auth, dups, pings, overruns, conns, refused atomic.Uint64
	evicted, idle                                                                                  atomic.Uint64
	byProto                                                                                        [256]atomic.Uint64
	mu                                                                                             sync.Mutex
	lastErr                                                                                        string
}

func (c *counters) setErr(err error) {
	c.mu.Lock()
	c.lastErr = err.Error()
	c.mu.Unlock()
}

// Listener is a HEP collector on UDP, TCP and TLS sockets.
type Listener struct {
	o       ListenOptions
	udp     []*net.UDPConn
	streams []streamListener
	c       counters
	authKey []byte
	running atomic.Bool
}

type streamListener struct {
	l   net.Listener
	tls *tls.Config
}

// frame is one packet's bytes in a pooled buffer, on its way to fn.
type frame struct {
	buf  *[]byte
	peer netip.AddrPort
}

// NewListener binds every address now (so a port 0 address gets its real
// port, see Addrs) but starts no goroutine.
func NewListener(addrs []string, o ListenOptions) (*Listener, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("%w: no listen address", ErrBadAddress)
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = DefaultDedupWindow
	}
	if o.DedupMax <= 0 {
		o.DedupMax = DefaultDedupMax
	}
	if o.QueueLen <= 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxConnsPerSource <= 0 {
		o.MaxConnsPerSource = DefaultMaxConnsPerSource
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.DedupTolerance <= 0 {
		o.DedupTolerance = DefaultDedupTolerance
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l := &Listener{o: o, authKey: []byte(o.AuthKey)}
	for _, raw := range addrs {
		a, err := ParseAddr(raw)
		if err != nil {
			l.Close()
			return nil, err
		}
		switch a.Transport {
		case UDP:
			ua, err := net.ResolveUDPAddr("udp", a.HostPort)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("heptransport: listen %s: %w", a, err)
			}
			c, err := net.ListenUDP("udp", ua)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("heptransport: listen %s: %w", a, err)
			}
			_ = c.SetReadBuffer(4 << 20) // bursts from many agents; best effort
			l.udp = append(l.udp, c)
		default:
			var cfg *tls.Config
			if a.Transport == TLS {
				if cfg, err = o.TLS.config(true, ""); err != nil {
					l.Close()
					return nil, err
				}
			}
			ln, err := net.Listen("tcp", a.HostPort)
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("heptransport: listen %s: %w", a, err)
			}
			l.streams = append(l.streams, streamListener{ln, cfg})
		}
	}
	return l, nil
}

// Addrs returns the bound addresses in the form ParseAddr accepts, UDP
// sockets first, then TCP/TLS, each group in the order given.
func (l *Listener) Addrs() []string {
	var out []string
	for _, c := range l.udp {
		out = append(out, "udp:"+c.LocalAddr().String())
	}
	for _, s := range l.streams {
		scheme := "tcp:"
		if s.tls != nil {
			scheme = "tls:"
		}
		out = append(out, scheme+s.l.Addr().String())
	}
	return out
}

// Close releases the sockets of a Listener whose Run was never called.
func (l *Listener) Close() error {
	var errs []error
	for _, c := range l.udp {
		errs = append(errs, c.Close())
	}
	for _, s := range l.streams {
		errs = append(errs, s.l.Close())
	}
	return errors.Join(errs...)
}

// Listen binds addrs and serves them until ctx is done; see Listener.Run.
func Listen(ctx context.Context, addrs []string, o ListenOptions, fn func(*hep.Packet, netip.AddrPort)) error {
	l, err := NewListener(addrs, o)
	if err != nil {
		return err
	}
	return l.Run(ctx, fn)
}

// Run reads until ctx is done, then closes the sockets and connections,
// delivers the frames already read, waits for every goroutine it started
// and returns (nil after a cancellation; an Accept failure other than the
// shutdown stops Run and is returned). Goroutines: one reader per UDP socket, one accept loop per
// TCP/TLS socket plus one per connection, and one dispatcher.
//
// fn is called from the dispatcher only, one packet at a time in arrival
// order, so it may write to a single-writer store without locking. The
// *hep.Packet and every byte slice in it (Payload, AuthKey, ...) alias a
// pooled buffer that is reused after fn returns: copy what you keep. peer
// is the agent's address (the UDP source or TCP remote end).
func (l *Listener) Run(ctx context.Context, fn func(*hep.Packet, netip.AddrPort)) error {
	if !l.running.CompareAndSwap(false, true) {
		return fmt.Errorf("%w: Listener.Run called twice", ErrClosed)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan *[]byte, l.o.QueueLen)
	for range l.o.QueueLen {
		b := make([]byte, 0, 2048)
		free <- &b
	}
	in := make(chan frame, l.o.QueueLen)

	var dispatch sync.WaitGroup
	dispatch.Add(1)
	go func() {
		defer dispatch.Done()
		l.dispatch(in, free, fn)
	}()

	var readers sync.WaitGroup
	for _, c := range l.udp {
		readers.Add(1)
		go func() {
			defer readers.Done()
			l.readUDP(ctx, c, in, free)
		}()
	}
	var errMu sync.Mutex
	var runErr error
	for _, s := range l.streams {
		readers.Add(1)
		go func() {
			defer readers.Done()
			if err := l.accept(ctx, s, in, free); err != nil {
				errMu.Lock()
				runErr = errors.Join(runErr, err)
				errMu.Unlock()
				cancel()
			}
		}()
	}
	<-ctx.Done()
	l.Close() // unblocks reads and accepts
	readers.Wait()
	close(in)
	dispatch.Wait()
	return runErr
}

// Stats returns a snapshot of the counters. Safe to call at any time.
func (l *Listener) Stats() ListenStats {
	c := &l.c
	s := ListenStats{
		Received: c.received.Load(), Bytes: c.bytes.Load(), Decoded: c.decoded.Load(),
		Delivered: c.delivered.Load(), Bad: c.bad.Load(), NotHEP3: c.notHEP3.Load(),
		AuthFailures: c.auth.Load(), Duplicates: c.dups.Load(), Pings: c.pings.Load(),
		Overruns: c.overruns.Load(), Conns: c.conns.Load(), ConnsRefused: c.refused.Load(),
		ConnsEvicted: c.evicted.Load(), ConnsIdle: c.idle.Load(),
	}
	for i := range s.ByProto {
		s.ByProto[i] = c.byProto[i].Load()
	}
	c.mu.Lock()
	s.LastError = c.lastErr
	c.mu.Unlock()
	return s
}

func (l *Listener) readUDP(ctx context.Context, c *net.UDPConn, in chan<- frame, free chan *[]byte) {
	scratch := make([]byte, maxDatagram)
	errRun := 0 // consecutive read errors
	for {
		n, peer, err := c.ReadFromUDPAddrPort(scratch)
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
				l.c.setErr(fmt.Errorf("heptransport: UDP read: %w", err))
				// e.g. ICMP-induced errors; the socket stays usable. A
				// persistent error must not spin a core.
				if errRun++; errRun > 10 && !sleepCtx(ctx, 10*time.Millisecond) {
					return
				}
				continue
			}
			return
		}
		errRun = 0
		l.c.received.Add(1)
		l.c.bytes.Add(uint64(n))
		var bp *[]byte
		select {
		case bp = <-free:
		default:
			l.c.overruns.Add(1) // fn is behind: drop rather than stall the socket
			continue
		}
		*bp = append((*bp)[:0], scratch[:n]...)
		select {
		case in <- frame{bp, netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())}:
		case <-ctx.Done():
			return
		}
	}
}

func (l *Listener) accept(ctx context.Context, s streamListener, in chan<- frame, free chan *[]byte) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	tab := newConnTable()
	for {
		conn, err := s.l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("heptransport: accept on %s: %w", s.l.Addr(), err)
		}
		peer := netip.AddrPort{}
		if ta, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
			ap := ta.AddrPort()
			peer = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		// Full: make room by closing the connection idle longest (of
		// this host first), never by refusing the newcomer.
		if tab.countFrom(peer.Addr()) >= l.o.MaxConnsPerSource {
			if tab.evictIdlest(peer.Addr(), true) {
				l.c.evicted.Add(1)
			}
		}
		if tab.len() >= l.o.MaxConns {
			if tab.evictIdlest(netip.Addr{}, false) {
				l.c.evicted.Add(1)
			}
		}
		tc := tab.add(conn, peer.Addr())
		l.c.conns.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer tab.remove(tc)
			stop := context.AfterFunc(ctx, func() { conn.Close() })
			defer stop()
			defer conn.Close()
			var rc net.Conn = conn
			if s.tls != nil {
				tconn := tls.Server(conn, s.tls)
				hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
				err := tconn.HandshakeContext(hctx)
				cancel()
				if err != nil {
					if !tc.evicted.Load() && ctx.Err() == nil {
						l.c.refused.Add(1)
						l.c.setErr(fmt.Errorf("heptransport: TLS handshake from %s: %w", conn.RemoteAddr(), err))
					}
					return
				}
				rc = tconn
			}
			l.readStream(ctx, rc, tc, peer, in, free)
		}()
	}
}

// connTable tracks one listening socket's connections, so that a full
// table evicts the longest-idle one. The accept loop adds and evicts;
// each connection's goroutine marks activity and removes itself.
type connTable struct {
	mu    sync.Mutex
	conns map[*trackedConn]struct{}
}

type trackedConn struct {
	c       net.Conn
	host    netip.Addr
	last    atomic.Int64 // unix nanoseconds of the last byte read (or accept)
	evicted atomic.Bool
}

func newConnTable() *connTable { return &connTable{conns: make(map[*trackedConn]struct{})} }

func (t *connTable) add(c net.Conn, host netip.Addr) *trackedConn {
	tc := &trackedConn{c: c, host: host}
	tc.last.Store(time.Now().UnixNano())
	t.mu.Lock()
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	return tc
}

func (t *connTable) remove(tc *trackedConn) {
	t.mu.Lock()
	delete(t.conns, tc)
	t.mu.Unlock()
}

func (t *connTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

func (t *connTable) countFrom(host netip.Addr) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for tc := range t.conns {
		if tc.host == host {
			n++
		}
	}
	return n
}

// evictIdlest closes the connection idle longest (of host only, when
// sameHost) and reports whether there was one. It leaves the table
// entry to the connection's goroutine, which ends on the close.
func (t *connTable) evictIdlest(host netip.Addr, sameHost bool) bool {
	t.mu.Lock()
	var victim *trackedConn
	for tc := range t.conns {
		if tc.evicted.Load() || (sameHost && tc.host != host) {
			continue
		}
		if victim == nil || tc.last.Load() < victim.last.Load() {
			victim = tc
		}
	}
	if victim != nil {
		victim.evicted.Store(true)
		delete(t.conns, victim) // counted out now, so the next accept sees the room
	}
	t.mu.Unlock()
	if victim == nil {
		return false
	}
	victim.c.Close()
	return true
}

// readStream cuts a TCP/TLS byte stream into HEP3 packets with hep.FrameLen.
// Anything that is not a HEP3 header at a frame boundary (HEPv1/v2, which
// have no usable length, or garbage) is skipped up to the next "HEP3" magic
// and counted. heplify's keep-alive, a bare 6-byte "HEP3" header whose
// length field does not describe it, is recognised by the magic that
// follows it immediately.
func (l *Listener) readStream(ctx context.Context, conn net.Conn, tc *trackedConn, peer netip.AddrPort, in chan<- frame, free chan *[]byte) {
	buf := make([]byte, tcpReadBuf)
	start, end := 0, 0
	var off int64 // stream offset of buf[start], for error messages
	for {
		for {
			avail := buf[start:end]
			n, kind := nextFrame(avail)
			switch kind {
			case needMore:
			case junk:
				l.c.notHEP3.Add(1)
				l.c.bad.Add(1)
				l.c.setErr(fmt.Errorf("%w: % x at stream offset %d from %s", ErrNotHEP3Stream, avail[:min(4, len(avail))], off, peer))
			case badLength:
				l.c.bad.Add(1)
				l.c.setErr(fmt.Errorf("heptransport: from %s: %w: HEP3 total length below 6 at stream offset %d", peer, hep.ErrBadLength, off))
			case ping:
				l.c.received.Add(1)
				l.c.bytes.Add(uint64(n))
				l.c.pings.Add(1)
			case whole:
				l.c.received.Add(1)
				l.c.bytes.Add(uint64(n))
				var bp *[]byte
				select {
				case bp = <-free:
				case <-ctx.Done():
					return
				}
				*bp = append((*bp)[:0], avail[:n]...)
				select {
				case in <- frame{bp, peer}:
				case <-ctx.Done():
					return
				}
			}
			if kind == needMore {
				break
			}
			start += n
			off += int64(n)
		}
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		if l.o.IdleTimeout > 0 {
			conn.SetReadDeadline(time.Now().Add(l.o.IdleTimeout))
		}
		n, err := conn.Read(buf[end:])
		if n > 0 {
			end += n
			tc.last.Store(time.Now().UnixNano())
		}
		if err != nil {
			var ne net.Error
			switch {
			case tc.evicted.Load() || ctx.Err() != nil:
				// closed on purpose: counted where it was decided
			case errors.As(err, &ne) && ne.Timeout():
				l.c.idle.Add(1)
			case end > 0:
				l.c.bad.Add(1)
				l.c.setErr(fmt.Errorf("heptransport: %s closed with %d bytes of a partial HEP3 packet", peer, end))
			}
			return
		}
	}
}

// frameKind is what nextFrame found at a stream position.
type frameKind uint8

const (
	needMore  frameKind = iota // read more bytes, then call again
	whole                      // a complete HEP3 packet of n bytes
	ping                       // heplify's bare 6-byte header keep-alive
	junk                       // n bytes that cannot start a HEP3 packet
	badLength                  // "HEP3" with a total length below 6: skip 4 bytes
)

// nextFrame examines a TCP stream at a frame boundary and reports how many
// bytes to consume and what they are. It never asks to consume 0 bytes
// unless kind is needMore, so the caller's loop always progresses.
func nextFrame(avail []byte) (n int, kind frameKind) {
	if len(avail) < 4 || !bytes.Equal(avail[:4], magic3) {
		if len(avail) < 4 && bytes.HasPrefix(magic3, avail) {
			return 0, needMore // possibly a magic split across reads
		}
		if i := bytes.Index(avail[1:], magic3); i >= 0 {
			return 1 + i, junk
		}
		keep := 0 // a tail that may start a magic split across reads
		for k := min(3, len(avail)-1); k > 0; k-- {
			if bytes.HasPrefix(magic3, avail[len(avail)-k:]) {
				keep = k
				break
			}
		}
		return len(avail) - keep, junk
	}
	if len(avail) < 6 {
		return 0, needMore
	}
	total, err := hep.FrameLen(avail)
	if err != nil {
		return 4, badLength
	}
	if total > 6 {
		// heplify's ping is a bare header followed at once by the next
		// packet; decide only once 4 bytes after the header are known, so
		// the answer does not depend on how reads split the stream.
		if len(avail) < 10 && bytes.HasPrefix(magic3, avail[6:]) {
			return 0, needMore
		}
		if len(avail) >= 10 && bytes.Equal(avail[6:10], magic3) {
			return 6, ping
		}
	}
	if total > len(avail) {
		return 0, needMore
	}
	return total, whole
}

// dispatch decodes frames in arrival order and calls fn. It is the only
// goroutine that touches the decode Packet and the dedup table.
func (l *Listener) dispatch(in <-chan frame, free chan<- *[]byte, fn func(*hep.Packet, netip.AddrPort)) {
	var p hep.Packet
	var dd *dedup
	if l.o.DedupWindow > 0 {
		dd = newDedup(l.o.DedupWindow, l.o.DedupTolerance, l.o.DedupMax)
	}
	for f := range in {
		l.handle(&p, *f.buf, f.peer, dd, fn)
		if cap(*f.buf) > 4*maxRetainedCap {
			*f.buf = nil
		}
		free <- f.buf
	}
}

func (l *Listener) handle(p *hep.Packet, b []byte, peer netip.AddrPort, dd *dedup, fn func(*hep.Packet, netip.AddrPort)) {
	if len(b) == 6 && bytes.Equal(b[:4], magic3) { // header-only keep-alive, whatever its length field says
		l.c.pings.Add(1)
		return
	}
	if err := p.Unmarshal(b); err != nil && !errors.Is(err, hep.ErrBadChunkValue) {
		l.c.bad.Add(1)
		l.c.setErr(fmt.Errorf("heptransport: from %s: %w", peer, err))
		return
	}
	l.c.decoded.Add(1)
	if p.ProtoType == 0 && len(p.Payload) == 0 {
		l.c.pings.Add(1)
		return
	}
	if len(l.authKey) > 0 && subtle.ConstantTimeCompare(p.AuthKey, l.authKey) != 1 {
		l.c.auth.Add(1)
		l.c.setErr(fmt.Errorf("%w: from %s", ErrAuth, peer))
		return
	}
	if dd != nil && dd.duplicate(p, peer, l.o.Now()) {
		l.c.dups.Add(1)
		return
	}
	l.c.delivered.Add(1)
	l.c.byProto[p.ProtoType].Add(1)
	fn(p, peer)
}
