package pcap

import (
	"errors"
	"fmt"
	"io"
)

// ReadRecordAt re-reads the data of one record from an uncompressed capture
// file, so a caller can "save this call" by remembering Packets during a
// pass and fetching only their bytes afterwards. f is the Reader's Format,
// p a Packet the Reader returned: p.Offset locates the record header or
// block, and the captured length found there must equal p.CaptureLength
// (which catches a different file). The data is read into buf, grown when
// too small; the result aliases buf.
//
// Only seekable, uncompressed files can be re-read: for a gzip source
// (f.Compressed) offsets count decompressed bytes, so ReadRecordAt returns
// ErrNotSeekable; stdin is a pipe and its ReadAt fails. The byte order of
// a pcapng record comes from its own block type, so files whose sections
// differ in byte order work.
func ReadRecordAt(ra io.ReaderAt, f Format, p Packet, buf []byte) ([]byte, error) {
	name := "capture"
	if n, ok := ra.(interface{ Name() string }); ok {
		name = n.Name()
	}
	fail := func(err error) ([]byte, error) {
		return nil, &FormatError{File: name, Packet: p.Number, Offset: p.Offset, Err: err}
	}
	if f.Compressed {
		return fail(ErrNotSeekable)
	}
	var hdr [28]byte
	var dataOff int64
	var caplen int
	switch f.Kind {
	case FormatPcap:
		if err := readAt(ra, hdr[:pcapRecordHdrLen], p.Offset); err != nil {
			return fail(err)
		}
		caplen, dataOff = int(order32(f.BigEndian, hdr[8:])), p.Offset+pcapRecordHdrLen
	case FormatPcapng:
		if err := readAt(ra, hdr[:8], p.Offset); err != nil {
			return fail(err)
		}
		// Packet block types are small numbers, so the zero bytes show
		// the byte order of the block's section.
		big := hdr[0] == 0
		typ, blen := order32(big, hdr[0:]), int(order32(big, hdr[4:]))
		switch typ {
		case blockEPB, blockPB:
			if err := readAt(ra, hdr[8:28], p.Offset+8); err != nil {
				return fail(err)
			}
			caplen, dataOff = int(order32(big, hdr[20:])), p.Offset+28
		case blockSPB:
			// An SPB's captured length depends on the snaplen of
			// interface 0; trust the Packet within the block's room.
			caplen, dataOff = p.CaptureLength, p.Offset+12
			if caplen > blen-16 {
				return fail(fmt.Errorf("%w: captured length %d exceeds the simple packet block (%d bytes)", ErrBadBlock, caplen, blen))
			}
		default:
			return fail(fmt.Errorf("%w: block type 0x%08x at the offset is not a packet block", ErrBadBlock, typ))
		}
	default:
		return fail(fmt.Errorf("%w: format %v", ErrUnknownFormat, f.Kind))
	}
	if caplen != p.CaptureLength || caplen > MaxRecordLength {
		return fail(fmt.Errorf("%w: captured length %d at the offset, the packet says %d", ErrBadRecord, caplen, p.CaptureLength))
	}
	if cap(buf) < caplen {
		buf = make([]byte, caplen)
	}
	buf = buf[:caplen]
	if err := readAt(ra, buf, dataOff); err != nil {
		return fail(err)
	}
	return buf, nil
}

// readAt fills b from off; a short read is ErrTruncated.
func readAt(ra io.ReaderAt, b []byte, off int64) error {
	n, err := ra.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: needed %d bytes at offset %d, got %d", ErrTruncated, len(b), off, n)
	}
	return err
}
