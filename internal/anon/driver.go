package anon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/fixup"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// CaptureOptions configures AnonymizeCapture.
type CaptureOptions struct {
	RTP RTPMode
	// Decoder options. With the RTP heuristic on (the default), packets
	// of an SSRC not announced in SDP are classified only when later
	// packets confirm it: their records wait in a window (Window records)
	// until their payload is delivered, and are written in input order.
	Decoder capture.Options
	// Window is how many records may wait for a late classification
	// (0: 2048); a record that leaves it unclassified is not written.
	Window int
	// MaxFlows bounds the TCP flows whose sequence numbers are shifted and
	// the SDP-announced payload types remembered (0: 65536 each).
	MaxFlows int
	// KeepUnparsed writes the records nothing was understood in (no
	// SIP/RTP/RTCP/HEP payload, or refused by the decoder) as captured,
	// instead of dropping them: their addresses and payloads are NOT
	// anonymised (the leak check then finds what they hold), for a user
	// who needs the capture's shape more than its privacy.
	KeepUnparsed bool
}

// CaptureStats says what became of every record. Every record read is
// either written or counted in one Dropped field.
type CaptureStats struct {
	Records int // read
	Written int
	SIP     int // SIP payloads rewritten
	SIPText int // payloads on SIP ports that were no SIP message: scrubbed as text
	RTP     int // RTP packets rewritten (silenced, DTMF hidden, kept by --rtp keep)
	RTCP    int // RTCP packets rewritten
	HEP     int // HEP packets rewritten (RewriteHEP)

	// Records not written. Their headers could not be located (no
	// payload was classified in them), or their payload could not be
	// rewritten where it lies: writing them would leak.
	DroppedNoVoIP       int // no SIP/RTP/RTCP/HEP payload: ARP, DNS, TCP handshakes and ACKs, other UDP
	DroppedReassembled  int // the payload spans records (IP fragments, multi-segment TCP, SCTP fragments)
	DroppedHEP          int // HEP packets that did not decode
	DroppedRTP          int // RTP dropped by RTPDrop
	DroppedBadMedia     int // RTP/RTCP the rewriter could not walk
	DroppedDecodeErrors int // the decoder refused the record
	DroppedFixup        int // lengths or checksums could not be repaired
	// IP-fragmented datagrams are written reassembled: the last
	// fragment's record carries the whole datagram (fragment fields
	// cleared, lengths and checksums fixed); the earlier fragments are
	// not written as such.
	Defragmented        int // datagrams written reassembled
	FragmentsMerged     int // fragment records before a datagram's last, not written as such
	FragmentsIncomplete int // datagrams never completed in the capture (the decoder's expired, evicted and refused fragments): their fragments are counted in FragmentsMerged but nothing of them is written
	KeptUnparsed        int // records written as captured, not anonymised (KeepUnparsed)
	LateEvents          int // payloads delivered after their record left the window (ignored)
	TCPFlowsUntracked   int // TCP flows beyond MaxFlows: their sequence numbers are not shifted
}

// Dropped is the sum of the Dropped counters.
func (s *CaptureStats) Dropped() int {
	return s.DroppedNoVoIP + s.DroppedReassembled + s.DroppedHEP + s.DroppedRTP +
		s.DroppedBadMedia + s.DroppedDecodeErrors + s.DroppedFixup
}

// NotWritten is every record read and not written: the dropped ones and
// the fragments folded into their reassembled datagram. Records =
// Written + NotWritten.
func (s *CaptureStats) NotWritten() int { return s.Dropped() + s.FragmentsMerged }

// RecordWriter is what AnonymizeCapture writes to (pcap.Writer, or
// NgWriter through NgInterfaces).
type RecordWriter interface {
	WritePacket(p pcap.Packet, data []byte) error
}

type flowKey struct{ src, dst netip.AddrPort }

type ptKey struct {
	ep netip.AddrPort
	pt uint8
}

type pendingEvent struct {
	kind     capture.Kind
	layers   capture.Layers
	n        int // payload length (in the record)
	src, dst netip.AddrPort
	pt       uint8
	// msg is a copy of a SIP message reassembled from several TCP
	// segments (Layers.Payload < 0): it is written whole into the last
	// segment, whose sequence number moves back to the message's start;
	// the earlier segments, classified in no record, are not written.
	msg  []byte
	back int // bytes of msg before this record's segment
	// whole is a copy of the UDP payload of a datagram rebuilt from IP
	// fragments (Layers.Reassembled has ReasmIP): written reassembled in
	// the last fragment's record.
	whole []byte
	// ws is a copy of a SIP message unwrapped from a WebSocket frame
	// whole in this record's segment (wsWhole); frame is that frame's
	// header once wsLocate found it.
	ws    []byte
	frame wsFrame
}

