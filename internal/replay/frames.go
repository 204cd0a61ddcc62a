package replay

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/fixup"
	livecap "github.com/voiptool/voiptool/capture/live"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/pcap"
)

// DefaultWindow is Options.Window's default: records held back for the
// decoder to classify them. The RTP heuristic names a flow's first
// packet when its second arrives, a few records later on a busy link.
const DefaultWindow = 2048

// topSpeedWait is how long an unpaced frame replay waits for room in a
// full socket buffer: there nothing is late, so waiting beats dropping.
const topSpeedWait = 200 * time.Millisecond

// FrameCounts say what became of every record of a frame replay (summed
// over runs): sent (Sent, Bytes), refused by the kernel (Dropped: no room,
// EAGAIN/ENOBUFS; TooBig: above the MTU; Errors), or not sent and why.
type FrameCounts struct {
	Iface   string `json:"iface"`
	Records int64  `json:"records"`
	livecap.InjectStats
	// NotSelected: records whose payloads belong to no selected call or
	// side, or, while calls or a side are selected, records without a
	// payload to attribute (TCP handshakes and ACKs, ARP, fragments).
	NotSelected int64 `json:"skipped_not_selected"`
	// Unclassified: records without a classified payload (ARP, TCP
	// handshakes and ACKs, DNS, earlier IP fragments) handed to the
	// kernel as captured, when no calls or side were selected;
	// SkippedUnclassified: those left out by Options.OnlyVoIP.
	Unclassified        int64 `json:"unclassified_sent"`
	SkippedUnclassified int64 `json:"skipped_unclassified"`
	// NoHeaders: records that needed a rewrite (--map, a new Ethernet
	// header, --new-rtp) but carried no classified payload, so their
	// headers were not located (TCP ACKs, earlier IP fragments, ARP).
	NoHeaders int64 `json:"skipped_no_headers"`
	// FixupErrors: rewritten records whose lengths or checksums could
	// not be repaired (cut by the snaplen, a reassembled payload).
	FixupErrors int64 `json:"skipped_fixup"`
	// NoEthernet: records without an Ethernet header (found only at
	// send time) while no DstMAC was given to build one.
	NoEthernet int64 `json:"skipped_no_ethernet"`
	// ChecksumsKept: records sent as captured because their checksums
	// could not be verified and recomputed (truncated records).
	ChecksumsKept int64 `json:"checksums_not_fixed"`
	// Rewritten: records whose addresses or ports --map changed;
	// Synthesised: records that got a built Ethernet header.
	Rewritten   int64 `json:"addresses_rewritten"`
	Synthesised int64 `json:"ethernet_built"`
	// LateEvents: payloads classified after their record had left the
	// window (Options.Window too small): their record went out as if
	// unclassified.
	LateEvents int64 `json:"late_events"`
}

// frameRec is a record waiting in the window: its own copy of the bytes
// and what its classified payloads decided.
type frameRec struct {
	src       int
	p         pcap.Packet
	data      []byte
	layers    capture.Layers // of its first wanted payload
	hasLayers bool
	events    int
	send      bool
	repls     []frameRepl
}

// frameRepl is a payload of the record to be replaced (--new-rtp).
type frameRepl struct {
	layers capture.Layers
	n      int
	b      []byte
}

type frameReplayer struct {
	*replayer
	ctx    context.Context
	inj    frameSender
	fc     FrameCounts
	ifMAC  net.HardwareAddr
	window []*frameRec
	head   int
	free   []*frameRec
	err    error
	a, b   []byte // frame buffers, used in turn
}

