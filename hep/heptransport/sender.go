package heptransport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// Defaults for SenderOptions zero values.
const (
	DefaultQueueSize     = 10000
	DefaultSpoolMaxBytes = 256 << 20
	DefaultDialTimeout   = 5 * time.Second
	DefaultWriteTimeout  = 10 * time.Second
	DefaultMinBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff    = 5 * time.Second
)

// SenderOptions configures a Sender. The zero value of every field except To
// is useful.
type SenderOptions struct {
	// To lists targets: "udp:HOST:PORT", "tcp:HOST:PORT", "tls:HOST:PORT".
	// Every packet goes to every target.
	To []string

	// Version is the wire version: 0 or 3 for HEP3, 2 for HEPv2, 1 for HEPv1.
	Version uint8
	// Compress sends the payload zlib-compressed in chunk 0x0010 (HEP3 only).
	Compress bool
	// AuthKey, CaptureID and NodeName, when set, override the packet's auth
	// key (0x000e), capture agent id (0x000c) and node name (0x0013, which
	// heplify-server reads as the node). HEPv1/v2 carry none but CaptureID
	// (v2, u16).
	AuthKey   string
	CaptureID uint32
	NodeName  string

	// QueueSize bounds each target's in-memory queue, in packets
	// (0: DefaultQueueSize). A packet that finds it full goes to the spool
	// if there is one, else it is dropped and counted.
	QueueSize int
	// SpoolDir enables a disk spool per target: packets that find the queue
	// full, or arrive while a TCP/TLS target is down, are appended to
	// SpoolDir/<target>.spool and sent, in order, once it is back.
	SpoolDir string
	// SpoolMaxBytes bounds each spool file (0: DefaultSpoolMaxBytes).
	SpoolMaxBytes int64

	// TLS configures "tls:" targets.
	TLS TLSFiles

	DialTimeout  time.Duration // 0: DefaultDialTimeout
	WriteTimeout time.Duration // a stalled TCP peer is dropped after this; 0: DefaultWriteTimeout
	// KeepAlive, when positive, makes an idle TCP/TLS connection send a
	// HEP3 keep-alive this often: a packet with capture id, auth key, node
	// name and chunk 0x000d (the interval in seconds) but no payload, which
	// collectors ignore (our Listener counts it in Pings). It also finds a
	// dead collector before real traffic does. HEP3 only.
	KeepAlive time.Duration
	// MinBackoff and MaxBackoff bound the reconnect delay, which doubles
	// per failed attempt with jitter (0: 100 ms and 5 s).
	MinBackoff, MaxBackoff time.Duration
	// UnackedMaxBytes bounds the packets a TCP/TLS target keeps after
	// writing them, until the collector's TCP acknowledges them (0:
	// DefaultUnackedMaxBytes). When it is reached the writer waits for
	// acknowledgements (up to WriteTimeout, then reconnects and resends).
	UnackedMaxBytes int
}

// TargetStats counts one target's traffic. Counters are totals since
// NewSender; Queued, SpoolBytes and Connected are the current state.
type TargetStats struct {
	Target    string
	Connected bool // TCP/TLS connected; UDP socket open
	// Sent counts packets delivered as far as the sender can know: for
	// TCP/TLS on Linux, acknowledged by the collector's TCP (which still
	// says nothing of what its process read); for UDP, and TCP/TLS on
	// other systems, written to the socket (delivery unknown).
	Sent       uint64
	SentBytes  uint64
	Queued     int    // packets in memory waiting
	Dropped    uint64 // lost because queue and spool were full (or no spool)
	Spooled    uint64 // packets appended to the spool
	Unspooled  uint64 // packets read back from the spool
	SpoolBytes int64  // spool backlog
	SpoolLost  uint64 // spool records discarded as corrupt
	Reconnects uint64 // successful TCP/TLS connects after the first
	SendErrors uint64 // failed writes and dials
	Resent     uint64 // packets written again after a reconnect: the failed write's and those not acknowledged (TCP/TLS)
	Unacked    int    // packets written and not acknowledged yet, kept for resending (TCP/TLS)
	// What the sender held when it stopped. With a spool, packets
	// written and not acknowledged, and packets queued and never
	// written, are saved to it (SavedAtExit, in order, in front of the
	// spool's backlog) for the next run to send; what it cannot take
	// (no spool, or full) is counted here: Unconfirmed were written
	// and not acknowledged (delivery unknown), UnsentAtExit were never
	// written (lost).
	SavedAtExit  uint64
	Unconfirmed  uint64
	UnsentAtExit uint64
	LostUDP      uint64 // UDP packets whose write failed (e.g. ECONNREFUSED)
	KeepAlives   uint64 // keep-alive packets written
	LastError    string
	LastErrorAt  time.Time
}

