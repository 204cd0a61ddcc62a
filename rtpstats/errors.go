package rtpstats

import "errors"

// Sentinel errors. Callers branch on them with errors.Is; the wrapped
// message names the offset or field that failed.
var (
	// ErrTruncated means the datagram ends before a field the header
	// promises (fixed header, CSRC list, extension, padding).
	ErrTruncated = errors.New("rtpstats: truncated packet")
	// ErrBadVersion means the RTP/RTCP version field is not 2 (RFC 3550 5.1).
	ErrBadVersion = errors.New("rtpstats: bad version")
	// ErrBadPadding means the padding count is zero or larger than the payload.
	ErrBadPadding = errors.New("rtpstats: bad padding")
	// ErrBadExtension means a header extension whose length is not a
	// multiple of 4 octets was given to MarshalTo.
	ErrBadExtension = errors.New("rtpstats: bad header extension")
	// ErrTooManyCSRC means more than 15 CSRCs (the CC field is 4 bits).
	ErrTooManyCSRC = errors.New("rtpstats: too many CSRCs")
	// ErrRTCP wraps a pion/rtcp decode failure of a compound packet.
	ErrRTCP = errors.New("rtpstats: bad rtcp")
)
