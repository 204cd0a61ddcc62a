package pcap

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// MaxRecordLength bounds the captured bytes of one record. It is tcpdump's
// default snaplen (262144); a record header claiming more is treated as
// damage rather than trusted, which also bounds the reader's memory.
const MaxRecordLength = 256 << 10

const (
	// maxBlockLength bounds a pcapng block the reader buffers (packet
	// blocks, IDBs, SHBs): a packet of MaxRecordLength plus generous room
	// for options. Blocks the reader skips are discarded, never buffered.
	maxBlockLength = MaxRecordLength + 64<<10
	// The Reader reads its input in blocks and returns records as slices
	// of the block: no copy per record, and one read call per block (a
	// bufio.Reader under io.ReadFull copied every record once more and
	// cost a third of the reading). The block starts at minBlock and
	// becomes maxBlock when the first is used up: a small file (and
	// every fuzz input) costs no more than before, a long one reads
	// 256 KiB per call (1 MiB measured no faster: the block's start has
	// left the cache by the time it is decoded). A record straddling
	// two blocks is the only copy.
	minBlock = 64 << 10
	maxBlock = 256 << 10
	// minRead is the least room a read is offered: with less left at
	// the block's end, the unread tail moves to the front first.
	minRead = 16 << 10
	// readBufferSize is the buffer under a gzip stream's decompressor.
	readBufferSize = 64 << 10
	// maxEmptyReads bounds reads that return nothing and no error (as
	// bufio does): a broken io.Reader must not spin the reader forever.
	maxEmptyReads = 100
	// yearApart is the distance between consecutive timestamps counted in
	// Oddities.TimeJumps: real captures do not pause for a year.
	yearApart = 365 * 24 * time.Hour
)

// Kind is the container format of a capture file.
type Kind uint8

// Container formats.
const (
	FormatPcap   Kind = iota + 1 // classic libpcap format
	FormatPcapng                 // pcapng (draft-ietf-opsawg-pcapng)
)

// String names the kind as file(1) would.
func (k Kind) String() string {
	switch k {
	case FormatPcap:
		return "pcap"
	case FormatPcapng:
		return "pcapng"
	}
	return "unknown"
}

// Format describes a capture file as the Reader found it.
type Format struct {
	Kind       Kind
	BigEndian  bool // byte order of the pcap header, or of the first pcapng section
	Nanosecond bool // classic pcap with the a1b23c4d magic
	Compressed bool // the file was gzip-compressed (offsets count decompressed bytes)
}

// String reads like "pcap (big-endian, ns, gzip)".
func (f Format) String() string {
	s := f.Kind.String()
	var extra []string
	if f.BigEndian {
		extra = append(extra, "big-endian")
	}
	if f.Nanosecond {
		extra = append(extra, "ns")
	}
	if f.Compressed {
		extra = append(extra, "gzip")
	}
	for i, e := range extra {
		if i == 0 {
			s += " (" + e
		} else {
			s += ", " + e
		}
	}
	if len(extra) > 0 {
		s += ")"
	}
	return s
}

// Interface describes one capture interface: the single implicit one of a
// classic pcap file, or one pcapng Interface Description Block.
type Interface struct {
	Section        int      // 0-based pcapng section the IDB belongs to
	ID             int      // interface id within its section, as EPBs name it
	LinkType       LinkType // with the classic-pcap FCS bits masked off
	Snaplen        int      // 0 means unlimited
	Name           string   // if_name (pcapng), empty if absent
	Description    string   // if_description (pcapng), empty if absent
	TicksPerSecond uint64   // timestamp units per second (if_tsresol; 1e6 or 1e9 for pcap)
	TSOffset       int64    // seconds added to every timestamp (if_tsoffset)
	FCSLength      int      // bytes of frame check sequence ending each frame, 0 if none or unknown
	BigEndian      bool     // byte order of the section/file
}