// Sender forwards HEP packets to one or more collectors. Send is safe for
// concurrent use and never blocks on the network; Run owns the network
// goroutines.
type Sender struct {
	o       SenderOptions
	targets []*target

	mu      sync.Mutex // guards encoding scratch and the run state
	scratch []byte
	zbuf    []byte
	state   int // stateNew, stateRunning, stateClosed

	authKey, nodeName []byte // from o, converted once
	keepAlive         []byte // encoded keep-alive packet, nil when off
}

const (
	stateNew = iota
	stateRunning
	stateClosed
)

// NewSender validates o, opens spool files and prepares TLS. It starts no
// goroutine; packets sent before Run are queued (or spooled).
func NewSender(o SenderOptions) (*Sender, error) {
	if len(o.To) == 0 {
		return nil, ErrNoTargets
	}
	switch o.Version {
	case 0, 1, 2, 3:
	default:
		return nil, fmt.Errorf("%w: HEP version %d", ErrBadOptions, o.Version)
	}
	if o.Compress && (o.Version == 1 || o.Version == 2) {
		return nil, fmt.Errorf("%w: compression needs HEP3", ErrBadOptions)
	}
	if o.Version == 2 && o.CaptureID > 0xffff {
		return nil, fmt.Errorf("%w: HEPv2 capture id is 16 bits, got %d", ErrBadOptions, o.CaptureID)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = DefaultQueueSize
	}
	if o.SpoolMaxBytes <= 0 {
		o.SpoolMaxBytes = DefaultSpoolMaxBytes
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.UnackedMaxBytes <= 0 {
		o.UnackedMaxBytes = DefaultUnackedMaxBytes
	}
	s := &Sender{o: o, authKey: []byte(o.AuthKey), nodeName: []byte(o.NodeName)}
	if o.KeepAlive > 0 && (o.Version == 0 || o.Version == 3) {
		ka := hep.Packet{Version: 3, CaptureID: o.CaptureID, AuthKey: s.authKey, GroupID: s.nodeName,
			KeepAlive: uint16(min(o.KeepAlive/time.Second, 0xffff))}
		ka.MarkPresent(hep.ChunkKeepAlive)
		b, err := ka.Marshal()
		if err != nil {
			return nil, fmt.Errorf("%w: keep-alive: %w", ErrBadOptions, err)
		}
		s.keepAlive = b
	}
	for _, raw := range o.To {
		a, err := ParseAddr(raw)
		if err != nil {
			s.closeSpools()
			return nil, err
		}
		t := &target{addr: a, q: newRing(o.QueueSize), wake: make(chan struct{}, 1), o: &s.o, keepAlive: s.keepAlive}
		t.stats.Target = a.String()
		if a.Transport == TLS {
			host, _, _ := net.SplitHostPort(a.HostPort)
			if t.tls, err = o.TLS.config(false, host); err != nil {
				s.closeSpools()
				return nil, err
			}
		}
		if o.SpoolDir != "" {
			if t.spool, err = openSpool(o.SpoolDir, a, o.SpoolMaxBytes); err != nil {
				s.closeSpools()
				return nil, err
			}
			t.stats.SpoolBytes = t.spool.backlog()
		}
		s.targets = append(s.targets, t)
	}
	return s, nil
}

func (s *Sender) closeSpools() {
	for _, t := range s.targets {
		if t.spool != nil {
			t.spool.close()
		}
	}
}

// Send encodes p with the Sender's version, compression, auth key, capture
// id and node name (p itself is not modified) and queues it for every
// target. It never blocks on the network. It returns an encoding error
// (wrapping a hep sentinel such as hep.ErrTooLarge), ErrClosed after Run
// returned, or ErrQueueFull when at least one target had to drop it (the
// drop is counted; carry on).
//
// Without compression Send does not allocate once queue slots have warmed up.
func (s *Sender) Send(p *hep.Packet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == stateClosed {
		return ErrClosed
	}
	q := *p
	switch s.o.Version {
	case 0, 3:
		q.Version = 3
	default:
		q.Version = s.o.Version
	}
	if s.o.AuthKey != "" {
		q.AuthKey = s.authKey
	}
	if s.o.CaptureID != 0 {
		q.CaptureID = s.o.CaptureID
	}
	if s.o.NodeName != "" {
		q.GroupID = s.nodeName
	}
	if s.o.Compress && !q.Compressed {
		if err := q.Compress(s.zbuf[:0], hep.Zlib); err != nil {
			return err
		}
		s.zbuf = q.Payload[:0]
	}
	n := q.MarshalSize()
	if n > len(s.scratch) {
		s.scratch = make([]byte, max(n, 2048))
	}
	n, err := q.MarshalTo(s.scratch)
	if err != nil {
		return fmt.Errorf("heptransport: encode: %w", err)
	}
	var dropped bool
	for _, t := range s.targets {
		if !t.enqueue(s.scratch[:n]) {
			dropped = true
		}
	}
	if dropped {
		return ErrQueueFull
	}
	return nil
}

// Run starts one goroutine per target and returns after ctx is cancelled
// and all of them have stopped (connections closed, spool files closed).
// Call Flush first to wait (bounded) for delivery and acknowledgement.
// What is still unacknowledged or queued when Run stops is saved to the
// spool when there is one, else counted (TargetStats.SavedAtExit,
// Unconfirmed, UnsentAtExit). Run returns nil after a cancellation (or
// the spool's error), and ErrClosed if called twice.
func (s *Sender) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return ErrClosed
	}
	s.state = stateRunning
	s.mu.Unlock()

	var wg sync.WaitGroup
	for _, t := range s.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.run(ctx)
		}()
	}
	wg.Wait()

	// Closed before the targets are wound up: no Send files a packet
	// behind what is saved.
	s.mu.Lock()
	s.state = stateClosed
	s.mu.Unlock()
	var errs []error
	for _, t := range s.targets {
		t.mu.Lock()
		errs = append(errs, t.finishLocked())
		t.closed = true
		t.wakeWaiters()
		t.mu.Unlock()
	}
	return errors.Join(errs...)
}

