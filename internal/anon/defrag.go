package anon

import (
	"encoding/binary"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/fixup"
)

// IPv6 extension headers that may precede the Fragment header (RFC 8200
// 4.1: the unfragmentable part).
const (
	ip6HopByHop = 0
	ip6Routing  = 43
	ip6Fragment = 44
	ip6DestOpts = 60
	ip6AH       = 51
	ipProtoUDP  = 17
)

// defragmented writes a datagram the decoder rebuilt from IP fragments
// as one unfragmented datagram in its last fragment's record: the
// record's headers up to the fragmented IP header (addresses rewritten),
// that header with its fragment fields gone (IPv4 MF and offset
// cleared; the IPv6 Fragment header removed), a UDP header with the
// datagram's ports, and the rewritten payload; lengths of every header,
// tunnels included, and checksums fixed by capture/fixup. Re-fragmenting
// to the original sizes would keep the capture's shape but needs the
// path MTU the sender saw; a whole datagram is what a receiver's stack
// hands up, and every analyser reads it (the summary says so).
func (d *capDriver) defragmented(e *pendingEvent) ([]byte, bool) {
	l := e.layers
	l3 := int(l.InnerL3())
	if l.ChainFull() || l.L4Proto() != ipProtoUDP || l3 < 0 || l3 >= len(d.rec) {
		d.st.DroppedReassembled++
		return nil, false
	}
	// the UDP entry of the chain: inside the reassembled bytes
	udp := -1
	for i := 0; i < l.Len(); i++ {
		if h := l.Header(i); h.Proto == capture.ProtoUDP && int(h.Off) < 0 {
			udp = i
		}
	}
	if udp < 0 {
		d.st.DroppedReassembled++
		return nil, false
	}
	d.headers(&l)
	rec := d.rec
	var (
		out        []byte
		cur, empty int // the inner IP length field now, and for an empty UDP datagram
		lenOff     int
	)
	switch rec[l3] >> 4 {
	case 4:
		if l3+20 > len(rec) {
			d.st.DroppedReassembled++
			return nil, false
		}
		ihl := int(rec[l3]&0x0f) * 4
		if ihl < 20 || l3+ihl > len(rec) || rec[l3+9] != ipProtoUDP {
			d.st.DroppedReassembled++
			return nil, false
		}
		out = append(make([]byte, 0, l3+ihl+8+len(e.whole)+64), rec[:l3+ihl]...)
		out[l3+6] &= 0x40 // keep DF; clear MF and the offset
		out[l3+7] = 0
		lenOff = l3 + 2
		cur, empty = int(binary.BigEndian.Uint16(rec[lenOff:])), ihl+8
	case 6:
		if l3+40 > len(rec) {
			d.st.DroppedReassembled++
			return nil, false
		}
		out = append(make([]byte, 0, l3+48+len(e.whole)+64), rec[:l3+40]...)
		lenOff = l3 + 4
		cur = int(binary.BigEndian.Uint16(rec[lenOff:]))
		nhAt := l3 + 6 // where, in out, the next-header byte to patch is
		nh, off := rec[l3+6], l3+40
		for nh != ip6Fragment {
			var n int
			switch nh {
			case ip6HopByHop, ip6Routing, ip6DestOpts:
				if off+2 > len(rec) {
					d.st.DroppedReassembled++
					return nil, false
				}
				n = (int(rec[off+1]) + 1) * 8
			case ip6AH:
				if off+2 > len(rec) {
					d.st.DroppedReassembled++
					return nil, false
				}
				n = (int(rec[off+1]) + 2) * 4
			default: // no Fragment header before the payload
				d.st.DroppedReassembled++
				return nil, false
			}
			if off+n > len(rec) {
				d.st.DroppedReassembled++
				return nil, false
			}
			nhAt = len(out)
			out = append(out, rec[off:off+n]...)
			nh, off = rec[off], off+n
		}
		if off+8 > len(rec) || rec[off] != ipProtoUDP {
			// extension headers after the Fragment header would be in the
			// reassembled bytes, which hold only the UDP payload
			d.st.DroppedReassembled++
			return nil, false
		}
		out[nhAt] = ipProtoUDP
		empty = len(out) - (l3 + 40) + 8
	default:
		d.st.DroppedReassembled++
		return nil, false
	}
	// An empty UDP datagram first: the header's length field is set so
	// that Fix, which grows every length of the chain by the same delta,
	// leaves it at 8 while the IP lengths (inner and outer) shrink from
	// the last fragment's size to the empty datagram's.
	delta := empty - cur
	u := len(out)
	out = binary.BigEndian.AppendUint16(out, e.src.Port())
	out = binary.BigEndian.AppendUint16(out, e.dst.Port())
	out = binary.BigEndian.AppendUint16(out, uint16(8-delta))
	out = append(out, 0xff, 0xff) // non-zero: Fix computes the checksum
	l.Offs[udp] = int32(u)
	l.Payload = int32(len(out))
	l.Reassembled, l.FirstRecord, l.LastRecord = 0, 0, 0
	if err := fixup.Fix(out, &l, delta); err != nil {
		d.st.DroppedFixup++
		return nil, false
	}
	var n CaptureStats
	nb, ok := d.payload(e, e.whole, &n)
	if !ok {
		return nil, false
	}
	res, err := fixup.Replace(make([]byte, 0, len(out)+len(nb)), out, &l, 0, nb)
	if err != nil {
		d.st.DroppedFixup++
		return nil, false
	}
	d.count(&n)
	d.st.Defragmented++
	return res, true
}
