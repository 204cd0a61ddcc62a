package pcap

import (
	"errors"
	"strconv"
)

// Sentinel errors. Errors from reading a file are *FormatError values that
// wrap one of these, so callers branch with errors.Is.
var (
	// ErrUnknownFormat: the first bytes are neither a pcap nor a pcapng
	// magic (nor gzip around one of them).
	ErrUnknownFormat = errors.New("pcap: unknown file format")
	// ErrTruncated: the file ends inside a header, record or block, as a
	// capture cut off mid-write does.
	ErrTruncated = errors.New("pcap: truncated file")
	// ErrBadHeader: a classic pcap file header or a pcapng section header
	// carries an unsupported version or an impossible value.
	ErrBadHeader = errors.New("pcap: bad file header")
	// ErrBadRecord: a classic pcap record header is impossible (captured
	// length above the limit).
	ErrBadRecord = errors.New("pcap: bad record")
	// ErrBadBlock: a pcapng block is malformed: bad length, trailing length
	// mismatch, options running past the block, an unknown interface id.
	ErrBadBlock = errors.New("pcap: bad pcapng block")
	// ErrCompressed: the gzip stream around the capture is corrupt.
	ErrCompressed = errors.New("pcap: corrupt gzip stream")
	// ErrClosed: Next was called after Close.
	ErrClosed = errors.New("pcap: reader closed")
	// ErrNotSeekable: ReadRecordAt was asked to re-read a compressed file;
	// offsets count decompressed bytes and cannot be sought to.
	ErrNotSeekable = errors.New("pcap: source cannot be re-read by offset")
	// ErrTimeRange: a timestamp cannot be represented in the output format
	// (before 1970, or after 2106 for classic pcap).
	ErrTimeRange = errors.New("pcap: timestamp out of range")
	// ErrNoInterface: NgWriter.WritePacket names an interface that
	// AddInterface has not created.
	ErrNoInterface = errors.New("pcap: no such interface")
)

// FormatError reports damage in a capture file: which file, the 1-based
// number of the record being read (0 while reading the file header), the
// byte offset of the header or block at fault (in the decompressed stream)
// and the reason, which wraps one of the sentinel errors above.
type FormatError struct {
	File   string
	Packet int
	Offset int64
	Err    error
}

// Error reads "FILE: packet N at offset X: reason"; while the file header
// is being read it says "header" instead of "packet N".
func (e *FormatError) Error() string {
	where := "header"
	if e.Packet > 0 {
		where = "packet " + strconv.Itoa(e.Packet)
	}
	return e.File + ": " + where + " at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Err.Error()
}

// Unwrap exposes the sentinel (and any underlying I/O error) to errors.Is.
func (e *FormatError) Unwrap() error { return e.Err }
