package replay

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/sipflow"
)

// loopGap separates the end of one run from the start of the next.
const loopGap = 20 * time.Millisecond

// maxCalls and maxMedia bound the per-run tables keyed by wire data
// (Call-IDs, SDP endpoints, SSRCs); what does not fit is counted.
const (
	maxCalls   = 100000
	maxMedia   = 4 * maxCalls
	maxStreams = 4 * maxCalls
)

// callState is one call of the current run.
type callState struct {
	id, sentID string
	caller     netip.AddrPort // SIP source of the call's first request
	recToTag   string         // the callee's To-tag in the capture
	ids        map[string]string
	live       *live
}

// live is what a live peer told us about a call; reader goroutines
// write it under replayer.mu.
type live struct {
	toTag string
	media []netip.AddrPort // the peer's SDP endpoints by m= index
	rtcp  []netip.AddrPort // and their RTCP endpoints
}

// mediaRef says whose SDP named a media endpoint.
type mediaRef struct {
	call   *callState
	caller bool
	rtcp   bool // the SDP's RTCP endpoint (port + 1 or a=rtcp)
	idx    int
}

// rtpBase is one RTP stream's new identity for this run, and what this
// run sent of it (for its sender reports).
type rtpBase struct {
	ssrc uint32
	dseq uint16
	dts  uint32
	// first is the first sequence number sent (seen: one was).
	first uint16
	seen  bool
	// packets and octets (payload, RFC 3550 6.4.1) sent so far; they
	// wrap as the RTCP fields do.
	packets, octets uint32
}

type targetKey struct {
	ap  netip.AddrPort
	tcp bool
}

type replayer struct {
	o       *Options
	sel     selection
	socks   *sockets
	pacer   *pace.Pacer
	allowed map[netip.Addr]bool // addresses the user gave (targets)
	targets map[targetKey]*TargetCount
	c       Counts

	msg      sipflow.Message
	ed, bed  sipflow.Editor
	buf, sdp []byte

	run     int
	shift   time.Duration
	calls   map[string]*callState
	media   map[netip.AddrPort]mediaRef
	streams map[uint32]*rtpBase

	mu      sync.Mutex       // guards byID, the live records and peerSDP
	byID    map[string]*live // by the Call-ID as sent
	peerSDP int64

	start, lastProgress time.Time
	runStart            time.Time
}