// RunFrames replays o.Files' frames whole on the interface o.Iface
// through an AF_PACKET socket (Run calls it when Iface is set). Each
// record leaves at start + its capture offset (or at o.PPS, o.Mbps),
// exactly as captured unless options change it:
//
//   - Maps rewrite the addresses (and with a port, the ports) of every IP
//     header of the record, source and destination alike, so both
//     directions of a call move; tunnel headers by address only.
//   - SrcMAC and DstMAC replace the Ethernet addresses; a record without
//     an Ethernet header (raw IP, Linux cooked, BSD loopback) gets one
//     built from them (DstMAC required; the source is SrcMAC, a cooked
//     header's own address, or the interface's).
//   - NewRTP gives RTP and RTCP new bases, as over sockets.
//
// Lengths and checksums of every rewritten record are repaired with
// capture/fixup (a record is only rewritten where a classified payload
// located its headers; one that needs a rewrite and has none is counted,
// not sent). Checksums of classified records left as captured are
// recomputed too, so captures taken with checksum offload replay valid;
// unclassified records (ARP, TCP handshakes and ACKs) go out byte for
// byte and are counted (FrameCounts.Unclassified), or, with OnlyVoIP,
// are left out and counted (SkippedUnclassified).
//
// With calls (CallIDs, Filter) or a Side selected, only records carrying
// their SIP, RTP or RTCP are sent. The interface must not own an address
// of the capture (after Maps) unless Force: injected frames from or to
// the host's own address would meet its own stack's traffic.
//
// Frames the kernel cannot take (no room after a short wait, above the
// MTU) are counted, never retried late. The departure error of every
// frame is measured as over sockets.
func RunFrames(ctx context.Context, o Options, warn func(error)) (Summary, error) {
	var sum Summary
	if err := checkFrameOptions(&o); err != nil {
		return sum, err
	}
	iopts := livecap.InjectorOptions{}
	if o.Speed <= 0 && o.PPS <= 0 && o.Mbps <= 0 {
		iopts.Wait = topSpeedWait
	}
	inj, err := livecap.OpenInjector(o.Iface, iopts)
	if err != nil {
		return sum, err
	}
	defer inj.Close()
	addrs, err := inj.Addrs()
	if err != nil {
		return sum, err
	}
	return runFrames(ctx, o, warn, inj, inj.Interface().HardwareAddr, addrs)
}

// frameSender sends frames and counts them: the injector, or a test's
// recorder.
type frameSender interface {
	Send(frame []byte) error
	Stats() livecap.InjectStats
}

// runFrames is RunFrames after the interface was opened: out sends, mac
// and addrs are the interface's.
func runFrames(ctx context.Context, o Options, warn func(error), out frameSender, mac net.HardwareAddr, addrs []netip.Addr) (Summary, error) {
	var sum Summary
	if err := checkFrameOptions(&o); err != nil {
		return sum, err
	}
	own := make(map[netip.Addr]bool)
	for _, a := range addrs {
		own[a] = true
	}
	var ownErr, linkErr error
	sel, err := selectCalls(ctx, &o, warn, func(ev *capture.Event) {
		if linkErr == nil && ev.Packet.LinkType != pcap.LinkTypeEthernet && len(o.DstMAC) == 0 {
			linkErr = fmt.Errorf("%w: %s has link type %s (record %d): give --dst-mac MAC (and --src-mac) to have an Ethernet header built",
				ErrLinkType, o.Files[ev.Source], ev.Packet.LinkType, ev.Packet.Number)
		}
		if ownErr == nil && !o.Force {
			if a, ok := ownAddress(&o, ev, own); ok {
				ownErr = fmt.Errorf("%w: %s owns %s (record %d of %s)", ErrOwnAddress, o.Iface, a, ev.Packet.Number, o.Files[ev.Source])
			}
		}
	})
	if err == nil {
		err = errors.Join(linkErr, ownErr)
	}
	if err != nil {
		if ctx.Err() != nil {
			sum.Cancelled = true
			return sum, nil
		}
		return sum, err
	}
	r := &replayer{o: &o, sel: sel, allowed: map[netip.Addr]bool{}, targets: map[targetKey]*TargetCount{},
		pacer: pace.New(o.paceOptions()), byID: make(map[string]*live)}
	f := &frameReplayer{replayer: r, ctx: ctx, inj: out, ifMAC: mac}
	f.fc.Iface = o.Iface
	r.start = time.Now()
	span := sel.last.Sub(sel.first)
	for r.run = 1; o.Loops == 0 || r.run <= o.Loops; r.run++ {
		if err = f.playOnce(warn); err != nil {
			break
		}
		r.shift += span + loopGap
	}
	f.counts()
	r.progress(true)
	sum = r.summary()
	fc := f.fc
	sum.Frames = &fc
	if err != nil && ctx.Err() != nil {
		sum.Cancelled = true
		err = nil
	}
	return sum, err
}