// pendingRec is a record waiting in the window: its own copy of the
// bytes and the events classified in it so far.
type pendingRec struct {
	p      pcap.Packet
	data   []byte
	evs    []pendingEvent
	decErr bool
	frag   bool // the decoder took the record as an IP fragment
}

// LearnCapture reads every SIP (and HEP) payload of r through the
// rewriter and discards the result: afterwards the mapper knows every
// identifier of the capture, so that free text (User-Agent, Subject, X-
// headers) loses a user or a realm that a later message names, not only
// an earlier one. LearnCapture then AnonymizeCapture is the two-pass
// anonymisation; the counters of the learning pass are cleared.
func (m *Mapper) LearnCapture(r *pcap.Reader, o CaptureOptions) error {
	dec := capture.NewDecoder(o.Decoder)
	learn := func(ev *capture.Event) {
		switch ev.Kind {
		case capture.KindSIP:
			if _, err := m.RewriteSIP(ev.Payload); err != nil {
				m.ScrubText(ev.Payload)
			}
		case capture.KindHEP:
			m.RewriteHEP(ev.Payload, o.RTP)
		}
	}
	var err error
	for {
		data, p, e := r.Next()
		if e != nil {
			if !errors.Is(e, io.EOF) {
				err = e
			}
			break
		}
		dec.Decode(data, p, learn)
	}
	dec.Flush(learn)
	m.Stats = Stats{}
	// Pseudonyms drawn while learning were drawn before every original
	// was known (one could equal an original met later): the second pass
	// draws them again; the identifiers stay.
	clear(m.memo)
	clear(m.table)
	return err
}

// capDriver holds the state of one AnonymizeCapture run.
type capDriver struct {
	m      *Mapper
	o      CaptureOptions
	w      RecordWriter
	st     CaptureStats
	queue  []*pendingRec // the window, oldest first
	free   []*pendingRec
	shift  map[flowKey]uint32
	codecs map[ptKey]string
	msg    sipflow.Message
	rec    []byte // the record being rewritten
}

// AnonymizeCapture reads every record of r, rewrites the ones that carry
// SIP, RTP, RTCP or HEP through the capture decoder's header chain
// (addresses and MACs of every header, tunnels included; the payload
// through RewriteSIP / RewriteRTP / RewriteRTCP / RewriteHEP; lengths and
// checksums by capture/fixup; TCP sequence numbers shifted by earlier size
// changes) and writes them to w in input order. Records it cannot rewrite
// completely are not written and are counted (see CaptureStats). A read
// error (damage) ends the run after the records before it are written.
func (m *Mapper) AnonymizeCapture(r *pcap.Reader, w RecordWriter, o CaptureOptions) (CaptureStats, error) {
	if o.MaxFlows <= 0 {
		o.MaxFlows = 1 << 16
	}
	if o.Window <= 0 {
		o.Window = 2048
	}
	d := &capDriver{m: m, o: o, w: w, shift: map[flowKey]uint32{}, codecs: map[ptKey]string{}}
	dec := capture.NewDecoder(o.Decoder)
	emit := d.collect
	var readErr error
	for {
		data, p, err := r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		d.st.Records++
		pr := d.newRec(data, p)
		d.queue = append(d.queue, pr)
		frags := dec.Fragments()
		if err := dec.Decode(pr.data, p, emit); err != nil && len(pr.evs) == 0 {
			pr.decErr = true
		}
		pr.frag = dec.Fragments() != frags
		if err := d.drain(false); err != nil {
			return d.st, err
		}
	}
	dec.Flush(emit)
	if err := d.drain(true); err != nil {
		return d.st, err
	}
	ds := dec.Stats()
	d.st.FragmentsIncomplete = ds.FragmentsExpired + ds.FragmentsEvicted + ds.FragmentsDropped
	return d.st, readErr
}

func (d *capDriver) newRec(data []byte, p pcap.Packet) *pendingRec {
	var pr *pendingRec
	if n := len(d.free); n > 0 {
		pr, d.free = d.free[n-1], d.free[:n-1]
	} else {
		pr = &pendingRec{}
	}
	pr.p, pr.data, pr.evs, pr.decErr, pr.frag = p, append(pr.data[:0], data...), pr.evs[:0], false, false
	return pr
}