// finishLocked winds a stopped target up: what was written and not
// acknowledged, the packet whose write did not complete, and what is
// queued, oldest first, go to the front of the spool (then closed), or
// are counted. t.mu is held.
func (t *target) finishLocked() error {
	var pending [][]byte
	for i := t.un.head; i < len(t.un.pkts); i++ {
		pending = append(pending, t.un.pkts[i].b)
	}
	if t.held != nil {
		pending = append(pending, t.held)
	}
	written := len(pending) // delivery unknown; the rest never left
	for t.q.n > 0 {
		b, _ := t.q.pop(nil)
		pending = append(pending, b)
	}
	t.un = unacked{conn: t.un.conn}
	t.held, t.inflight = nil, false
	t.stats.Unacked = 0
	var err error
	saved := 0
	if t.spool != nil {
		saved, err = t.spool.saveFront(pending)
		t.stats.SavedAtExit += uint64(saved)
		if err != nil {
			t.setErr(err)
		}
	}
	for i := saved; i < len(pending); i++ {
		if i < written {
			t.stats.Unconfirmed++
		} else {
			t.stats.UnsentAtExit++
		}
	}
	return err
}

// Flush waits until every target has written everything queued and spooled
// so far, or ctx is done (then it returns ctx's error naming what is left).
// A TCP/TLS target that stays down keeps Flush waiting; bound ctx.
func (s *Sender) Flush(ctx context.Context) error {
	for _, t := range s.targets {
		for {
			t.mu.Lock()
			if t.idle() || t.closed {
				t.mu.Unlock()
				break
			}
			ch := make(chan struct{})
			t.waiters = append(t.waiters, ch)
			t.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				queued, unacked, spooled := Outstanding(s.Stats())
				return fmt.Errorf("heptransport: flush: %w (%d packets queued, %d written and not acknowledged, %d spool bytes left)", ctx.Err(), queued, unacked, spooled)
			}
		}
	}
	return nil
}