// checkFrameOptions refuses what frame replay cannot do and sets its
// defaults.
func checkFrameOptions(o *Options) error {
	switch {
	case o.To.IsValid():
		return fmt.Errorf("%w: --to (frames keep their addresses; --map moves them)", ErrFrameOption)
	case o.Rewrite || o.NewIDs:
		return fmt.Errorf("%w: --rewrite and --new-ids (a live peer answers over sockets)", ErrFrameOption)
	case len(o.SrcMAC) != 0 && len(o.SrcMAC) != 6, len(o.DstMAC) != 0 && len(o.DstMAC) != 6:
		return fmt.Errorf("%w: MAC addresses have 6 bytes", ErrFrameOption)
	}
	for _, m := range o.Maps {
		if m.From.Addr().Is4() != m.To.Addr().Is4() {
			return fmt.Errorf("%w: --map %s changes the address family", ErrFrameOption, m)
		}
		if err := checkTarget(m.To.Addr(), o.AllowBroadcast); err != nil {
			return err
		}
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	return nil
}

// ownAddress reports an address of ev's record, after the maps, that
// the interface owns: the payload's endpoints and every IP header of the
// record when it is in hand.
func ownAddress(o *Options, ev *capture.Event, own map[netip.Addr]bool) (netip.Addr, bool) {
	for _, ap := range [2]netip.AddrPort{ev.Src, ev.Dst} {
		if a := mapEndpoint(o.Maps, ap, true).Addr(); own[a] {
			return a, true
		}
	}
	if ev.Record == nil {
		return netip.Addr{}, false
	}
	l := &ev.Layers
	for i := range l.Len() {
		h := l.Header(i)
		if src, dst, ok := ipAddrs(ev.Record, h); ok {
			for _, a := range [2][]byte{src, dst} {
				ip, _ := netip.AddrFromSlice(a)
				if m := mapEndpoint(o.Maps, netip.AddrPortFrom(ip, 0), false).Addr(); own[m] {
					return m, true
				}
			}
		}
	}
	return netip.Addr{}, false
}

// ipAddrs are the source and destination address fields of IP header h
// of rec (aliasing rec).
func ipAddrs(rec []byte, h capture.Header) (src, dst []byte, ok bool) {
	o := int(h.Off)
	switch {
	case o < 0:
	case h.Proto == capture.ProtoIPv4 && o+20 <= len(rec):
		return rec[o+12 : o+16], rec[o+16 : o+20], true
	case h.Proto == capture.ProtoIPv6 && o+40 <= len(rec):
		return rec[o+8 : o+24], rec[o+24 : o+40], true
	}
	return nil, nil, false
}

// mapEndpoint is where maps move ap: a map naming its address and port,
// else (withPort false: only) one naming its address; ap if none.
func mapEndpoint(maps []Map, ap netip.AddrPort, withPort bool) netip.AddrPort {
	if withPort {
		for _, m := range maps {
			if m.From.Port() != 0 && m.From == ap {
				return withPortOf(m.To, ap.Port())
			}
		}
	}
	for _, m := range maps {
		if m.From.Port() == 0 && m.From.Addr() == ap.Addr() {
			return withPortOf(m.To, ap.Port())
		}
	}
	return ap
}

func withPortOf(a netip.AddrPort, port uint16) netip.AddrPort {
	if a.Port() == 0 {
		return netip.AddrPortFrom(a.Addr(), port)
	}
	return a
}

// playOnce is one pass over the capture: records go into the window as
// the decoder reads them, their payloads decide their fate, and they
// leave the window in order, each at its time.
func (f *frameReplayer) playOnce(warn func(error)) error {
	r := f.replayer
	srcs, done, err := openFiles(r.o.Files)
	if err != nil {
		return err
	}
	defer done()
	r.newPass()
	r.runStart = time.Now()
	co := r.o.Capture
	co.OnRecord = f.record
	_, err = capture.Run(f.ctx, srcs, co, warn, f.event)
	if err == nil && f.err == nil {
		f.drain(true)
	}
	for _, rec := range f.window[f.head:] {
		f.free = append(f.free, rec)
	}
	f.window, f.head = f.window[:0], 0
	if f.err != nil {
		return f.err
	}
	return err
}

// record takes a record into the window, after sending what is settled.
func (f *frameReplayer) record(src int, p pcap.Packet, data []byte) {
	if f.err != nil {
		return
	}
	f.drain(false)
	var rec *frameRec
	if n := len(f.free); n > 0 {
		rec, f.free = f.free[n-1], f.free[:n-1]
	} else {
		rec = &frameRec{}
	}
	rec.src, rec.p, rec.data = src, p, append(rec.data[:0], data...)
	rec.hasLayers, rec.events, rec.send, rec.repls = false, 0, false, rec.repls[:0]
	if f.head > 0 && f.head == len(f.window) {
		f.window, f.head = f.window[:0], 0
	} else if f.head > len(f.window)/2 && f.head > 64 {
		n := copy(f.window, f.window[f.head:])
		f.window, f.head = f.window[:n], 0
	}
	f.window = append(f.window, rec)
	f.fc.Records++
}

// drain sends the records at the head of the window that are settled:
// classified, or pushed out by the window (all: every one, at the end).
func (f *frameReplayer) drain(all bool) {
	for f.head < len(f.window) && f.err == nil {
		rec := f.window[f.head]
		if rec.events == 0 && !all && len(f.window)-f.head < f.o.Window {
			return
		}
		f.head++
		f.process(rec)
		f.free = append(f.free, rec)
	}
}

// event attaches a classified payload to its record and decides, as the
// socket replay does, whether it is replayed.
func (f *frameReplayer) event(ev *capture.Event) error {
	r := f.replayer
	var rec *frameRec
	for i := len(f.window) - 1; i >= f.head; i-- {
		if w := f.window[i]; w.p.Number == ev.Packet.Number && w.src == ev.Source {
			rec = w
			break
		}
	}
	var want bool
	switch ev.Kind {
	case capture.KindSIP:
		_, _, want = r.pickSIP(ev)
	case capture.KindRTP, capture.KindRTCP:
		_, _, want = r.pickMedia(ev)
	default:
		if want = !r.selecting(); !want {
			r.c.Unattributed++
		}
	}
	if rec == nil {
		f.fc.LateEvents++
		return f.err
	}
	rec.events++
	if !want {
		return f.err
	}
	rec.send = true
	if !rec.hasLayers && ev.Layers.Len() > 0 {
		rec.layers, rec.hasLayers = ev.Layers, true
	}
	if r.o.NewRTP && ev.Layers.Payload >= 0 && (ev.Kind == capture.KindRTP || ev.Kind == capture.KindRTCP) {
		var nb []byte
		if ev.Kind == capture.KindRTP {
			nb = r.rewriteRTP(ev)
		} else {
			nb = r.rewriteRTCP(ev.Payload)
		}
		if len(rec.repls) < cap(rec.repls) {
			rec.repls = rec.repls[:len(rec.repls)+1]
		} else {
			rec.repls = append(rec.repls, frameRepl{})
		}
		x := &rec.repls[len(rec.repls)-1]
		x.layers, x.n, x.b = ev.Layers, len(ev.Payload), append(x.b[:0], nb...)
	}
	return f.err
}

// process sends one record that left the window, or counts why not.
func (f *frameReplayer) process(rec *frameRec) {
	r := f.replayer
	if (rec.events > 0 && !rec.send) || (rec.events == 0 && r.selecting()) {
		f.fc.NotSelected++
		return
	}
	if rec.events == 0 && f.o.OnlyVoIP {
		f.fc.SkippedUnclassified++
		return
	}
	frame, ok := f.build(rec)
	if !ok {
		return
	}
	if rec.events == 0 {
		f.fc.Unclassified++
	}
	if _, err := r.pacer.WaitSize(f.ctx, rec.p.Timestamp.Add(r.shift), len(frame)); err != nil {
		f.err = err
		return
	}
	_ = f.inj.Send(frame) // a refused frame is counted by the injector
	f.counts()
	r.progressAt(rec.p.Timestamp)
}

// counts copies the injector's counters into the summary's.
func (f *frameReplayer) counts() {
	st := f.inj.Stats()
	f.fc.InjectStats = st
	f.c.Sent, f.c.SentBytes = int64(st.Sent), int64(st.Bytes)
	f.c.SendErrors = int64(st.Dropped + st.TooBig + st.Errors)
}

// build returns the frame to send for rec (in one of f's buffers), or
// false when it cannot be built (counted).
func (f *frameReplayer) build(rec *frameRec) ([]byte, bool) {
	eth := rec.p.LinkType == pcap.LinkTypeEthernet
	if !eth && len(f.o.DstMAC) == 0 {
		f.fc.NoEthernet++
		return nil, false
	}
	if !rec.hasLayers {
		if len(f.o.Maps) > 0 || !eth || len(rec.repls) > 0 {
			f.fc.NoHeaders++
			return nil, false
		}
		f.a = append(f.a[:0], rec.data...)
		f.setMACs(f.a)
		return f.a, true
	}
	cur := append(f.a[:0], rec.data...)
	f.a = cur
	if len(rec.repls) > 0 {
		// from the last payload to the first: earlier offsets stay valid
		slices.SortFunc(rec.repls, func(x, y frameRepl) int { return int(y.layers.Payload - x.layers.Payload) })
		for i := range rec.repls {
			x := &rec.repls[i]
			next, err := fixup.Replace(f.b[:0], cur, &x.layers, x.n, x.b)
			if err != nil {
				f.fc.FixupErrors++
				return nil, false
			}
			f.a, f.b = next, cur
			cur = next
		}
	}
	changed := f.mapAddrs(cur, &rec.layers)
	if changed {
		f.fc.Rewritten++
	}
	if err := fixup.Fix(cur, &rec.layers, 0); err != nil {
		if changed || len(rec.repls) > 0 {
			f.fc.FixupErrors++
			return nil, false
		}
		f.fc.ChecksumsKept++ // Fix wrote nothing: the record as captured
	}
	if eth {
		f.setMACs(cur)
		return cur, true
	}
	l3 := int(rec.layers.L3())
	if l3 < 0 || l3 >= len(cur) {
		f.fc.NoHeaders++
		return nil, false
	}
	et := uint16(0x0800) // IPv4 (RFC 894)
	if cur[l3]>>4 == 6 {
		et = 0x86dd // IPv6 (RFC 2464)
	}
	out := append(f.b[:0], f.o.DstMAC...)
	out = append(out, f.srcMACFor(rec, cur)...)
	out = binary.BigEndian.AppendUint16(out, et)
	out = append(out, cur[l3:]...)
	f.a, f.b = cur, out
	f.fc.Synthesised++
	return out, true
}

// srcMACFor is the source of a built Ethernet header: SrcMAC, else the
// sender's own address a Linux cooked header carries, else the
// interface's.
func (f *frameReplayer) srcMACFor(rec *frameRec, b []byte) []byte {
	if len(f.o.SrcMAC) == 6 {
		return f.o.SrcMAC
	}
	if rec.layers.Len() > 0 && rec.layers.Offs[0] == 0 {
		switch rec.layers.Protos[0] {
		case capture.ProtoSLL:
			// address length at +4, address at +6
			if len(b) >= 16 && binary.BigEndian.Uint16(b[4:]) == 6 {
				return b[6:12]
			}
		case capture.ProtoSLL2:
			// address length at +11, address at +12
			if len(b) >= 20 && b[11] == 6 {
				return b[12:18]
			}
		}
	}
	if len(f.ifMAC) == 6 {
		return f.ifMAC
	}
	return make([]byte, 6)
}

// setMACs writes SrcMAC and DstMAC into an Ethernet header at b[0].
func (f *frameReplayer) setMACs(b []byte) {
	if len(b) < 14 {
		return
	}
	if len(f.o.DstMAC) == 6 {
		copy(b[0:6], f.o.DstMAC)
	}
	if len(f.o.SrcMAC) == 6 {
		copy(b[6:12], f.o.SrcMAC)
	}
}

// mapAddrs applies the maps to every IP header of the record: the
// innermost with its transport ports (so a map with a port moves one
// endpoint), tunnel headers by address. It reports whether a byte
// changed.
func (f *frameReplayer) mapAddrs(b []byte, l *capture.Layers) bool {
	if len(f.o.Maps) == 0 {
		return false
	}
	inner := int(l.InnerL3())
	l4 := int(l.InnerL4())
	changed := false
	for i := range l.Len() {
		h := l.Header(i)
		src, dst, ok := ipAddrs(b, h)
		if !ok {
			continue
		}
		withPorts := int(h.Off) == inner && l4 > int(h.Off) && l4+4 <= len(b)
		var sp, dp []byte
		if withPorts {
			sp, dp = b[l4:l4+2], b[l4+2:l4+4]
		}
		changed = mapField(f.o.Maps, src, sp) || changed
		changed = mapField(f.o.Maps, dst, dp) || changed
	}
	return changed
}

// mapField rewrites one address field (and its port field, if given)
// in place.
func mapField(maps []Map, addr, port []byte) bool {
	a, _ := netip.AddrFromSlice(addr)
	var p uint16
	if port != nil {
		p = binary.BigEndian.Uint16(port)
	}
	m := mapEndpoint(maps, netip.AddrPortFrom(a, p), port != nil)
	if m.Addr() == a && m.Port() == p {
		return false
	}
	if m.Addr().Is4() {
		v := m.Addr().As4()
		copy(addr, v[:])
	} else {
		v := m.Addr().As16()
		copy(addr, v[:])
	}
	if port != nil {
		binary.BigEndian.PutUint16(port, m.Port())
	}
	return true
}