// Oddities counts things that are strange but not damage; reading goes on.
type Oddities struct {
	CaptureOverLength int // captured length larger than the original length
	OverSnaplen       int // captured length larger than the interface snaplen (tools accept these)
	TimeBackwards     int // timestamp earlier than the previous record's
	TimeJumps         int // more than a year from the previous record's timestamp, either way
}

// ReadStats counts what a Reader has consumed so far.
type ReadStats struct {
	Packets       int // records returned by Next
	SkippedBlocks int // pcapng blocks without packets: NRB, ISB, DSB, custom, unknown
	SecretsBlocks int // pcapng Decryption Secrets Blocks read (Secrets returns them)
	// SecretsDropped counts Decryption Secrets Blocks not kept: one larger
	// than the reader buffers, or beyond 16 MiB of secrets in all.
	SecretsDropped int
	Sections       int   // pcapng sections seen (1 for classic pcap)
	Bytes          int64 // bytes consumed, decompressed, headers included
	Damaged        bool  // reading stopped at damage; Damage says where
	Damage         error // the *FormatError Next returned, nil if none
	Oddities       Oddities
}

// Reader reads a classic pcap or pcapng file record by record. It is not
// safe for concurrent use.
type Reader struct {
	name   string
	closer io.Closer // the file Open opened; nil for stdin and NewReader
	gz     *gzip.Reader
	format Format

	// in is the (decompressed) stream; the unread bytes read from it are
	// blk[rp:wp]. Next's data aliases blk, which is overwritten only by
	// a later fill (so only by a later call).
	in     io.Reader
	blk    []byte
	rp, wp int
	inErr  error      // the error in returned; met again once blk[rp:wp] is used up
	ra     *readAhead // set while in is read on a goroutine (ReadAhead)

	big bool  // byte order of the current section / file
	off int64 // bytes consumed from the decompressed stream
	hdr [32]byte
	buf []byte // a section header's body (read rarely, copied)

	ifaces  []Interface
	secBase int // index in ifaces of the current pcapng section's interface 0

	stats        ReadStats
	secrets      []Secrets // pcapng Decryption Secrets Blocks, in file order
	secretsBytes int
	lastSec      int64 // Unix time of the last timestamped record, for Oddities
	lastNsec     int64
	haveTS       bool
	pending      error // damage found while NewReader looked ahead for the first IDB
	done         bool
	closed       bool
	wait         *waitReader // under in when the input may wait (a pipe); nil for a regular file
}

// waitReader sits under the Reader's buffer when its input is a pipe, a
// terminal or a socket, whose reads wait for data nobody has sent yet:
// it calls onWait before each read from it (see OnWait).
type waitReader struct {
	r      io.Reader
	onWait func()
}

func (w *waitReader) Read(p []byte) (int, error) {
	if w.onWait != nil {
		w.onWait()
	}
	return w.r.Read(p)
}

// OnWait sets fn to be called (on the goroutine calling Next) before the
// Reader reads from its input, when that input may keep it waiting: a
// pipe, a terminal or a socket (stdin from tcpdump -w -), not a regular
// file. A consumer that batches what it read hands the batch on there,
// so the packets read so far are not held back until more arrive. It
// reports whether the input may wait (fn will be called); nil removes fn.
func (r *Reader) OnWait(fn func()) bool {
	if r.wait == nil {
		return false
	}
	r.wait.onWait = fn
	return true
}