// drain finalises records from the head of the window: those with a
// payload, a decode error, or pushed out by the window (all at the end).
func (d *capDriver) drain(all bool) error {
	for len(d.queue) > 0 {
		pr := d.queue[0]
		if len(pr.evs) == 0 && !pr.decErr && !all && len(d.queue) <= d.o.Window {
			return nil
		}
		d.queue = d.queue[1:]
		err := d.finish(pr)
		d.free = append(d.free, pr)
		if err != nil {
			return err
		}
	}
	return nil
}

// finish rewrites and writes one record, or counts why it is dropped.
func (d *capDriver) finish(pr *pendingRec) error {
	if d.o.KeepUnparsed && (pr.decErr || len(pr.evs) == 0) && !pr.frag {
		if err := d.w.WritePacket(pr.p, pr.data); err != nil {
			return err
		}
		d.st.Written++
		d.st.KeptUnparsed++
		return nil
	}
	if pr.decErr {
		d.st.DroppedDecodeErrors++
		return nil
	}
	if pr.frag && len(pr.evs) == 0 {
		// a fragment before its datagram's last: its bytes are written
		// in the reassembled datagram
		d.st.FragmentsMerged++
		return nil
	}
	d.rec = pr.data
	out, ok := d.record(pr.evs)
	if !ok {
		return nil
	}
	q := pr.p
	q.CaptureLength = len(out)
	if pr.p.Length > 0 {
		q.Length = pr.p.Length + len(out) - len(pr.data)
	}
	if err := d.w.WritePacket(q, out); err != nil {
		return err
	}
	d.st.Written++
	return nil
}

// collect attaches an event to its record in the window; SIP bodies teach
// the payload types of the media they announce.
func (d *capDriver) collect(ev *capture.Event) {
	var pr *pendingRec
	for i := len(d.queue) - 1; i >= 0; i-- {
		if d.queue[i].p.Number == ev.Packet.Number {
			pr = d.queue[i]
			break
		}
	}
	if pr == nil {
		d.st.LateEvents++
		return
	}
	pe := pendingEvent{kind: ev.Kind, layers: ev.Layers, n: len(ev.Payload), src: ev.Src, dst: ev.Dst, pt: ev.RTP.PayloadType}
	if ev.Layers.Payload < 0 && ev.Layers.Reassembled == capture.ReasmTCP && ev.Kind == capture.KindSIP {
		pe.msg = append([]byte(nil), ev.Payload...)
	}
	if ev.Layers.Payload < 0 && ev.Layers.Reassembled == capture.ReasmIP {
		pe.whole = append([]byte(nil), ev.Payload...)
	}
	if wsWhole(ev) {
		pe.ws = append([]byte(nil), ev.Payload...)
	}
	pr.evs = append(pr.evs, pe)
	if ev.Kind == capture.KindSIP && d.msg.Unmarshal(ev.Payload) == nil && d.msg.HasSDP {
		sdp := &d.msg.SDP
		for i := range sdp.Media {
			ep, ok := sdp.Endpoint(i)
			if !ok {
				continue
			}
			for _, rm := range sdp.Media[i].RTPMaps {
				if len(d.codecs) >= d.o.MaxFlows {
					break
				}
				d.codecs[ptKey{ep, rm.PT}] = string(rm.Encoding)
			}
		}
	}
}