// Outstanding sums what the targets still hold: packets queued, packets
// written and not yet acknowledged, and spool bytes.
func Outstanding(st []TargetStats) (queued, unacked int, spoolBytes int64) {
	for _, x := range st {
		queued += x.Queued
		unacked += x.Unacked
		spoolBytes += x.SpoolBytes
	}
	return queued, unacked, spoolBytes
}

// Stats returns a snapshot per target, in the order of SenderOptions.To.
func (s *Sender) Stats() []TargetStats {
	out := make([]TargetStats, len(s.targets))
	for i, t := range s.targets {
		t.mu.Lock()
		t.acknowledgedLocked() // the writer may be blocked in a write
		out[i] = t.stats
		out[i].Queued = t.q.n
		if t.spool != nil {
			out[i].SpoolBytes = t.spool.backlog()
			out[i].SpoolLost = t.spool.corrupt
		}
		t.mu.Unlock()
	}
	return out
}

// target is one collector: its queue, spool, connection state and counters.
type target struct {
	addr  Addr
	o     *SenderOptions
	tls   *tls.Config
	wake  chan struct{} // cap 1: "there is work"
	mu    sync.Mutex
	q     ring
	spool *spool
	up    bool // a connection is established (UDP: socket open)
	// inflight: the writer holds a packet it has not finished writing.
	inflight bool
	closed   bool
	waiters  []chan struct{}
	stats    TargetStats
	// keepAlive is the encoded keep-alive packet (nil: off); read-only.
	keepAlive []byte
	// un holds what was written and not acknowledged (its length is
	// mirrored in stats.Unacked), and cur is the connection its offsets
	// refer to, nil between connections. Guarded by mu, so that Stats can
	// look at the acknowledgements while the writer is blocked in a write.
	un  unacked
	cur *link
	// held is the packet the writer was writing (or waiting to write)
	// when it stopped, for finishLocked.
	held []byte
}

func (t *target) idle() bool {
	return t.q.n == 0 && !t.inflight && t.stats.Unacked == 0 && (t.spool == nil || t.spool.backlog() == 0)
}

func (t *target) wakeWaiters() {
	for _, ch := range t.waiters {
		close(ch)
	}
	t.waiters = t.waiters[:0]
}