// Open opens a capture file; "-" reads standard input (which Close leaves
// open). Errors name the file.
func Open(path string) (*Reader, error) {
	if path == "-" {
		return NewReader(os.Stdin, "stdin")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	r, err := NewReader(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads a capture from rd, detecting pcap or pcapng by magic and
// gunzipping transparently. name is used in error messages. For pcapng it
// reads ahead to the first Interface Description Block so LinkType is
// known; damage met on the way is returned by the first Next.
func NewReader(rd io.Reader, name string) (*Reader, error) {
	r := &Reader{name: name}
	// An *os.File, or a wrapper of one that says what it wraps (a byte
	// counter): a named FIFO behind a wrapper waits like stdin does.
	if f, ok := rd.(interface{ Stat() (os.FileInfo, error) }); ok {
		if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
			r.wait = &waitReader{r: rd}
			rd = r.wait
		}
	}
	r.in, r.blk = rd, make([]byte, minBlock)
	magic, err := r.peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		// The bytes looked at are the start of the gzip stream: it reads
		// them again, then the rest of the input (a ByteReader, so gzip
		// adds no buffer of its own).
		seen := bytes.Clone(r.blk[r.rp:r.wp])
		raw := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(seen), rd), readBufferSize)
		gz, gerr := gzip.NewReader(raw)
		if gerr != nil {
			return nil, r.headerErr(0, fmt.Errorf("%w: %w", ErrCompressed, gerr))
		}
		r.gz = gz
		r.format.Compressed = true
		r.in, r.rp, r.wp, r.inErr = gz, 0, 0, nil
		magic, err = r.peek(4)
	}
	if len(magic) < 4 {
		if err == nil || err == io.EOF {
			err = fmt.Errorf("%w: %d bytes, too short for a magic number", ErrTruncated, len(magic))
		} else {
			err = r.ioErr(err)
		}
		return nil, r.headerErr(0, err)
	}
	switch {
	case isPcapMagic(magic):
		err = r.readPcapHeader()
	case isPcapngMagic(magic):
		err = r.readFirstSection()
	default:
		return nil, r.headerErr(0, fmt.Errorf("%w: first bytes % x", ErrUnknownFormat, magic))
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Next returns the next record. data aliases a buffer owned by the Reader
// and is valid only until the next call; copy it to keep it, or, while
// reading ahead, pin the block it lies in (BlockOf). At the end of
// the file Next returns io.EOF. On damage it returns a *FormatError (every
// earlier record has been returned) and io.EOF afterwards: it does not try
// to resynchronise, because a guessed boundary can fabricate packets.
func (r *Reader) Next() (data []byte, p Packet, err error) {
	data, err = r.NextInto(&p)
	return data, p, err
}

// NextInto is Next with the record's Packet written to *p (zero on an
// error) instead of returned: a caller that keeps it in place (capture's
// merge of sources) saves copying it on every record, which was a tenth
// of the decoding goroutine's time on an RTP-heavy capture (the Packet
// built, returned, returned again and stored: 72 bytes each time).
func (r *Reader) NextInto(p *Packet) ([]byte, error) {
	var err error
	switch {
	case r.closed:
		err = ErrClosed
	case r.pending != nil:
		err, r.pending = r.pending, nil
	case r.done:
		err = io.EOF
	case r.format.Kind == FormatPcap:
		return r.nextPcap(p)
	default:
		var data []byte
		data, *p, err = r.nextPcapng()
		return data, err
	}
	*p = Packet{}
	return nil, err
}

// Stats returns the counters so far.
func (r *Reader) Stats() ReadStats {
	s := r.stats
	s.Bytes = r.off
	return s
}

// Format returns the container format found.
func (r *Reader) Format() Format { return r.format }

// Name is the name the reader was opened with (the file's path, "-" for
// standard input), by which a session names where a call was seen.
func (r *Reader) Name() string { return r.name }

// LinkType returns the link type of the first interface, or 0 (NULL) for
// a pcapng file without any interface.
func (r *Reader) LinkType() LinkType {
	if len(r.ifaces) == 0 {
		return 0
	}
	return r.ifaces[0].LinkType
}

// Interfaces returns a copy of the interfaces seen so far: one for classic
// pcap, every IDB of every section for pcapng, in file order.
// Packet.InterfaceIndex indexes this slice.
func (r *Reader) Interfaces() []Interface { return slices.Clone(r.ifaces) }

// SecretsTLSKeyLog is the Decryption Secrets Block type of TLS key log
// lines in NSS format ("TLSK"), as editcap --inject-secrets tls,FILE writes.
const SecretsTLSKeyLog = 0x544c534b

// Secrets is the payload of one pcapng Decryption Secrets Block.
type Secrets struct {
	Type uint32 // SecretsTLSKeyLog, or another registered type ("WGKL", "ZIGN", ...)
	Data []byte // owned by the Reader: read, do not modify
}

// Secrets returns the Decryption Secrets Blocks read so far, in file order.
// NewReader reads ahead to the first interface, so secrets written before
// it (as editcap writes them) are available before the first Next; a
// caller that wants later ones compares Stats().SecretsBlocks after Next.
func (r *Reader) Secrets() []Secrets { return slices.Clone(r.secrets) }

// Close closes the file Open opened (never stdin, never a caller's reader).
func (r *Reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.stopAhead() // its goroutine reads the file closed below
	var err error
	if r.gz != nil {
		err = r.gz.Close()
	}
	if r.closer != nil {
		if cerr := r.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// fill makes n bytes (n <= maxBlockLength) available at blk[rp:], or
// returns the input's error with fewer there. It reads only while bytes
// are missing, so a pipe is never asked to wait for more than the record
// in hand (a read returns what has arrived), but offers each read all
// the room the block has.
func (r *Reader) fill(n int) error {
	if r.ra != nil {
		return r.fillAhead(n)
	}
	if r.rp == r.wp {
		r.rp, r.wp = 0, 0 // nothing unread: the whole block is free
	}
	for empty := 0; r.wp-r.rp < n; {
		if r.inErr != nil {
			return r.inErr
		}
		if len(r.blk)-r.rp < n || len(r.blk)-r.wp < minRead {
			r.compact(n)
		}
		m, err := r.in.Read(r.blk[r.wp:])
		r.wp += m
		switch {
		case err != nil:
			r.inErr = err
		case m > 0:
			empty = 0
		default:
			if empty++; empty >= maxEmptyReads {
				r.inErr = io.ErrNoProgress
			}
		}
	}
	return nil
}

// compact moves the unread bytes to the front of the block, into a
// bigger one while the block is below maxBlock (it was used up: the
// input is long).
func (r *Reader) compact(n int) {
	size := max(len(r.blk), maxBlock, n+minRead)
	blk := r.blk
	if size > len(blk) {
		blk = make([]byte, size)
	}
	r.wp = copy(blk, r.blk[r.rp:r.wp])
	r.rp, r.blk = 0, blk
}

// peek returns the next n bytes without consuming them; with fewer
// left, it returns those and the input's error.
func (r *Reader) peek(n int) ([]byte, error) {
	err := r.fill(n)
	return r.blk[r.rp:min(r.wp, r.rp+n)], err
}

// take consumes the next n bytes and returns them, aliasing the block:
// valid until the next fill. It returns io.EOF only when the stream
// ended cleanly before the first byte; a partial read is ErrTruncated
// (the bytes there are consumed, as Stats.Bytes counts them).
func (r *Reader) take(n int) ([]byte, error) {
	if r.wp-r.rp < n {
		if err := r.fill(n); err != nil {
			got := r.wp - r.rp
			r.off += int64(got)
			r.rp = r.wp
			switch {
			case err == io.EOF && got == 0:
				return nil, io.EOF
			case err == io.EOF, err == io.ErrUnexpectedEOF:
				return nil, fmt.Errorf("%w: needed %d bytes, got %d", ErrTruncated, n, got)
			}
			return nil, r.ioErr(err)
		}
	}
	b := r.blk[r.rp : r.rp+n : r.rp+n]
	r.rp += n
	r.off += int64(n)
	return b, nil
}

// read fills b from the stream, as take does.
func (r *Reader) read(b []byte) error {
	d, err := r.take(len(b))
	copy(b, d)
	return err
}

// discard skips n bytes of the stream.
func (r *Reader) discard(n int) error {
	for left := n; left > 0; {
		if r.rp == r.wp {
			if err := r.fill(1); err != nil {
				if err == io.EOF {
					return fmt.Errorf("%w: needed %d bytes, got %d", ErrTruncated, n, n-left)
				}
				return r.ioErr(err)
			}
		}
		k := min(left, r.wp-r.rp)
		r.rp += k
		r.off += int64(k)
		left -= k
	}
	return nil
}

// ioErr classifies a read error: gzip corruption becomes ErrCompressed,
// a truncated gzip stream ErrTruncated; other I/O errors pass through.
func (r *Reader) ioErr(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %w", ErrTruncated, err)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		return fmt.Errorf("%w: %w", ErrCompressed, err)
	}
	return err
}

// grow returns r.buf resized to n bytes, reallocating only when a bigger
// record than any before arrives.
func (r *Reader) grow(n int) []byte {
	if cap(r.buf) < n {
		r.buf = make([]byte, n, max(n, 2*cap(r.buf)))
	}
	r.buf = r.buf[:n]
	return r.buf
}

func (r *Reader) headerErr(off int64, err error) error {
	return &FormatError{File: r.name, Offset: off, Err: err}
}

// fail records damage at off and ends reading.
func (r *Reader) fail(off int64, err error) error {
	fe := &FormatError{File: r.name, Packet: r.stats.Packets + 1, Offset: off, Err: err}
	r.done = true
	r.stats.Damaged = true
	r.stats.Damage = fe
	return fe
}

// account counts a returned record and its oddities. Records without a
// timestamp (pcapng SPB) are left out of the time checks. The times are
// compared as Unix seconds and nanoseconds: exactly what Time.Sub would
// say (it saturates where the difference overflows), for less than half
// the cost per record.
func (r *Reader) account(p *Packet, snaplen int) {
	r.stats.Packets++
	p.Number = r.stats.Packets
	if p.CaptureLength > p.Length {
		r.stats.Oddities.CaptureOverLength++
	}
	if snaplen > 0 && p.CaptureLength > snaplen {
		r.stats.Oddities.OverSnaplen++
	}
	if p.Timestamp.IsZero() {
		return
	}
	sec, nsec := p.Timestamp.Unix(), int64(p.Timestamp.Nanosecond())
	if r.haveTS && (sec != r.lastSec || nsec != r.lastNsec) {
		const year = int64(yearApart / time.Second)
		// ds is the distance in whole seconds, exact in uint64 even
		// where sec-lastSec overflows int64; the nanoseconds decide
		// only at exactly a year.
		switch {
		case sec > r.lastSec:
			ds := uint64(sec) - uint64(r.lastSec)
			if ds > uint64(year) || ds == uint64(year) && nsec > r.lastNsec {
				r.stats.Oddities.TimeJumps++
			}
		case sec < r.lastSec:
			r.stats.Oddities.TimeBackwards++
			ds := uint64(r.lastSec) - uint64(sec)
			if ds > uint64(year) || ds == uint64(year) && nsec < r.lastNsec {
				r.stats.Oddities.TimeJumps++
			}
		case nsec < r.lastNsec:
			r.stats.Oddities.TimeBackwards++
		}
	}
	r.lastSec, r.lastNsec, r.haveTS = sec, nsec, true
}

func (r *Reader) u16(b []byte) uint16 {
	if r.big {
		return uint16(b[0])<<8 | uint16(b[1])
	}
	return uint16(b[1])<<8 | uint16(b[0])
}

func (r *Reader) u32(b []byte) uint32 { return order32(r.big, b) }

// u64 reads a pcapng 64-bit value (if_tsoffset): whole, in section order.
func (r *Reader) u64(b []byte) uint64 {
	if r.big {
		return uint64(r.u32(b[0:]))<<32 | uint64(r.u32(b[4:]))
	}
	return uint64(r.u32(b[4:]))<<32 | uint64(r.u32(b[0:]))
}

func order32(big bool, b []byte) uint32 {
	_ = b[3]
	if big {
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	return uint32(b[3])<<24 | uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
}