// record rewrites d.rec, whose payloads are evs; ok false means drop
// (counted).
func (d *capDriver) record(evs []pendingEvent) ([]byte, bool) {
	if len(evs) == 0 {
		d.st.DroppedNoVoIP++
		return nil, false
	}
	if len(evs) == 1 && evs[0].whole != nil {
		return d.defragmented(&evs[0])
	}
	var used map[int]bool
	for i := range evs {
		e := &evs[i]
		if e.msg != nil && !d.coalesce(evs, i) {
			d.st.DroppedReassembled++
			return nil, false
		}
		if e.ws != nil {
			if used == nil {
				used = map[int]bool{}
			}
			if !d.wsLocate(evs, i, used) {
				d.st.DroppedReassembled++
				return nil, false
			}
		}
		if e.layers.Payload < 0 || int(e.layers.Payload)+e.n > len(d.rec) || e.layers.ChainFull() {
			d.st.DroppedReassembled++
			return nil, false
		}
	}
	l := &evs[0].layers
	d.headers(l)
	// payloads: media in place, SIP collected for replacement
	type repl struct {
		ev  *pendingEvent
		new []byte
	}
	var repls []repl
	var n CaptureStats // payload counters, added when the record is written
	for i := range evs {
		e := &evs[i]
		pay := d.rec[e.layers.Payload : int(e.layers.Payload)+e.n]
		if e.msg != nil {
			pay = e.msg // the whole message; its tail is what lies in the record
		}
		if e.ws != nil {
			pay = e.ws // the unmasked message; the record holds its frame
		}
		nb, ok := d.payload(e, pay, &n)
		if !ok {
			return nil, false
		}
		if e.ws != nil {
			nb = wsEncode(e.frame, nb)
		}
		if e.kind == capture.KindHEP || e.kind == capture.KindSIP {
			repls = append(repls, repl{e, nb})
		}
	}
	// TCP: shift sequence numbers by what earlier segments grew
	growth, back := 0, 0
	for _, r := range repls {
		old := r.ev.n
		if r.ev.msg != nil {
			old = len(r.ev.msg)
			back = r.ev.back
		}
		growth += len(r.new) - old
	}
	for i := range evs {
		if e := &evs[i]; e.layers.L4Proto() == 6 {
			d.tcp(e, growth, back)
			break // one TCP header per record
		}
	}
	if len(repls) == 0 {
		if err := fixup.Fix(d.rec, l, 0); err != nil {
			d.st.DroppedFixup++
			return nil, false
		}
		d.count(&n)
		return d.rec, true
	}
	// replace from the last payload to the first: earlier offsets stay valid
	sort.Slice(repls, func(i, j int) bool { return repls[i].ev.layers.Payload > repls[j].ev.layers.Payload })
	cur := d.rec
	for _, r := range repls {
		next, err := fixup.Replace(make([]byte, 0, len(cur)+len(r.new)), cur, &r.ev.layers, r.ev.n, r.new)
		if err != nil {
			d.st.DroppedFixup++
			return nil, false
		}
		cur = next
	}
	d.count(&n)
	return cur, true
}

// payload rewrites one payload: RTP and RTCP in place (the result is
// pay), SIP and HEP into new bytes. ok false means the record is dropped
// (counted).
func (d *capDriver) payload(e *pendingEvent, pay []byte, n *CaptureStats) (out []byte, ok bool) {
	switch e.kind {
	case capture.KindRTP:
		codec := d.codecs[ptKey{e.dst, e.pt}]
		if codec == "" {
			codec = d.codecs[ptKey{e.src, e.pt}]
		}
		res, err := d.m.RewriteRTP(pay, d.o.RTP, codec)
		if err != nil {
			d.st.DroppedBadMedia++
			return nil, false
		}
		if res == RTPRemove {
			d.st.DroppedRTP++
			return nil, false
		}
		n.RTP++
		return pay, true
	case capture.KindRTCP:
		if err := d.m.RewriteRTCP(pay); err != nil {
			d.st.DroppedBadMedia++
			return nil, false
		}
		n.RTCP++
		return pay, true
	case capture.KindHEP:
		nb, err := d.m.RewriteHEP(pay, d.o.RTP)
		if err != nil {
			d.st.DroppedHEP++
			return nil, false
		}
		n.HEP++
		return nb, true
	case capture.KindSIP:
		nb, err := d.m.RewriteSIP(pay)
		if err != nil {
			nb = d.m.ScrubText(pay)
			n.SIPText++
		} else {
			n.SIP++
		}
		return nb, true
	}
	return pay, true
}

func (d *capDriver) count(n *CaptureStats) {
	d.st.SIP += n.SIP
	d.st.SIPText += n.SIPText
	d.st.RTP += n.RTP
	d.st.RTCP += n.RTCP
	d.st.HEP += n.HEP
}

// coalesce places the reassembled message of evs[i] in the record: its
// tail is the start of this record's TCP payload, up to the next message
// classified in the record or to the end of the segment. It reports false
// when the tail cannot be located.
func (d *capDriver) coalesce(evs []pendingEvent, i int) bool {
	e := &evs[i]
	l := &e.layers
	l3, l4 := int(l.InnerL3()), int(l.InnerL4())
	if l.ChainFull() || l.L4Proto() != 6 || l3 < 0 || l4 < 0 || l4+20 > len(d.rec) {
		return false
	}
	p0 := l4 + 4*int(d.rec[l4+12]>>4)
	var ipEnd int
	switch l.L3Proto() {
	case 4:
		ipEnd = l3 + int(binary.BigEndian.Uint16(d.rec[l3+2:]))
	case 6:
		ipEnd = l3 + 40 + int(binary.BigEndian.Uint16(d.rec[l3+4:]))
	default:
		return false
	}
	ipEnd = min(ipEnd, len(d.rec))
	k := ipEnd - p0
	for j := range evs {
		if q := int(evs[j].layers.Payload); j != i && q > p0 && q-p0 < k {
			k = q - p0
		}
	}
	if k <= 0 || k > len(e.msg) || p0+k > len(d.rec) {
		return false
	}
	l.Payload = int32(p0)
	e.n, e.back = k, len(e.msg)-k
	return true
}

