package pcap

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"time"
)

const (
	shbUserAppl   = 4 // shb_userappl option (4.1)
	tsresolNano   = 9 // if_tsresol value: 10^-9 s, matching time.Time
	maxNgSeconds  = math.MaxUint64/ticksNano - 1
	noSectionSize = 1<<64 - 1 // section length -1: not specified (4.1)
)

// NgWriterOptions configures an NgWriter. The zero value writes a
// little-endian section without options.
type NgWriterOptions struct {
	Application string // shb_userappl, omitted when empty
	BigEndian   bool
}

// NgWriter writes a pcapng file with one section and any number of
// interfaces, each with its own link type, all with nanosecond timestamps
// (if_tsresol 9). It buffers: call Flush before closing the underlying
// writer.
type NgWriter struct {
	bw       *bufio.Writer
	order    byteOrder
	snaplens []int
	hdr      [28]byte
	tail     [8]byte // a field, not a local: passed to Write it would escape
}

// NewNgWriter writes the Section Header Block to w.
func NewNgWriter(w io.Writer, o NgWriterOptions) (*NgWriter, error) {
	nw := &NgWriter{bw: bufio.NewWriterSize(w, writeBufferSize), order: binary.LittleEndian}
	if o.BigEndian {
		nw.order = binary.BigEndian
	}
	var opts []byte
	if o.Application != "" {
		opts = nw.appendOption(opts, shbUserAppl, []byte(o.Application))
		opts = nw.appendOption(opts, optEndOfOpt, nil)
	}
	blen := shbMinLen + len(opts)
	b := make([]byte, 0, blen)
	b = nw.order.AppendUint32(b, blockSHB)
	b = nw.order.AppendUint32(b, uint32(blen))
	b = nw.order.AppendUint32(b, byteOrderMagic)
	b = nw.order.AppendUint16(b, ngVersionMajor)
	b = nw.order.AppendUint16(b, 0)
	b = nw.order.AppendUint64(b, noSectionSize)
	b = append(b, opts...)
	b = nw.order.AppendUint32(b, uint32(blen))
	if _, err := nw.bw.Write(b); err != nil {
		return nil, err
	}
	return nw, nil
}

// AddInterface writes an Interface Description Block and returns its id,
// which Packet.InterfaceIndex names in WritePacket. snaplen 0 means
// MaxRecordLength.
func (w *NgWriter) AddInterface(lt LinkType, snaplen int) (int, error) {
	return w.AddNamedInterface(lt, snaplen, "")
}

// AddNamedInterface is AddInterface with an if_name option ("eth0"),
// omitted when name is empty.
func (w *NgWriter) AddNamedInterface(lt LinkType, snaplen int, name string) (int, error) {
	if snaplen <= 0 || snaplen > MaxRecordLength {
		snaplen = MaxRecordLength
	}
	var opts []byte
	if name != "" {
		opts = w.appendOption(opts, optIfName, []byte(name))
	}
	opts = w.appendOption(opts, optIfTSResol, []byte{tsresolNano})
	opts = w.appendOption(opts, optEndOfOpt, nil)
	blen := blockFrameLen + idbFixedLen + len(opts)
	b := make([]byte, 0, blen)
	b = w.order.AppendUint32(b, blockIDB)
	b = w.order.AppendUint32(b, uint32(blen))
	b = w.order.AppendUint16(b, uint16(lt))
	b = w.order.AppendUint16(b, 0)
	b = w.order.AppendUint32(b, uint32(snaplen))
	b = append(b, opts...)
	b = w.order.AppendUint32(b, uint32(blen))
	if _, err := w.bw.Write(b); err != nil {
		return 0, err
	}
	w.snaplens = append(w.snaplens, snaplen)
	return len(w.snaplens) - 1, nil
}

// WriteSecrets writes a Decryption Secrets Block (4.7): the secrets of
// type typ (SecretsTLSKeyLog: NSS key log lines) that decrypt packets
// after it. Readers such as Wireshark want it before those packets.
//
//	secrets type (4), secrets length (4), secrets data padded to 4, no options
func (w *NgWriter) WriteSecrets(typ uint32, data []byte) error {
	if len(data) > maxBlockLength-blockFrameLen-dsbFixedLen-3 {
		return fmt.Errorf("%w: %d bytes of secrets do not fit a block", ErrBadBlock, len(data))
	}
	pad := (4 - len(data)%4) % 4
	blen := blockFrameLen + dsbFixedLen + len(data) + pad
	b := make([]byte, 0, blen)
	b = w.order.AppendUint32(b, blockDSB)
	b = w.order.AppendUint32(b, uint32(blen))
	b = w.order.AppendUint32(b, typ)
	b = w.order.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	b = append(b, make([]byte, pad)...)
	b = w.order.AppendUint32(b, uint32(blen))
	_, err := w.bw.Write(b)
	return err
}

