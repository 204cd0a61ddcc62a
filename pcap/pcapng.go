package pcap

import (
	"bytes"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// pcapng, draft-ietf-opsawg-pcapng. Every block has the same frame
// (section 3.1), in the byte order of its section:
//
//	 0 +---------------------------------------+
//	   | block type                            |
//	 4 | block total length (multiple of 4)    |
//	 8 | body ...                              |
//	   | block total length (again)            |
//	   +---------------------------------------+
//
//	SHB 0x0A0D0D0A (4.1): byte-order magic 1A2B3C4D, major 1, minor, section length (8), options
//	IDB 1 (4.2):          link type (2), reserved (2), snaplen (4), options
//	EPB 6 (4.3):          interface id (4), ts high (4), ts low (4), captured len, original len, data, options
//	SPB 3 (4.4):          original len (4), data (captured = min(original, snaplen, room))
//	PB  2 (obsolete):     interface id (2), drops (2), ts high, ts low, captured len, original len, data, options
//	DSB 10 (4.7):         secrets type (4), secrets length (4), secrets data (padded to 4), options
//
// Options (3.5): code (2), length (2), value padded to 4 bytes; code 0 ends them.
const (
	blockSHB = 0x0a0d0d0a // palindromic, so it reads the same in both byte orders
	blockIDB = 0x00000001
	blockPB  = 0x00000002
	blockSPB = 0x00000003
	blockEPB = 0x00000006
	blockDSB = 0x0000000a

	dsbFixedLen = 8
	// maxSecretsBytes bounds the secrets a Reader keeps from Decryption
	// Secrets Blocks; blocks beyond it are counted in SecretsDropped.
	maxSecretsBytes = 16 << 20

	byteOrderMagic = 0x1a2b3c4d
	ngVersionMajor = 1

	blockFrameLen = 12 // type, length, trailing length
	shbMinLen     = 28 // frame + BOM, version, section length
	idbFixedLen   = 8
	epbFixedLen   = 20
	pbFixedLen    = 20
	spbFixedLen   = 4

	optEndOfOpt     = 0
	optIfName       = 2
	optIfDesc       = 3
	optIfTSResol    = 9
	optIfFCSLen     = 13
	optIfTSOffset   = 14
	tsresolBinary   = 0x80 // if_tsresol MSB: negative power of 2, else of 10
	defaultTSResol  = 6    // microseconds when if_tsresol is absent (4.2)
	maxDecimalResol = 19   // 10^19 is the largest power of 10 in a uint64
	maxBinaryResol  = 63
	discardChunk    = 1 << 30 // keep Discard's int argument positive on 32-bit
)

func isPcapngMagic(b []byte) bool { return order32(false, b) == blockSHB }

// readFirstSection reads the SHB at offset 0, then looks ahead to the first
// IDB, and any IDBs right after it, so LinkType and Interfaces are known
// before the first Next (later IDBs appear in Interfaces as they are read).
func (r *Reader) readFirstSection() error {
	r.format.Kind = FormatPcapng
	if err := r.read(r.hdr[:8]); err != nil {
		return r.headerErr(0, err) // cannot be io.EOF: Peek saw 4 bytes
	}
	if err := r.readSHB(); err != nil {
		return r.headerErr(0, err)
	}
	r.format.BigEndian = r.big
	for (len(r.ifaces) == 0 || r.nextIsIDB()) && !r.done {
		// A packet block cannot come back here: every packet block
		// needs an interface and there is none yet, so it is damage.
		if _, _, _, err := r.block(); err != nil {
			if err != io.EOF {
				r.pending = err
			}
			break
		}
	}
	return nil
}

// nextIsIDB peeks at the next block type without consuming it.
func (r *Reader) nextIsIDB() bool {
	b, err := r.peek(4)
	return err == nil && r.u32(b) == blockIDB
}

func (r *Reader) nextPcapng() ([]byte, Packet, error) {
	// Bounded: every block consumes at least 12 bytes or ends reading.
	for {
		data, p, ok, err := r.block()
		if err != nil || ok {
			return data, p, err
		}
	}
}

// block reads one block. ok reports a packet. err is io.EOF at a clean
// end, else the *FormatError recorded by fail.
func (r *Reader) block() (data []byte, p Packet, ok bool, err error) {
	off := r.off
	if err := r.read(r.hdr[:8]); err != nil {
		if err == io.EOF {
			r.done = true
			return nil, Packet{}, false, err
		}
		return nil, Packet{}, false, r.fail(off, err)
	}
	typ := r.u32(r.hdr[0:])
	if typ == blockSHB {
		if err := r.readSHB(); err != nil {
			return nil, Packet{}, false, r.fail(off, err)
		}
		return nil, Packet{}, false, nil
	}
	blen := r.u32(r.hdr[4:])
	if blen < blockFrameLen || blen%4 != 0 {
		return nil, Packet{}, false, r.fail(off, fmt.Errorf("%w: block type 0x%08x: total length %d is below 12 or not a multiple of 4", ErrBadBlock, typ, blen))
	}
	if typ == blockDSB && blen <= maxBlockLength {
		body, err := r.readBody(blen)
		if err != nil {
			return nil, Packet{}, false, r.fail(off, err)
		}
		if err := r.parseDSB(body); err != nil {
			return nil, Packet{}, false, r.fail(off, err)
		}
		r.stats.SkippedBlocks++ // it carries no packet; the secrets are kept
		return nil, Packet{}, false, nil
	}
	switch typ {
	case blockEPB, blockSPB, blockPB, blockIDB:
	default:
		if typ == blockDSB {
			r.stats.SecretsDropped++ // larger than any block the reader buffers
		}
		// NRB, ISB, DSB, custom and unknown blocks: skip by length.
		if err := r.skipBody(blen); err != nil {
			return nil, Packet{}, false, r.fail(off, err)
		}
		r.stats.SkippedBlocks++
		return nil, Packet{}, false, nil
	}
	if blen > maxBlockLength {
		return nil, Packet{}, false, r.fail(off, fmt.Errorf("%w: block type %d: total length %d exceeds the %d-byte limit", ErrBadBlock, typ, blen, maxBlockLength))
	}
	body, err := r.readBody(blen)
	if err != nil {
		return nil, Packet{}, false, r.fail(off, err)
	}
	if typ == blockIDB {
		if err := r.parseIDB(body); err != nil {
			return nil, Packet{}, false, r.fail(off, err)
		}
		return nil, Packet{}, false, nil
	}
	data, p, err = r.parsePacketBlock(typ, body)
	if err != nil {
		return nil, Packet{}, false, r.fail(off, err)
	}
	p.Offset = off
	r.account(&p, r.ifaces[p.InterfaceIndex].Snaplen)
	return data, p, true, nil
}

// readSHB reads a Section Header Block whose first 8 bytes are in r.hdr
// and starts a new section with no interfaces.
func (r *Reader) readSHB() error {
	if err := r.read(r.hdr[8:12]); err != nil {
		return truncatedIfEOF(err, "section header")
	}
	switch order32(true, r.hdr[8:]) {
	case byteOrderMagic:
		r.big = true
	case 0x4d3c2b1a:
		r.big = false
	default:
		return fmt.Errorf("%w: section header byte-order magic % x", ErrBadHeader, r.hdr[8:12])
	}
	blen := r.u32(r.hdr[4:])
	if blen < shbMinLen || blen%4 != 0 || blen > maxBlockLength {
		return fmt.Errorf("%w: section header length %d (want 28..%d, multiple of 4)", ErrBadHeader, blen, maxBlockLength)
	}
	rest := r.grow(int(blen) - 12)
	if err := r.read(rest); err != nil {
		return truncatedIfEOF(err, "section header")
	}
	if t := r.u32(rest[len(rest)-4:]); t != blen {
		return fmt.Errorf("%w: section header trailing length %d, leading %d", ErrBadHeader, t, blen)
	}
	if major, minor := r.u16(rest[0:]), r.u16(rest[2:]); major != ngVersionMajor {
		return fmt.Errorf("%w: unsupported pcapng version %d.%d", ErrBadHeader, major, minor)
	}
	// Section options (shb_hardware, shb_os, shb_userappl) are not used.
	r.secBase = len(r.ifaces)
	r.stats.Sections++
	return nil
}

// readBody reads the rest of a block of total length blen and checks the
// trailing length; the returned body aliases the Reader's block (valid
// until the next read).
func (r *Reader) readBody(blen uint32) ([]byte, error) {
	b, err := r.take(int(blen) - 8)
	if err != nil {
		return nil, truncatedIfEOF(err, "block body")
	}
	if t := r.u32(b[len(b)-4:]); t != blen {
		return nil, fmt.Errorf("%w: trailing length %d, leading %d", ErrBadBlock, t, blen)
	}
	return b[:len(b)-4], nil
}

func (r *Reader) skipBody(blen uint32) error {
	for n := int64(blen) - blockFrameLen; n > 0; n -= discardChunk {
		if err := r.discard(int(min(n, discardChunk))); err != nil {
			return err
		}
	}
	if err := r.read(r.hdr[8:12]); err != nil {
		return truncatedIfEOF(err, "block trailer")
	}
	if t := r.u32(r.hdr[8:]); t != blen {
		return fmt.Errorf("%w: trailing length %d, leading %d", ErrBadBlock, t, blen)
	}
	return nil
}

func truncatedIfEOF(err error, what string) error {
	if err == io.EOF {
		return fmt.Errorf("%w: file ends before the %s", ErrTruncated, what)
	}
	return err
}

// parseIDB appends an interface to the current section. Option lengths are
// checked against the block so a lying length cannot read past it.
func (r *Reader) parseIDB(body []byte) error {
	if len(body) < idbFixedLen {
		return fmt.Errorf("%w: interface description body is %d bytes, want at least %d", ErrBadBlock, len(body), idbFixedLen)
	}
	iface := Interface{
		Section:        r.stats.Sections - 1,
		ID:             len(r.ifaces) - r.secBase,
		LinkType:       LinkType(r.u16(body[0:])),
		Snaplen:        int(r.u32(body[4:])),
		TicksPerSecond: 1_000_000,
		BigEndian:      r.big,
	}
	for o := body[idbFixedLen:]; len(o) > 0; {
		if len(o) < 4 {
			return fmt.Errorf("%w: interface option header cut short (%d bytes left)", ErrBadBlock, len(o))
		}
		code, n := r.u16(o[0:]), int(r.u16(o[2:]))
		if code == optEndOfOpt {
			break
		}
		if 4+n > len(o) {
			return fmt.Errorf("%w: interface option %d length %d runs past the block (%d bytes left)", ErrBadBlock, code, n, len(o)-4)
		}
		v := o[4 : 4+n]
		switch code {
		case optIfName:
			iface.Name = string(v)
		case optIfDesc:
			iface.Description = string(v)
		case optIfTSResol:
			if n != 1 {
				return fmt.Errorf("%w: if_tsresol length %d, want 1", ErrBadBlock, n)
			}
			tps, ok := ticksPerSecond(v[0])
			if !ok {
				return fmt.Errorf("%w: if_tsresol 0x%02x out of range", ErrBadBlock, v[0])
			}
			iface.TicksPerSecond = tps
		case optIfTSOffset:
			if n != 8 {
				return fmt.Errorf("%w: if_tsoffset length %d, want 8", ErrBadBlock, n)
			}
			iface.TSOffset = int64(r.u64(v))
		case optIfFCSLen:
			if n != 1 {
				return fmt.Errorf("%w: if_fcslen length %d, want 1", ErrBadBlock, n)
			}
			iface.FCSLength = int(v[0])
		}
		o = o[min(4+(n+3)&^3, len(o)):]
	}
	r.ifaces = append(r.ifaces, iface)
	return nil
}

// ticksPerSecond decodes if_tsresol: a power of 10, or of 2 with the MSB set.
func ticksPerSecond(v byte) (uint64, bool) {
	if v&tsresolBinary != 0 {
		n := v &^ tsresolBinary
		if n > maxBinaryResol {
			return 0, false
		}
		return 1 << n, true
	}
	if v > maxDecimalResol {
		return 0, false
	}
	t := uint64(1)
	for range v {
		t *= 10
	}
	return t, true
}

// ticksToTime converts a pcapng timestamp to time; the fraction is scaled
// in 128 bits so 2^-n resolutions neither overflow nor lose nanoseconds.
func ticksToTime(ts, perSec uint64, offset int64) time.Time {
	sec, rem := ts/perSec, ts%perSec
	ns := rem
	if perSec != ticksNano {
		hi, lo := bits.Mul64(rem, ticksNano)
		ns, _ = bits.Div64(hi, lo, perSec) // hi < perSec because rem < perSec
	}
	return time.Unix(int64(sec)+offset, int64(ns)).UTC()
}

// parsePacketBlock decodes an EPB, SPB or obsolete PB body; data aliases body.
func (r *Reader) parsePacketBlock(typ uint32, body []byte) ([]byte, Packet, error) {
	var (
		id, caplen, wirelen int
		ts                  uint64
		hasTS               = true
		fixed               int
	)
	switch typ {
	case blockEPB:
		if len(body) < epbFixedLen {
			return nil, Packet{}, fmt.Errorf("%w: enhanced packet body is %d bytes, want at least %d", ErrBadBlock, len(body), epbFixedLen)
		}
		id = int(r.u32(body[0:]))
		ts = uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
		caplen, wirelen, fixed = int(r.u32(body[12:])), int(r.u32(body[16:])), epbFixedLen
	case blockPB:
		if len(body) < pbFixedLen {
			return nil, Packet{}, fmt.Errorf("%w: packet block body is %d bytes, want at least %d", ErrBadBlock, len(body), pbFixedLen)
		}
		id = int(r.u16(body[0:]))
		ts = uint64(r.u32(body[4:]))<<32 | uint64(r.u32(body[8:]))
		caplen, wirelen, fixed = int(r.u32(body[12:])), int(r.u32(body[16:])), pbFixedLen
	default: // blockSPB
		if len(body) < spbFixedLen {
			return nil, Packet{}, fmt.Errorf("%w: simple packet body is %d bytes, want at least %d", ErrBadBlock, len(body), spbFixedLen)
		}
		hasTS, fixed = false, spbFixedLen
		wirelen = int(r.u32(body[0:]))
		caplen = min(wirelen, len(body)-spbFixedLen)
	}
	if n := len(r.ifaces) - r.secBase; id >= n {
		return nil, Packet{}, fmt.Errorf("%w: interface id %d not defined (section has %d)", ErrBadBlock, id, n)
	}
	idx := r.secBase + id
	iface := &r.ifaces[idx]
	if !hasTS && iface.Snaplen > 0 {
		caplen = min(caplen, iface.Snaplen) // SPB: the block may be padded beyond the snaplen
	}
	if caplen > len(body)-fixed {
		return nil, Packet{}, fmt.Errorf("%w: captured length %d exceeds the block (%d bytes of room)", ErrBadBlock, caplen, len(body)-fixed)
	}
	if caplen > MaxRecordLength {
		return nil, Packet{}, fmt.Errorf("%w: captured length %d exceeds the %d-byte limit", ErrBadBlock, caplen, MaxRecordLength)
	}
	p := Packet{
		CaptureLength:  caplen,
		Length:         wirelen,
		InterfaceIndex: idx,
		LinkType:       iface.LinkType,
	}
	if hasTS {
		p.Timestamp = ticksToTime(ts, iface.TicksPerSecond, iface.TSOffset)
	}
	return body[fixed : fixed+caplen], p, nil
}

// parseDSB keeps the secrets of a Decryption Secrets Block (4.7). The
// secrets are copied: the body aliases the reader's buffer.
func (r *Reader) parseDSB(body []byte) error {
	if len(body) < dsbFixedLen {
		return fmt.Errorf("%w: decryption secrets body is %d bytes, want at least %d", ErrBadBlock, len(body), dsbFixedLen)
	}
	typ, n := r.u32(body[0:]), r.u32(body[4:])
	if int64(n) > int64(len(body)-dsbFixedLen) {
		return fmt.Errorf("%w: decryption secrets length %d runs past the block (%d bytes of room)", ErrBadBlock, n, len(body)-dsbFixedLen)
	}
	r.stats.SecretsBlocks++
	if r.secretsBytes+int(n) > maxSecretsBytes {
		r.stats.SecretsDropped++
		return nil
	}
	r.secretsBytes += int(n)
	r.secrets = append(r.secrets, Secrets{Type: typ, Data: bytes.Clone(body[dsbFixedLen : dsbFixedLen+n])})
	return nil
}
