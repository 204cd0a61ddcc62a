package pcap

import (
	"fmt"
	"io"
	"time"
)

// Classic pcap, draft-ietf-opsawg-pcap section 4 (file header) and
// section 5 (packet record).
//
//	File header, 24 bytes, in the writer's byte order:
//	 0 +-------------------------------------------+
//	   | magic: a1b2c3d4 (µs) or a1b23c4d (ns)      |
//	 4 | major version (2)   | minor version (4)    |
//	 8 | reserved1 (thiszone, ignored)              |
//	12 | reserved2 (sigfigs, ignored)               |
//	16 | snaplen                                    |
//	20 | FCS len(4) | F(1) | reserved | link type(16)|
//	24 +-------------------------------------------+
//
//	Record header, 16 bytes, then incl_len bytes of data:
//	 0 ts seconds | 4 ts µs or ns | 8 incl_len (captured) | 12 orig_len (wire)
const (
	pcapHeaderLen    = 24
	pcapRecordHdrLen = 16
	magicMicro       = 0xa1b2c3d4
	magicNano        = 0xa1b23c4d
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	linkTypeMask     = 0x0000ffff // LT_LINKTYPE: the type proper
	linkTypeFCSFlag  = 0x04000000 // F bit: the FCS length field is valid
	linkTypeFCSShift = 28         // FCS length, in 16-bit words
	defaultPcapSnap  = MaxRecordLength
	nanosPerMicro    = 1000
	ticksMicro       = 1_000_000
	ticksNano        = 1_000_000_000
)

func isPcapMagic(b []byte) bool {
	m := order32(false, b)
	switch m {
	case magicMicro, magicNano:
		return true
	}
	m = order32(true, b)
	return m == magicMicro || m == magicNano
}

func (r *Reader) readPcapHeader() error {
	h := r.hdr[:pcapHeaderLen]
	if err := r.read(h); err != nil {
		if err == io.EOF { // cannot happen after Peek saw 4 bytes; stay wrapped anyway
			err = ErrTruncated
		}
		return r.headerErr(0, err)
	}
	r.format.Kind = FormatPcap
	switch order32(false, h) {
	case magicMicro:
	case magicNano:
		r.format.Nanosecond = true
	default:
		r.big = true
		r.format.BigEndian = true
		r.format.Nanosecond = order32(true, h) == magicNano
	}
	major, minor := r.u16(h[4:]), r.u16(h[6:])
	if major != pcapVersionMajor {
		return r.headerErr(4, fmt.Errorf("%w: unsupported pcap version %d.%d", ErrBadHeader, major, minor))
	}
	lt := r.u32(h[20:])
	iface := Interface{
		LinkType:       LinkType(lt & linkTypeMask),
		Snaplen:        int(r.u32(h[16:])),
		TicksPerSecond: ticksMicro,
		BigEndian:      r.big,
	}
	if r.format.Nanosecond {
		iface.TicksPerSecond = ticksNano
	}
	if lt&linkTypeFCSFlag != 0 {
		iface.FCSLength = int(lt>>linkTypeFCSShift) * 2
	}
	r.ifaces = append(r.ifaces, iface)
	r.stats.Sections = 1
	return nil
}

// failP is fail for a read into *p, which it zeroes.
func (r *Reader) failP(p *Packet, off int64, err error) error {
	*p = Packet{}
	return r.fail(off, err)
}

// nextPcap reads one classic record into *p. A captured length beyond the snaplen
// is only an oddity, because tcpdump and Wireshark read such files (some
// writers never truncate); beyond MaxRecordLength it is damage, since the
// header is then more likely garbage than a packet, and it bounds memory.
func (r *Reader) nextPcap(p *Packet) ([]byte, error) {
	off := r.off
	h, err := r.take(pcapRecordHdrLen)
	if err != nil {
		if err == io.EOF {
			r.done = true
			*p = Packet{}
			return nil, err
		}
		return nil, r.failP(p, off, err)
	}
	// Everything is read out of h before the data is taken: that take
	// may move the block h aliases.
	sec, frac := int64(r.u32(h[0:])), int64(r.u32(h[4:]))
	caplen, wirelen := r.u32(h[8:]), r.u32(h[12:])
	if caplen > MaxRecordLength {
		return nil, r.failP(p, off, fmt.Errorf("%w: captured length %d exceeds the %d-byte limit", ErrBadRecord, caplen, MaxRecordLength))
	}
	data, err := r.take(int(caplen))
	if err != nil {
		if err == io.EOF {
			err = fmt.Errorf("%w: record data missing (%d bytes)", ErrTruncated, caplen)
		}
		return nil, r.failP(p, off, err)
	}
	if !r.format.Nanosecond {
		frac *= nanosPerMicro
	}
	iface := &r.ifaces[0]
	// Field by field into *p: a composite literal is built aside and
	// copied.
	p.Timestamp = time.Unix(sec, frac).UTC()
	p.CaptureLength, p.Length = int(caplen), int(wirelen)
	p.InterfaceIndex, p.LinkType, p.Offset = 0, iface.LinkType, off
	r.account(p, iface.Snaplen)
	return data, nil
}