// WritePacket writes an Enhanced Packet Block on interface
// p.InterfaceIndex: data cut to that interface's snaplen, p.Length as the
// original length (len(data) when 0). It does not allocate.
func (w *NgWriter) WritePacket(p Packet, data []byte) error {
	if p.InterfaceIndex < 0 || p.InterfaceIndex >= len(w.snaplens) {
		return fmt.Errorf("%w: %d (have %d)", ErrNoInterface, p.InterfaceIndex, len(w.snaplens))
	}
	sec, nsec, err := splitTime(p.Timestamp, maxNgSeconds)
	if err != nil {
		return err
	}
	ts := uint64(sec)*ticksNano + uint64(nsec)
	caplen := min(len(data), w.snaplens[p.InterfaceIndex])
	wire := p.Length
	if wire == 0 {
		wire = len(data)
	}
	pad := (4 - caplen%4) % 4
	blen := uint32(blockFrameLen + epbFixedLen + caplen + pad)
	h := w.hdr[:]
	w.order.PutUint32(h[0:], blockEPB)
	w.order.PutUint32(h[4:], blen)
	w.order.PutUint32(h[8:], uint32(p.InterfaceIndex))
	w.order.PutUint32(h[12:], uint32(ts>>32))
	w.order.PutUint32(h[16:], uint32(ts))
	w.order.PutUint32(h[20:], uint32(caplen))
	w.order.PutUint32(h[24:], uint32(wire))
	if _, err := w.bw.Write(h); err != nil {
		return err
	}
	if _, err := w.bw.Write(data[:caplen]); err != nil {
		return err
	}
	tail := w.tail[:pad+4] // up to 3 zero padding bytes, then the trailing length
	clear(tail)
	w.order.PutUint32(tail[pad:], blen)
	_, err = w.bw.Write(tail)
	return err
}

// Flush writes buffered blocks to the underlying writer.
func (w *NgWriter) Flush() error { return w.bw.Flush() }

// InterfaceStats are the counters of an Interface Statistics Block
// (pcapng 4.6). A counter is written only when its Has flag is set: an
// absent counter means "unknown", which a zero would misstate.
type InterfaceStats struct {
	Start, End time.Time // isb_starttime / isb_endtime; zero: omitted
	Received   uint64    // isb_ifrecv: packets the interface received
	IfDrop     uint64    // isb_ifdrop: dropped by the interface/kernel (no buffer)
	OSDrop     uint64    // isb_osdrop: dropped by the capture software (our queues, the recorder)
	Delivered  uint64    // isb_usrdeliv: packets delivered to the user (written)

	HasReceived, HasIfDrop, HasOSDrop, HasDelivered bool
}

// isb option codes (pcapng 4.6).
const (
	optISBStartTime = 2
	optISBEndTime   = 3
	optISBIfRecv    = 4
	optISBIfDrop    = 5
	optISBOSDrop    = 7
	optISBUsrDeliv  = 8
	blockISB        = 0x00000005
	isbFixedLen     = 12 // interface id, timestamp high, timestamp low
)

// WriteInterfaceStats writes an Interface Statistics Block for
// interface iface, stamped t (the time the counters were read).
func (w *NgWriter) WriteInterfaceStats(iface int, t time.Time, s InterfaceStats) error {
	if iface < 0 || iface >= len(w.snaplens) {
		return fmt.Errorf("%w: %d (have %d)", ErrNoInterface, iface, len(w.snaplens))
	}
	ticks := func(t time.Time) ([]byte, error) {
		sec, nsec, err := splitTime(t, maxNgSeconds)
		if err != nil {
			return nil, err
		}
		ts := uint64(sec)*ticksNano + uint64(nsec)
		var b [8]byte
		w.order.PutUint32(b[0:], uint32(ts>>32))
		w.order.PutUint32(b[4:], uint32(ts))
		return b[:], nil
	}
	stamp, err := ticks(t)
	if err != nil {
		return err
	}
	var opts []byte
	for _, o := range []struct {
		code uint16
		t    time.Time
	}{{optISBStartTime, s.Start}, {optISBEndTime, s.End}} {
		if o.t.IsZero() {
			continue
		}
		v, err := ticks(o.t)
		if err != nil {
			return err
		}
		opts = w.appendOption(opts, o.code, v)
	}
	for _, o := range []struct {
		code uint16
		v    uint64
		has  bool
	}{{optISBIfRecv, s.Received, s.HasReceived}, {optISBIfDrop, s.IfDrop, s.HasIfDrop}, {optISBOSDrop, s.OSDrop, s.HasOSDrop}, {optISBUsrDeliv, s.Delivered, s.HasDelivered}} {
		if o.has {
			opts = w.appendOption(opts, o.code, w.order.AppendUint64(nil, o.v))
		}
	}
	if len(opts) > 0 {
		opts = w.appendOption(opts, optEndOfOpt, nil)
	}
	blen := blockFrameLen + isbFixedLen + len(opts)
	b := make([]byte, 0, blen)
	b = w.order.AppendUint32(b, blockISB)
	b = w.order.AppendUint32(b, uint32(blen))
	b = w.order.AppendUint32(b, uint32(iface))
	b = append(b, stamp...)
	b = append(b, opts...)
	b = w.order.AppendUint32(b, uint32(blen))
	_, err = w.bw.Write(b)
	return err
}

func (w *NgWriter) appendOption(b []byte, code uint16, v []byte) []byte {
	b = w.order.AppendUint16(b, code)
	b = w.order.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