// Run replays o.Files as configured and returns what it did. Cancelling
// ctx stops at once; the summary is returned all the same, with
// Cancelled set and a nil error.
func Run(ctx context.Context, o Options, warn func(error)) (Summary, error) {
	var sum Summary
	if len(o.Files) == 0 {
		return sum, ErrNoFiles
	}
	if o.Iface != "" {
		return RunFrames(ctx, o, warn)
	}
	if !o.To.IsValid() && len(o.Maps) == 0 {
		return sum, ErrNoTarget
	}
	allowed := make(map[netip.Addr]bool)
	var tgts []netip.Addr
	if o.To.IsValid() {
		tgts = append(tgts, o.To.Addr())
	}
	for _, m := range o.Maps {
		tgts = append(tgts, m.To.Addr())
	}
	allLoop := true
	for _, a := range tgts {
		if err := checkTarget(a, o.AllowBroadcast); err != nil {
			return sum, err
		}
		allowed[a] = true
		allLoop = allLoop && a.Is4() && a.IsLoopback()
	}
	if !o.Bind.IsValid() && allLoop {
		o.Bind = netip.AddrFrom4([4]byte{127, 0, 0, 1})
	}
	if o.MaxSockets <= 0 {
		o.MaxSockets = DefaultMaxSockets
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	sel, err := selectCalls(ctx, &o, warn, nil)
	if err != nil {
		if ctx.Err() != nil {
			sum.Cancelled = true
			return sum, nil
		}
		return sum, err
	}
	r := &replayer{o: &o, sel: sel, allowed: allowed, targets: make(map[targetKey]*TargetCount),
		pacer: pace.New(o.paceOptions()), byID: make(map[string]*live)}
	r.socks = newSockets(o.Bind, o.MaxSockets, r.learn)
	r.start = time.Now()
	span := sel.last.Sub(sel.first)
	for r.run = 1; o.Loops == 0 || r.run <= o.Loops; r.run++ {
		if err = r.playOnce(ctx, warn); err != nil {
			break
		}
		r.shift += span + loopGap
	}
	if err == nil && o.Linger > 0 {
		t := time.NewTimer(o.Linger)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	r.progress(true)
	r.socks.close()
	sum = r.summary()
	if err != nil && ctx.Err() != nil {
		sum.Cancelled = true
		err = nil
	}
	return sum, err
}

// checkTarget refuses addresses that reach more than one host (multicast,
// the limited broadcast, a local network's directed broadcast) and the
// unspecified address.
func checkTarget(a netip.Addr, allowBroadcast bool) error {
	if a.IsUnspecified() {
		return fmt.Errorf("%w: %s", ErrBadTarget, a)
	}
	if allowBroadcast {
		return nil
	}
	if a.IsMulticast() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || isDirectedBroadcast(a) {
		return fmt.Errorf("%w: %s", ErrBroadcast, a)
	}
	return nil
}

// isDirectedBroadcast reports whether a is the broadcast address of a
// network on a local interface.
func isDirectedBroadcast(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, ia := range addrs {
		n, ok := ia.(*net.IPNet)
		if !ok || n.IP.To4() == nil {
			continue
		}
		ones, bits := n.Mask.Size()
		if bits != 32 || ones >= 31 {
			continue
		}
		ip := n.IP.To4()
		var b [4]byte
		for i := range b {
			b[i] = ip[i] | ^n.Mask[i]
		}
		if netip.AddrFrom4(b) == a {
			return true
		}
	}
	return false
}

// newPass forgets the calls, media and RTP streams of the last pass
// over the capture (--loop), for both players.
func (r *replayer) newPass() {
	r.calls = make(map[string]*callState)
	r.media = make(map[netip.AddrPort]mediaRef)
	r.streams = make(map[uint32]*rtpBase)
}

// playOnce is one pass over the capture.
func (r *replayer) playOnce(ctx context.Context, warn func(error)) error {
	srcs, done, err := openFiles(r.o.Files)
	if err != nil {
		return err
	}
	defer done()
	r.newPass()
	r.mu.Lock()
	clear(r.byID)
	r.mu.Unlock()
	r.runStart = time.Now()
	_, err = capture.Run(ctx, srcs, r.o.Capture, warn, func(ev *capture.Event) error {
		return r.handle(ctx, ev)
	})
	return err
}

func (r *replayer) handle(ctx context.Context, ev *capture.Event) error {
	switch ev.Kind {
	case capture.KindSIP:
		return r.sip(ctx, ev)
	case capture.KindRTP, capture.KindRTCP:
		return r.mediaPacket(ctx, ev)
	default:
		r.c.HEP++
	}
	return nil
}

func (r *replayer) selecting() bool { return r.sel.calls != nil || r.o.Side != SideBoth }

func (r *replayer) sideWanted(fromCaller bool) bool {
	switch r.o.Side {
	case SideCaller:
		return fromCaller
	case SideCallee:
		return !fromCaller
	}
	return true
}

func (r *replayer) sip(ctx context.Context, ev *capture.Event) error {
	cs, fromCaller, ok := r.pickSIP(ev)
	if !ok {
		return nil
	}
	if cs == nil { // not parsed, and nothing selected
		if r.o.Rewrite {
			r.c.RewriteErrors++
		}
		return r.send(ctx, ev, ev.Payload, netip.AddrPort{})
	}
	target, ok := r.target(ev.Dst)
	if !ok {
		r.c.Refused++
		return nil
	}
	payload := ev.Payload
	if r.o.Rewrite {
		local, ok, err := r.localFor(ctx, ev, target)
		if err != nil || !ok {
			return r.noSocket(err)
		}
		payload = r.rewriteSIP(cs, fromCaller, target, local)
	}
	return r.send(ctx, ev, payload, target)
}

// pickSIP parses a SIP payload into r.msg, learns its call (and the
// media its SDP announces) and says whether it is replayed: its call is
// selected and its side wanted (what is not is counted). A nil call with
// ok true is a payload that did not parse while nothing was selected.
func (r *replayer) pickSIP(ev *capture.Event) (cs *callState, fromCaller, ok bool) {
	m := &r.msg
	if err := m.Unmarshal(ev.Payload); err != nil || len(m.CallID) == 0 {
		if r.selecting() {
			r.c.Unattributed++
			return nil, false, false
		}
		return nil, false, true
	}
	if r.sel.calls != nil && !r.sel.calls[string(m.CallID)] {
		r.c.Skipped++
		return nil, false, false
	}
	cs = r.call(m, ev)
	if cs == nil {
		r.c.Unattributed++
		return nil, false, false
	}
	fromCaller = ev.Src == cs.caller
	if !fromCaller && !m.Request && len(m.To.Tag) > 0 {
		cs.recToTag = string(m.To.Tag)
	}
	if m.HasSDP {
		for i := range m.SDP.Media {
			if len(r.media) >= maxMedia {
				break
			}
			ep, ok := m.SDP.Endpoint(i)
			if ok {
				r.media[ep] = mediaRef{cs, fromCaller, false, i}
			}
			if rep, rok := m.SDP.RTCPEndpoint(i); rok && (!ok || rep != ep) {
				r.media[rep] = mediaRef{cs, fromCaller, true, i}
			}
		}
	}
	if !r.sideWanted(fromCaller) {
		r.c.OtherSide++
		return nil, false, false
	}
	return cs, fromCaller, true
}

// call returns the state of m's call, creating it (nil when the table is
// full).
func (r *replayer) call(m *sipflow.Message, ev *capture.Event) *callState {
	if cs := r.calls[string(m.CallID)]; cs != nil {
		return cs
	}
	if len(r.calls) >= maxCalls {
		return nil
	}
	cs := &callState{id: string(m.CallID), caller: ev.Src}
	if !m.Request {
		cs.caller = ev.Dst // a response first: it goes to the caller
	}
	cs.sentID = cs.id
	if r.o.Rewrite && r.o.NewIDs {
		cs.ids = make(map[string]string)
		cs.sentID = newToken(16) + "@replay"
	}
	cs.live = &live{}
	r.mu.Lock()
	r.byID[cs.sentID] = cs.live
	r.mu.Unlock()
	r.calls[cs.id] = cs
	return cs
}

func (r *replayer) mediaPacket(ctx context.Context, ev *capture.Event) error {
	dst, dstKnown, ok := r.pickMedia(ev)
	if !ok {
		return nil
	}
	target, ok := netip.AddrPort{}, false
	if dstKnown && r.o.Rewrite {
		r.mu.Lock()
		peer := dst.call.live.media
		if dst.rtcp {
			peer = dst.call.live.rtcp
		}
		if dst.idx < len(peer) {
			target = peer[dst.idx]
			ok = target.IsValid() && target.Port() != 0
		}
		r.mu.Unlock()
		if ok && !r.allowed[target.Addr()] {
			r.c.RefusedPeer++
			return nil
		}
	}
	if !ok {
		if target, ok = r.target(ev.Dst); !ok {
			r.c.Refused++
			return nil
		}
	}
	payload := ev.Payload
	if r.o.NewRTP {
		switch ev.Kind {
		case capture.KindRTP:
			payload = r.rewriteRTP(ev)
		case capture.KindRTCP:
			payload = r.rewriteRTCP(payload)
		}
	}
	return r.send(ctx, ev, payload, target)
}

// pickMedia says whether an RTP or RTCP packet is replayed: while calls
// or a side are selected, an SDP of a selected call must name its source
// or destination, and its sender's side be wanted (what is not is
// counted). dst is the SDP reference of its destination, if any.
func (r *replayer) pickMedia(ev *capture.Event) (dst mediaRef, dstKnown, ok bool) {
	src, srcKnown := r.media[ev.Src]
	dst, dstKnown = r.media[ev.Dst]
	if r.selecting() {
		if !srcKnown && !dstKnown {
			r.c.Unattributed++
			return dst, dstKnown, false
		}
		fromCaller := src.caller
		if !srcKnown {
			fromCaller = !dst.caller
		}
		if !r.sideWanted(fromCaller) {
			r.c.OtherSide++
			return dst, dstKnown, false
		}
	}
	return dst, dstKnown, true
}

// target is where a packet the capture sent to dst goes: a map naming
// dst's address and port, else one naming its address, else To.
func (r *replayer) target(dst netip.AddrPort) (netip.AddrPort, bool) {
	for _, m := range r.o.Maps {
		if m.From.Port() != 0 && m.From == dst {
			return withPort(m.To, dst.Port()), true
		}
	}
	for _, m := range r.o.Maps {
		if m.From.Port() == 0 && m.From.Addr() == dst.Addr() {
			return withPort(m.To, dst.Port()), true
		}
	}
	if r.o.To.IsValid() {
		return r.o.To, true
	}
	return netip.AddrPort{}, false
}

func withPort(a netip.AddrPort, port uint16) netip.AddrPort {
	if a.Port() == 0 {
		return netip.AddrPortFrom(a.Addr(), port)
	}
	return a
}

// localFor is the local address the packet will leave from.
func (r *replayer) localFor(ctx context.Context, ev *capture.Event, target netip.AddrPort) (netip.AddrPort, bool, error) {
	if ev.Transport == capture.TransportTCP {
		t, ok := r.socks.tcpFor(ctx, ev.Src, ev.Dst, target)
		if !ok {
			return netip.AddrPort{}, false, nil
		}
		if t.err != nil {
			return netip.AddrPort{}, true, t.err
		}
		return t.local, true, nil
	}
	u, ok, err := r.socks.udpFor(ev.Src)
	if !ok {
		return netip.AddrPort{}, false, err
	}
	return u.local, true, nil
}

func (r *replayer) noSocket(err error) error {
	if err != nil {
		r.c.SendErrors++
		return nil
	}
	r.c.SocketsFull++
	return nil
}

// send waits for the packet's time on the schedule and sends it. An
// invalid target means "look it up" (unparsed SIP).
func (r *replayer) send(ctx context.Context, ev *capture.Event, payload []byte, target netip.AddrPort) error {
	if !target.IsValid() {
		var ok bool
		if target, ok = r.target(ev.Dst); !ok {
			r.c.Refused++
			return nil
		}
	}
	tcp := ev.Transport == capture.TransportTCP
	var u *udpSock
	var t *tcpConn
	if tcp {
		var ok bool
		if t, ok = r.socks.tcpFor(ctx, ev.Src, ev.Dst, target); !ok {
			return r.noSocket(nil)
		}
	} else {
		var ok bool
		var err error
		if u, ok, err = r.socks.udpFor(ev.Src); !ok {
			return r.noSocket(err)
		}
	}
	if _, err := r.pacer.WaitSize(ctx, ev.Time.Add(r.shift), len(payload)); err != nil {
		return err
	}
	var err error
	switch {
	case tcp && t.err != nil:
		err = t.err
	case tcp:
		_, err = t.c.Write(payload)
	default:
		_, err = u.c.WriteToUDPAddrPort(payload, target)
	}
	tc := r.targets[targetKey{target, tcp}]
	if tc == nil {
		tc = &TargetCount{Target: target, Transport: "udp"}
		if tcp {
			tc.Transport = "tcp"
		}
		r.targets[targetKey{target, tcp}] = tc
	}
	if err != nil {
		tc.Errors++
		r.c.SendErrors++
	} else {
		tc.Packets++
		tc.Bytes += int64(len(payload))
		r.c.Sent++
		r.c.SentBytes += int64(len(payload))
	}
	r.progressAt(ev.Time)
	return nil
}

func (r *replayer) progressAt(t time.Time) {
	if r.o.Progress == nil {
		return
	}
	now := time.Now()
	if now.Sub(r.lastProgress) < r.o.ProgressEvery {
		return
	}
	r.lastProgress = now
	p := r.snapshot(now)
	if span := r.sel.last.Sub(r.sel.first); span > 0 {
		p.Done = min(max(float64(t.Sub(r.sel.first))/float64(span), 0), 1)
	}
	p.ETA = r.eta(p.Done, now)
	r.o.Progress(p)
}

func (r *replayer) snapshot(now time.Time) Progress {
	return Progress{Run: r.run, Runs: r.o.Loops, Sent: r.c.Sent, Bytes: r.c.SentBytes, Errors: r.c.SendErrors,
		Elapsed: now.Sub(r.start), ETA: -1, Late: r.pacer.Lateness().P99}
}

// eta estimates the time left: the capture time still to play over the
// speed when paced, else by the rate of the run so far.
func (r *replayer) eta(done float64, now time.Time) time.Duration {
	if r.o.Loops == 0 {
		return -1
	}
	left := float64(r.o.Loops-r.run) + 1 - done
	span := r.sel.last.Sub(r.sel.first)
	if r.o.Speed > 0 && r.o.PPS <= 0 && r.o.Mbps <= 0 {
		return time.Duration(left * float64(span) / r.o.Speed)
	}
	if done <= 0 {
		return -1
	}
	perRun := float64(now.Sub(r.runStart)) / done
	return time.Duration(left * perRun)
}

func (r *replayer) progress(final bool) {
	if r.o.Progress == nil || !final {
		return
	}
	p := r.snapshot(time.Now())
	p.Done, p.ETA = 1, 0
	if r.run > r.o.Loops && r.o.Loops > 0 {
		p.Run = r.o.Loops
	}
	r.o.Progress(p)
}

func (r *replayer) summary() Summary {
	s := Summary{Runs: min(r.run, max(r.o.Loops, r.run)), Calls: -1, Elapsed: time.Since(r.start), Counts: r.c,
		Lateness: r.pacer.Lateness()}
	if r.o.Loops > 0 && r.run > r.o.Loops {
		s.Runs = r.o.Loops
	}
	if r.sel.calls != nil {
		s.Calls = len(r.sel.calls)
	}
	if r.socks != nil { // nil in frame replay
		s.Counts.Received = r.socks.recv.Load()
		s.Counts.ReceivedBytes = r.socks.recvBytes.Load()
		s.Counts.Sockets = r.socks.n()
	}
	r.mu.Lock()
	s.Counts.PeerSDP = r.peerSDP
	r.mu.Unlock()
	for _, t := range r.targets {
		s.Targets = append(s.Targets, *t)
	}
	sort.Slice(s.Targets, func(i, j int) bool {
		a, b := s.Targets[i], s.Targets[j]
		if a.Target != b.Target {
			return a.Target.Addr().Less(b.Target.Addr()) || (a.Target.Addr() == b.Target.Addr() && a.Target.Port() < b.Target.Port())
		}
		return a.Transport < b.Transport
	})
	s.Timing = timingOf(s.Lateness)
	return s
}

// learn reads what a live peer sent back (on a reader goroutine): its
// To-tag and SDP endpoints, by the Call-ID we sent.
func (r *replayer) learn(b []byte) {
	var m sipflow.Message
	if m.Unmarshal(b) != nil || len(m.CallID) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	lv := r.byID[string(m.CallID)]
	if lv == nil {
		return
	}
	if !m.Request && len(m.To.Tag) > 0 && lv.toTag == "" {
		lv.toTag = string(m.To.Tag)
	}
	if m.HasSDP {
		r.peerSDP++
		lv.media, lv.rtcp = lv.media[:0], lv.rtcp[:0]
		for i := range m.SDP.Media {
			ep, _ := m.SDP.Endpoint(i)
			rep, _ := m.SDP.RTCPEndpoint(i)
			lv.media = append(lv.media, ep)
			lv.rtcp = append(lv.rtcp, rep)
		}
	}
}

// newToken is a random lower-case hex string of n characters.
func newToken(n int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = hex[rand.IntN(16)]
	}
	return string(b)
}