// enqueue files b (copied) into the queue or the spool. Order is kept: once
// the spool holds anything, new packets go behind it, and the writer drains
// the queue (older) before the spool.
func (t *target) enqueue(b []byte) bool {
	t.mu.Lock()
	ok := true
	down := !t.up && t.addr.Transport != UDP
	switch {
	case t.spool != nil && (t.spool.backlog() > 0 || t.q.full() || down):
		if err := t.spool.append(b); err != nil {
			t.stats.Dropped++
			t.setErr(err)
			ok = false
		} else {
			t.stats.Spooled++
		}
	case t.q.push(b):
	default:
		t.stats.Dropped++
		ok = false
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return ok
}

// next hands the writer the oldest packet: queue first, then spool.
func (t *target) next(spent []byte) ([]byte, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b, ok := t.q.pop(spent); ok {
		t.inflight = true
		return b, true
	}
	if t.spool != nil && t.spool.backlog() > 0 {
		b, err := t.spool.next(spent)
		if err == nil || (len(b) > 0 && !errors.Is(err, ErrSpoolCorrupt)) {
			if err != nil {
				t.setErr(err)
			}
			t.stats.Unspooled++
			t.inflight = true
			return b, true
		}
		if !errors.Is(err, io.EOF) {
			t.setErr(err)
		}
		return b, false
	}
	t.wakeWaiters()
	return spent, false
}

func (t *target) setErr(err error) {
	t.stats.LastError = err.Error()
	t.stats.LastErrorAt = time.Now()
}

func (t *target) note(f func(*TargetStats)) {
	t.mu.Lock()
	f(&t.stats)
	t.mu.Unlock()
}

// run connects, writes, and reconnects with backoff until ctx is done.
func (t *target) run(ctx context.Context) {
	var (
		pkt       []byte // the packet being written; survives a reconnect
		have      bool
		connected bool // ever connected, to count reconnects
		backoff   = t.o.MinBackoff
	)
	for ctx.Err() == nil {
		l, err := t.dial(ctx)
		if err != nil {
			t.note(func(s *TargetStats) { s.SendErrors++; s.LastError, s.LastErrorAt = err.Error(), time.Now() })
			if !sleepCtx(ctx, jitter(backoff)) {
				break
			}
			backoff = min(2*backoff, t.o.MaxBackoff)
			continue
		}
		backoff = t.o.MinBackoff
		t.note(func(s *TargetStats) {
			s.Connected = true
			if connected {
				s.Reconnects++
			}
		})
		t.mu.Lock()
		t.up = true
		t.mu.Unlock()
		connected = true
		if have {
			t.note(func(s *TargetStats) { s.Resent++ })
		}
		err = t.pump(ctx, l, &pkt, &have)
		t.mu.Lock()
		t.up = false
		t.stats.Connected = false
		if err != nil && ctx.Err() == nil {
			t.stats.SendErrors++
			t.setErr(err)
		}
		t.mu.Unlock()
		if ctx.Err() == nil && !sleepCtx(ctx, jitter(backoff)) {
			break
		}
	}
	if have {
		t.mu.Lock()
		t.held = pkt
		t.mu.Unlock()
	}
}

func (t *target) dial(ctx context.Context) (*link, error) {
	d := net.Dialer{Timeout: t.o.DialTimeout}
	network := "tcp"
	if t.addr.Transport == UDP {
		network = "udp"
	}
	c, err := d.DialContext(ctx, network, t.addr.HostPort)
	if err != nil {
		return nil, err
	}
	l := newLink(c)
	if t.addr.Transport != TLS {
		return l, nil
	}
	// TLS over the counting connection, so the records' bytes are the
	// offsets the acknowledgements are measured in.
	hctx, cancel := context.WithTimeout(ctx, t.o.DialTimeout)
	defer cancel()
	conn := tls.Client(l.raw, t.tls)
	if err := conn.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, err
	}
	l.conn = conn
	// In TLS 1.3 a collector that refuses our certificate (or its
	// absence) says so only after the handshake has completed on our
	// side: wait briefly for that alert, so a refused session is an
	// error here rather than packets "sent" into a closed connection.
	// A collector never sends data, so a read that times out is the
	// accepted case.
	_ = conn.SetReadDeadline(time.Now().Add(tlsRefusalProbe))
	var b [1]byte
	_, rerr := conn.Read(b[:])
	_ = conn.SetReadDeadline(time.Time{})
	var ne net.Error
	if rerr != nil && !(errors.As(rerr, &ne) && ne.Timeout()) {
		conn.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrRefused, t.addr, rerr)
	}
	return l, nil
}

// tlsRefusalProbe is how long a new TLS connection waits for the
// collector's alert before packets are written.
const tlsRefusalProbe = 250 * time.Millisecond

// errPeerClosed: the collector closed the connection (it never sends
// anything, so a read returning is a close or a reset).
var errPeerClosed = errors.New("heptransport: collector closed the connection")

