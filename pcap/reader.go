package pcap

import (
	"bufio"
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
	readBufferSize = 64 << 10
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
	br     *bufio.Reader
	format Format

	big bool  // byte order of the current section / file
	off int64 // bytes consumed from the decompressed stream
	hdr [32]byte
	buf []byte // record or block body; Next's data aliases it

	ifaces  []Interface
	secBase int // index in ifaces of the current pcapng section's interface 0

	stats        ReadStats
	secrets      []Secrets // pcapng Decryption Secrets Blocks, in file order
	secretsBytes int
	lastTS       time.Time
	haveTS       bool
	pending      error // damage found while NewReader looked ahead for the first IDB
	done         bool
	closed       bool
	wait         *waitReader // under br when the input may wait (a pipe); nil for a regular file
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
	if f, ok := rd.(*os.File); ok {
		if st, err := f.Stat(); err == nil && !st.Mode().IsRegular() {
			r.wait = &waitReader{r: rd}
			rd = r.wait
		}
	}
	r.br = bufio.NewReaderSize(rd, readBufferSize)
	magic, err := r.br.Peek(4)
	if len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, gerr := gzip.NewReader(r.br)
		if gerr != nil {
			return nil, r.headerErr(0, fmt.Errorf("%w: %w", ErrCompressed, gerr))
		}
		r.gz = gz
		r.format.Compressed = true
		r.br = bufio.NewReaderSize(gz, readBufferSize)
		magic, err = r.br.Peek(4)
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
// and is valid only until the next call; copy it to keep it. At the end of
// the file Next returns io.EOF. On damage it returns a *FormatError (every
// earlier record has been returned) and io.EOF afterwards: it does not try
// to resynchronise, because a guessed boundary can fabricate packets.
func (r *Reader) Next() (data []byte, p Packet, err error) {
	if r.closed {
		return nil, Packet{}, ErrClosed
	}
	if r.pending != nil {
		err, r.pending = r.pending, nil
		return nil, Packet{}, err
	}
	if r.done {
		return nil, Packet{}, io.EOF
	}
	if r.format.Kind == FormatPcap {
		return r.nextPcap()
	}
	return r.nextPcapng()
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

// read fills b from the stream. It returns io.EOF only when the stream
// ended cleanly before the first byte; a partial read is ErrTruncated.
func (r *Reader) read(b []byte) error {
	n, err := io.ReadFull(r.br, b)
	r.off += int64(n)
	switch err {
	case nil:
		return nil
	case io.EOF:
		return io.EOF
	case io.ErrUnexpectedEOF:
		return fmt.Errorf("%w: needed %d bytes, got %d", ErrTruncated, len(b), n)
	}
	return r.ioErr(err)
}

// discard skips n bytes of the stream.
func (r *Reader) discard(n int) error {
	d, err := r.br.Discard(n)
	r.off += int64(d)
	switch err {
	case nil:
		return nil
	case io.EOF:
		return fmt.Errorf("%w: needed %d bytes, got %d", ErrTruncated, n, d)
	}
	return r.ioErr(err)
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
// timestamp (pcapng SPB) are left out of the time checks.
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
	if r.haveTS {
		d := p.Timestamp.Sub(r.lastTS)
		if d < 0 {
			r.stats.Oddities.TimeBackwards++
		}
		if d > yearApart || d < -yearApart {
			r.stats.Oddities.TimeJumps++
		}
	}
	r.lastTS, r.haveTS = p.Timestamp, true
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
