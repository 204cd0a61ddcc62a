package capture

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// SCTP (RFC 9260) constants.
const (
	sctpCommonHeader = 12 // 3.1: ports, verification tag, checksum
	sctpChunkHeader  = 4  // 3.2: type, flags, length
	sctpDataHeader   = 16 // 3.3.1: chunk header, TSN, stream id, SSN, PPID
	sctpChunkDATA    = 0
	sctpFlagE        = 0x01 // ending fragment
	sctpFlagB        = 0x02 // beginning fragment
	maxSCTPChunks    = 256
)

func (d *Decoder) sctpLayer(data []byte, src, dst netip.Addr, n uint8) {
	if len(data) < sctpCommonHeader {
		d.fail(ErrTruncated, "SCTP common header", "")
		return
	}
	d.stats.SCTP++
	l := &d.ev.Layers
	l.set(n, ProtoSCTP, d.offset(data))
	l.N = n + 1
	s := netip.AddrPortFrom(src, binary.BigEndian.Uint16(data[0:2]))
	t := netip.AddrPortFrom(dst, binary.BigEndian.Uint16(data[2:4]))
	p := data[sctpCommonHeader:]
	for n := 0; len(p) >= sctpChunkHeader; n++ {
		if n == maxSCTPChunks {
			d.fail(ErrMalformed, "SCTP", "too many chunks")
			return
		}
		typ, flags := p[0], p[1]
		clen := int(binary.BigEndian.Uint16(p[2:4]))
		if clen < sctpChunkHeader {
			d.fail(ErrMalformed, "SCTP chunk", "length below 4")
			return
		}
		if clen > len(p) {
			d.fail(ErrTruncated, "SCTP chunk", "length beyond packet")
			return
		}
		chunk := p[:clen]
		adv := (clen + 3) &^ 3 // chunks are padded to 4 bytes (3.2)
		if adv > len(p) {
			adv = len(p)
		}
		p = p[adv:]
		if typ != sctpChunkDATA {
			continue
		}
		if clen < sctpDataHeader {
			d.fail(ErrMalformed, "SCTP DATA chunk", "length below 16")
			return
		}
		d.stats.SCTPChunks++
		user := chunk[sctpDataHeader:]
		if flags&(sctpFlagB|sctpFlagE) == sctpFlagB|sctpFlagE {
			d.classifyDatagram(user, s, t, TransportSCTP)
			continue
		}
		tsn := binary.BigEndian.Uint32(chunk[4:8])
		sid := binary.BigEndian.Uint16(chunk[8:10])
		first, last := l.FirstRecord, l.LastRecord
		if msg, ok := d.sctpR.add(d, sctpKey{s, t, sid}, tsn, flags&sctpFlagB != 0, flags&sctpFlagE != 0, user); ok {
			d.stats.SCTPReassembled++
			l.Reassembled |= ReasmSCTP
			base := d.base
			d.base = foreignBase
			d.classifyDatagram(msg, s, t, TransportSCTP)
			l.Reassembled &^= ReasmSCTP // later chunks of the record stand alone
			l.FirstRecord, l.LastRecord, d.base = first, last, base
		}
	}
}

type sctpKey struct {
	src, dst netip.AddrPort
	stream   uint16
}

type sctpMessage struct {
	rec  int // record number of the beginning fragment (Layers.FirstRecord)
	buf  []byte
	next uint32 // TSN expected next
	seen time.Time
}

// sctpReassembler rebuilds user messages split over DATA chunks (RFC 9260
// 6.9). Fragments must arrive in TSN order; anything else drops the
// message (counted), which is enough for captures of one association.
type sctpReassembler struct {
	m   map[sctpKey]*sctpMessage
	out []byte
}

func (r *sctpReassembler) init() { r.m = make(map[sctpKey]*sctpMessage) }

func (r *sctpReassembler) add(d *Decoder, k sctpKey, tsn uint32, begin, end bool, user []byte) ([]byte, bool) {
	m := r.m[k]
	if begin {
		if m == nil {
			if len(r.m) >= maxSCTPPending {
				d.stats.SCTPDropped++
				return nil, false
			}
			m = &sctpMessage{}
			r.m[k] = m
		} else if len(m.buf) > 0 {
			d.stats.SCTPDropped++ // a new message began before the last ended
		}
		m.buf = append(m.buf[:0], user...)
		m.rec = d.ev.Packet.Number
		m.next = tsn + 1
		m.seen = d.now
		return nil, false
	}
	if m == nil || len(m.buf) == 0 || tsn != m.next || len(m.buf)+len(user) > maxSCTPMessage {
		d.stats.SCTPDropped++
		if m != nil {
			m.buf = m.buf[:0]
		}
		return nil, false
	}
	m.buf = append(m.buf, user...)
	m.next++
	m.seen = d.now
	if !end {
		return nil, false
	}
	r.out = append(r.out[:0], m.buf...)
	l := &d.ev.Layers
	if l.FirstRecord == 0 || m.rec < l.FirstRecord { // the datagram may be a reassembled one too
		l.FirstRecord = m.rec
	}
	l.LastRecord = d.ev.Packet.Number
	delete(r.m, k)
	return r.out, true
}

func (r *sctpReassembler) expire(before time.Time) {
	for k, m := range r.m {
		if m.seen.Before(before) {
			delete(r.m, k)
		}
	}
}