// pump writes packets to l until ctx is done or the connection fails.
// It first writes again what the previous connection left unacknowledged.
// On a failed TCP/TLS write the packet stays in *pkt (have = true) and is
// written again after the reconnect, behind those.
func (t *target) pump(ctx context.Context, l *link, pkt *[]byte, have *bool) (err error) {
	conn := l.conn
	// At exit, what is not acknowledged goes to the spool when there is
	// one: then the connection is reset, so that the kernel does not
	// deliver it after us as well. Without a spool it is closed, and
	// what the kernel still holds may yet arrive.
	saving := func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.spool != nil && (t.un.len() > 0 || t.inflight)
	}
	stop := context.AfterFunc(ctx, func() { l.close(saving()) }) // unblocks a Write stuck on a stalled peer
	defer stop()
	dead := make(chan struct{})
	var wg sync.WaitGroup
	if t.addr.Transport != UDP {
		wg.Add(1)
		go func() { // owned: pump closes conn and waits below
			defer wg.Done()
			defer close(dead)
			_, _ = io.Copy(io.Discard, conn)
		}()
	}
	tracked := l.rc != nil
	if tracked {
		t.mu.Lock()
		t.cur = l
		t.un.conn++
		t.mu.Unlock()
	}
	defer func() {
		t.mu.Lock()
		pending := t.un.len() > 0 || *have
		t.mu.Unlock()
		// Its last look at the acknowledgements first; then, if packets
		// will be written again elsewhere (on the next connection, or by
		// the next run from the spool), a reset.
		l.close(pending && ((err != nil && ctx.Err() == nil) || (ctx.Err() != nil && t.spool != nil)))
		wg.Wait()
		if tracked {
			t.mu.Lock()
			t.acknowledgedLocked()
			t.cur = nil
			t.mu.Unlock()
		}
	}()
	if err := t.resend(l); err != nil {
		return err
	}
	var tick <-chan time.Time
	if t.keepAlive != nil && t.addr.Transport != UDP {
		tk := time.NewTicker(t.o.KeepAlive)
		defer tk.Stop()
		tick = tk.C
	}
	poll := time.NewTimer(ackPoll)
	defer poll.Stop()
	idle := true // nothing written since the last tick
	sinceLook, bytesSinceLook := 0, 0
	for {
		if !*have {
			if *pkt, *have = t.next(*pkt); !*have {
				var pollC <-chan time.Time
				if tracked && t.unackedLen() > 0 { // look again soon, so Flush sees them acknowledged
					poll.Reset(ackPoll)
					pollC = poll.C
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-dead:
					return errPeerClosed
				case <-t.wake:
				case <-pollC:
					t.acknowledged()
				case <-tick:
					if idle {
						_ = conn.SetWriteDeadline(time.Now().Add(t.o.WriteTimeout))
						if _, err := conn.Write(t.keepAlive); err != nil {
							return fmt.Errorf("heptransport: keep-alive to %s: %w", t.addr, err)
						}
						t.note(func(s *TargetStats) { s.KeepAlives++ })
					}
					idle = true
				}
				continue
			}
		}
		idle = false
		select {
		case <-dead:
			return errPeerClosed
		default:
		}
		if tracked {
			if err := t.roomFor(ctx, len(*pkt), dead); err != nil {
				return err
			}
		}
		if t.addr.Transport != UDP {
			_ = conn.SetWriteDeadline(time.Now().Add(t.o.WriteTimeout))
		}
		_, err = conn.Write(*pkt)
		if err != nil && t.addr.Transport != UDP {
			return fmt.Errorf("heptransport: write to %s: %w", t.addr, err)
		}
		n := len(*pkt)
		if tracked {
			// Kept until acknowledged; the writer carries on with a spent buffer.
			t.mu.Lock()
			*pkt = t.un.push(*pkt, l.written())
			t.inflight = false
			t.stats.Unacked = t.un.len()
			sinceLook++
			bytesSinceLook += n
			if sinceLook >= ackCheckEvery || bytesSinceLook >= ackCheckBytes {
				sinceLook, bytesSinceLook = 0, 0
				t.acknowledgedLocked()
			}
			t.mu.Unlock()
			*have = false
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		t.mu.Lock()
		t.inflight = false
		if err != nil { // UDP: count, do not retry (the datagram is gone)
			t.stats.SendErrors++
			t.stats.LostUDP++
			t.setErr(err)
		} else {
			t.stats.Sent++
			t.stats.SentBytes += uint64(n)
		}
		t.mu.Unlock()
		*have = false
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (t *target) unackedLen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.un.len()
}

func (t *target) acknowledged() {
	t.mu.Lock()
	t.acknowledgedLocked()
	t.mu.Unlock()
}

// acknowledgedLocked lets go of the packets the current connection's peer
// has acknowledged, counting them as sent, and wakes Flush when nothing
// is left. t.mu is held.
func (t *target) acknowledgedLocked() {
	if t.un.len() == 0 || t.cur == nil {
		return
	}
	acked, err := t.cur.look()
	if err != nil {
		return // keep them: unknown is not acknowledged
	}
	n, b := t.un.ackTo(acked)
	if n == 0 {
		return
	}
	t.stats.Sent += uint64(n)
	t.stats.SentBytes += b
	t.stats.Unacked = t.un.len()
	if t.idle() {
		t.wakeWaiters()
	}
}

// roomFor waits until the unacknowledged packets leave room for n more
// bytes, for at most WriteTimeout.
func (t *target) roomFor(ctx context.Context, n int, dead <-chan struct{}) error {
	var deadline time.Time
	var tm *time.Timer
	for {
		t.mu.Lock()
		if t.un.len() > 0 && t.un.bytes+n > t.o.UnackedMaxBytes {
			t.acknowledgedLocked()
		}
		k, b := t.un.len(), t.un.bytes
		t.mu.Unlock()
		if k == 0 || b+n <= t.o.UnackedMaxBytes {
			return nil
		}
		if tm == nil {
			deadline = time.Now().Add(t.o.WriteTimeout)
			tm = time.NewTimer(ackPoll)
			defer tm.Stop()
		} else if time.Now().After(deadline) {
			return fmt.Errorf("%w: %s (%d packets, %d bytes waiting)", errNotAcknowledged, t.addr, k, b)
		} else {
			tm.Reset(ackPoll)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-dead:
			return errPeerClosed
		case <-tm.C:
		}
	}
}

// resend writes again, in order, the packets an earlier connection left
// unacknowledged; each takes its offset on this one. Acknowledgements
// may let go of those already written again meanwhile (Stats looks too),
// never of the rest: their offsets belong to the old connection.
func (t *target) resend(l *link) error {
	if l.rc == nil {
		// This connection cannot be tracked (the same system answered
		// before, so it should not happen): what was kept is counted as
		// sent once written, as untracked writes are.
		defer t.acknowledgeAll()
	}
	t.mu.Lock()
	first := t.un.head
	t.mu.Unlock()
	// Absolute indices: nothing compacts the FIFO during a resend (only
	// the writer pushes), and acknowledgements move head only past
	// packets already written again.
	for i := first; ; i++ {
		t.mu.Lock()
		if i >= len(t.un.pkts) {
			t.mu.Unlock()
			return nil
		}
		b := t.un.pkts[i].b
		t.mu.Unlock()
		_ = l.conn.SetWriteDeadline(time.Now().Add(t.o.WriteTimeout))
		if _, err := l.conn.Write(b); err != nil {
			return fmt.Errorf("heptransport: resend to %s: %w", t.addr, err)
		}
		t.mu.Lock()
		p := &t.un.pkts[i]
		p.end, p.conn = l.written(), t.un.conn
		t.stats.Resent++
		t.mu.Unlock()
	}
}

// acknowledgeAll counts every kept packet as sent.
func (t *target) acknowledgeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := t.un.head; i < len(t.un.pkts); i++ {
		t.un.pkts[i].conn = t.un.conn
	}
	n, b := t.un.ackTo(^uint64(0))
	t.stats.Sent += uint64(n)
	t.stats.SentBytes += b
	t.stats.Unacked = 0
}

// jitter spreads reconnects of many agents: a uniform delay in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}
