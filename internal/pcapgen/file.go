package pcapgen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Epoch is the timestamp of the first packet of every scenario.
var Epoch = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

// Snaplen written in every file header.
const Snaplen = 65535

// Record is one captured frame.
type Record struct {
	Time  time.Time
	Data  []byte
	Iface int // pcapng interface index; ignored by classic pcap
}

// WritePcap writes a classic little-endian pcap via pcapgo, with
// microsecond or (nanos) nanosecond timestamps.
func WritePcap(w io.Writer, link layers.LinkType, nanos bool, recs []Record) error {
	pw := pcapgo.NewWriter(w)
	if nanos {
		pw = pcapgo.NewWriterNanos(w)
	}
	if err := pw.WriteFileHeader(Snaplen, link); err != nil {
		return err
	}
	for i, r := range recs {
		ci := gopacket.CaptureInfo{Timestamp: r.Time, CaptureLength: len(r.Data), Length: len(r.Data)}
		if err := pw.WritePacket(ci, r.Data); err != nil {
			return fmt.Errorf("pcapgen: record %d: %w", i, err)
		}
	}
	return nil
}

// Classic pcap magic numbers (pcap file format, draft-ietf-opsawg-pcap).
const (
	pcapMagicMicro = 0xa1b2c3d4
	pcapMagicNano  = 0xa1b23c4d
)

// WritePcapBigEndian writes a classic pcap in big-endian byte order, as a
// SPARC or PowerPC host would; pcapgo only writes little-endian.
func WritePcapBigEndian(w io.Writer, link layers.LinkType, recs []Record) error {
	be := binary.BigEndian
	h := make([]byte, 24)
	be.PutUint32(h[0:], pcapMagicMicro)
	be.PutUint16(h[4:], 2)
	be.PutUint16(h[6:], 4)
	be.PutUint32(h[16:], Snaplen)
	be.PutUint32(h[20:], uint32(link))
	var buf bytes.Buffer
	buf.Write(h)
	for _, r := range recs {
		rh := make([]byte, 16)
		be.PutUint32(rh[0:], uint32(r.Time.Unix()))
		be.PutUint32(rh[4:], uint32(r.Time.Nanosecond()/1000))
		be.PutUint32(rh[8:], uint32(len(r.Data)))
		be.PutUint32(rh[12:], uint32(len(r.Data)))
		buf.Write(rh)
		buf.Write(r.Data)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// pcapng block types and option codes (draft-ietf-opsawg-pcapng).
const (
	ngSHB           = 0x0a0d0d0a
	ngIDB           = 0x00000001
	ngSPB           = 0x00000003
	ngEPB           = 0x00000006
	ngByteOrder     = 0x1a2b3c4d
	ngOptEnd        = 0
	ngOptComment    = 1
	ngOptShbUserApp = 4
	ngOptIfName     = 2
	ngOptIfTsresol  = 9
)

// NgInterface describes one pcapng Interface Description Block.
type NgInterface struct {
	Link layers.LinkType
	Name string
	// TSResol is the raw if_tsresol byte: 6 = µs (also the default when
	// the option is absent), 9 = ns, 0x80|n = 2^-n seconds. 0 omits it.
	TSResol byte
}

// NgSection is one pcapng section: its interfaces and records. A record
// with SPB set is written as a Simple Packet Block (no timestamp,
// interface 0 implied).
type NgSection struct {
	Interfaces []NgInterface
	Records    []Record
	SPB        map[int]bool // record index -> write as SPB
}

func ngPad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func ngBlock(typ uint32, body []byte) []byte {
	le := binary.LittleEndian
	body = ngPad(body)
	n := uint32(12 + len(body))
	b := le.AppendUint32(nil, typ)
	b = le.AppendUint32(b, n)
	b = append(b, body...)
	return le.AppendUint32(b, n)
}

func ngOpt(b []byte, code uint16, v []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(v)))
	return ngPad(append(b, v...))
}

// ticks converts t to units of the interface's resolution.
func ticks(t time.Time, resol byte) uint64 {
	ns := uint64(t.UnixNano())
	switch {
	case resol == 0 || resol == 6:
		return ns / 1000
	case resol&0x80 != 0:
		n := uint(resol & 0x7f)
		sec := ns / 1e9
		frac := ns % 1e9
		return sec<<n + frac<<n/1e9
	default:
		div := uint64(1)
		for i := byte(0); i < 9-resol; i++ {
			div *= 10
		}
		return ns / div
	}
}

// WritePcapng writes little-endian pcapng sections by hand: pcapgo's
// NgWriter cannot write SPBs, several sections, or an arbitrary
// if_tsresol.
func WritePcapng(w io.Writer, sections []NgSection) error {
	le := binary.LittleEndian
	var out []byte
	for _, s := range sections {
		shb := le.AppendUint32(nil, ngByteOrder)
		shb = le.AppendUint16(shb, 1)
		shb = le.AppendUint16(shb, 0)
		shb = le.AppendUint64(shb, ^uint64(0)) // section length unknown
		shb = ngOpt(shb, ngOptShbUserApp, []byte("voiptool pcapgen"))
		shb = ngOpt(shb, ngOptEnd, nil)
		out = append(out, ngBlock(ngSHB, shb)...)
		for _, ifc := range s.Interfaces {
			idb := le.AppendUint16(nil, uint16(ifc.Link))
			idb = le.AppendUint16(idb, 0)
			idb = le.AppendUint32(idb, Snaplen)
			if ifc.Name != "" {
				idb = ngOpt(idb, ngOptIfName, []byte(ifc.Name))
			}
			if ifc.TSResol != 0 {
				idb = ngOpt(idb, ngOptIfTsresol, []byte{ifc.TSResol})
			}
			idb = ngOpt(idb, ngOptEnd, nil)
			out = append(out, ngBlock(ngIDB, idb)...)
		}
		for i, r := range s.Records {
			if s.SPB[i] {
				spb := le.AppendUint32(nil, uint32(len(r.Data)))
				out = append(out, ngBlock(ngSPB, append(spb, r.Data...))...)
				continue
			}
			if r.Iface < 0 || r.Iface >= len(s.Interfaces) {
				return fmt.Errorf("%w: record %d names interface %d", ErrBadArgument, i, r.Iface)
			}
			ts := ticks(r.Time, s.Interfaces[r.Iface].TSResol)
			epb := le.AppendUint32(nil, uint32(r.Iface))
			epb = le.AppendUint32(epb, uint32(ts>>32))
			epb = le.AppendUint32(epb, uint32(ts))
			epb = le.AppendUint32(epb, uint32(len(r.Data)))
			epb = le.AppendUint32(epb, uint32(len(r.Data)))
			epb = ngPad(append(epb, r.Data...))
			out = append(out, ngBlock(ngEPB, epb)...)
		}
	}
	_, err := w.Write(out)
	return err
}

// Gzip compresses b deterministically: no name, zero mtime, fixed level.
func Gzip(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
