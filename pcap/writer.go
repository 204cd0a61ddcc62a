package pcap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

const (
	writeBufferSize = 64 << 10
	maxPcapSeconds  = 1<<32 - 1 // ts_sec is an unsigned 32-bit field (year 2106)
)

// byteOrder is what both writers need from encoding/binary's orders.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// WriterOptions configures a classic pcap Writer. The zero value writes
// little-endian, microsecond timestamps, snaplen MaxRecordLength and link
// type 0 (NULL): set LinkType.
type WriterOptions struct {
	LinkType   LinkType // written as is
	Snaplen    int      // records are cut to this; 0 means MaxRecordLength
	Nanosecond bool     // a1b23c4d magic and nanosecond timestamps
	BigEndian  bool     // big-endian header and records (tests, old SPARC tools)
}

// Writer writes a classic pcap file that tshark and tcpdump read back
// unchanged. It buffers: call Flush before closing the underlying writer.
type Writer struct {
	bw      *bufio.Writer
	order   byteOrder
	nano    bool
	snaplen int
	hdr     [pcapRecordHdrLen]byte
}

// NewWriter writes the file header to w.
func NewWriter(w io.Writer, o WriterOptions) (*Writer, error) {
	if o.Snaplen <= 0 || o.Snaplen > MaxRecordLength {
		o.Snaplen = defaultPcapSnap
	}
	wr := &Writer{bw: bufio.NewWriterSize(w, writeBufferSize), order: binary.LittleEndian, nano: o.Nanosecond, snaplen: o.Snaplen}
	if o.BigEndian {
		wr.order = binary.BigEndian
	}
	var h [pcapHeaderLen]byte
	magic := uint32(magicMicro)
	if o.Nanosecond {
		magic = magicNano
	}
	wr.order.PutUint32(h[0:], magic)
	wr.order.PutUint16(h[4:], pcapVersionMajor)
	wr.order.PutUint16(h[6:], pcapVersionMinor)
	wr.order.PutUint32(h[16:], uint32(o.Snaplen))
	wr.order.PutUint32(h[20:], uint32(o.LinkType))
	if _, err := wr.bw.Write(h[:]); err != nil {
		return nil, err
	}
	return wr, nil
}

// WritePacket writes one record: data cut to the snaplen, p.Timestamp
// (truncated to microseconds unless Nanosecond) and p.Length as the
// original length (len(data) when p.Length is 0). A zero Timestamp is
// written as the epoch. It does not allocate.
func (w *Writer) WritePacket(p Packet, data []byte) error {
	sec, frac, err := splitTime(p.Timestamp, maxPcapSeconds)
	if err != nil {
		return err
	}
	if !w.nano {
		frac /= nanosPerMicro
	}
	caplen := min(len(data), w.snaplen)
	wire := p.Length
	if wire == 0 {
		wire = len(data)
	}
	w.order.PutUint32(w.hdr[0:], uint32(sec))
	w.order.PutUint32(w.hdr[4:], uint32(frac))
	w.order.PutUint32(w.hdr[8:], uint32(caplen))
	w.order.PutUint32(w.hdr[12:], uint32(wire))
	if _, err := w.bw.Write(w.hdr[:]); err != nil {
		return err
	}
	_, err = w.bw.Write(data[:caplen])
	return err
}

// Flush writes buffered records to the underlying writer.
func (w *Writer) Flush() error { return w.bw.Flush() }

// splitTime returns t as whole seconds since the epoch and nanoseconds,
// refusing times before 1970 or after maxSec seconds. The zero Time
// (a pcapng SPB has none) becomes the epoch.
func splitTime(t time.Time, maxSec int64) (sec, nsec int64, err error) {
	if t.IsZero() {
		return 0, 0, nil
	}
	sec = t.Unix()
	if sec < 0 || sec > maxSec {
		return 0, 0, fmt.Errorf("%w: %s", ErrTimeRange, t.UTC().Format(time.RFC3339Nano))
	}
	return sec, int64(t.Nanosecond()), nil
}