// headers rewrites the addresses of every header of the chain in place.
func (d *capDriver) headers(l *capture.Layers) {
	rec := d.rec
	for i := 0; i < l.Len(); i++ {
		h := l.Header(i)
		o := int(h.Off)
		if o < 0 {
			continue
		}
		switch h.Proto {
		case capture.ProtoEthernet:
			if o+12 <= len(rec) {
				d.mac(rec[o : o+6])
				d.mac(rec[o+6 : o+12])
			}
		case capture.ProtoSLL:
			// RFC-less Linux cooked v1: address length at +4, address at +6
			if o+14 <= len(rec) && binary.BigEndian.Uint16(rec[o+4:]) == 6 {
				d.mac(rec[o+6 : o+12])
			}
		case capture.ProtoSLL2:
			// v2: address length at +11, address at +12
			if o+20 <= len(rec) && rec[o+11] == 6 {
				d.mac(rec[o+12 : o+18])
			}
		case capture.ProtoIPv4:
			if o+20 <= len(rec) {
				d.addr4(rec[o+12 : o+16])
				d.addr4(rec[o+16 : o+20])
			}
		case capture.ProtoIPv6:
			if o+40 <= len(rec) {
				d.addr6(rec[o+8 : o+24])
				d.addr6(rec[o+24 : o+40])
			}
		}
	}
}

func (d *capDriver) mac(b []byte) {
	var a [6]byte
	copy(a[:], b)
	r := d.m.MAC(a)
	copy(b, r[:])
}

func (d *capDriver) addr4(b []byte) {
	a := netip.AddrFrom4([4]byte(b))
	r := d.m.Addr(a).As4()
	copy(b, r[:])
}

func (d *capDriver) addr6(b []byte) {
	a := netip.AddrFrom16([16]byte(b))
	r := d.m.Addr(a).As16()
	copy(b, r[:])
}

// tcp shifts the sequence number of a segment by the growth of the bytes
// its direction sent before, and its acknowledgment by the growth of the
// other direction's; then adds this segment's growth.
func (d *capDriver) tcp(e *pendingEvent, delta, back int) {
	o := int(e.layers.InnerL4())
	if o < 0 || o+14 > len(d.rec) {
		return
	}
	fwd, rev := flowKey{e.src, e.dst}, flowKey{e.dst, e.src}
	h := d.rec[o:]
	s, ok := d.shift[fwd]
	if !ok && len(d.shift) >= d.o.MaxFlows {
		d.st.TCPFlowsUntracked++
		return
	}
	binary.BigEndian.PutUint32(h[4:], binary.BigEndian.Uint32(h[4:])-uint32(back)+s)
	if h[13]&0x10 != 0 { // ACK
		binary.BigEndian.PutUint32(h[8:], binary.BigEndian.Uint32(h[8:])+d.shift[rev])
	}
	d.shift[fwd] = s + uint32(delta)
}

// NgInterfaces maps the interfaces of a pcapng input to those of an
// NgWriter as records name them, adding each on first use with its link
// type and snaplen only: names and descriptions (host names, sometimes)
// are not copied.
type NgInterfaces struct {
	W   *pcap.NgWriter
	R   *pcap.Reader
	ids map[int]int
}

// WritePacket writes p on the output interface standing for p's input one.
func (n *NgInterfaces) WritePacket(p pcap.Packet, data []byte) error {
	if n.ids == nil {
		n.ids = map[int]int{}
	}
	id, ok := n.ids[p.InterfaceIndex]
	if !ok {
		ifs := n.R.Interfaces()
		if p.InterfaceIndex < 0 || p.InterfaceIndex >= len(ifs) {
			return fmt.Errorf("anon: record %d names interface %d of %d", p.Number, p.InterfaceIndex, len(ifs))
		}
		var err error
		id, err = n.W.AddInterface(ifs[p.InterfaceIndex].LinkType, ifs[p.InterfaceIndex].Snaplen)
		if err != nil {
			return err
		}
		n.ids[p.InterfaceIndex] = id
	}
	p.InterfaceIndex = id
	return n.W.WritePacket(p, data)
}
