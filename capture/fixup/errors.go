package fixup

import "errors"

// Sentinel errors, wrapped with the header and offset concerned.
var (
	// ErrNotInRecord: the payload or a header of the chain is not in the
	// record (reassembled from several records), or the chain is
	// incomplete (capture.Layers.ChainFull).
	ErrNotInRecord = errors.New("fixup: header or payload not in the record")
	// ErrTruncated: a header or the extent a checksum covers lies past the
	// end of the record (cut by the snaplen).
	ErrTruncated = errors.New("fixup: record truncated")
	// ErrLength: a length field would leave its range (below its header or
	// above 65535), or an IPv6 jumbogram (payload length 0).
	ErrLength = errors.New("fixup: length out of range")
	// ErrUnsupported: a change this package cannot express (resizing an
	// SCTP DATA chunk).
	ErrUnsupported = errors.New("fixup: unsupported change")
)
