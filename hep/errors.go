package hep

import "errors"

// Sentinel errors. Every error returned by this package wraps one of these
// (with the offset or value that caused it), so callers branch with errors.Is.
var (
	// ErrTruncatedPacket: the buffer is shorter than the HEP header, or than
	// the total length the HEP3 header announces.
	ErrTruncatedPacket = errors.New("hep: truncated packet")
	// ErrTruncated: a chunk header or value runs past the end of the packet.
	ErrTruncated = errors.New("hep: truncated chunk")
	// ErrBadLength: the HEP3 total length field is smaller than the header.
	ErrBadLength = errors.New("hep: bad packet length")
	// ErrBadChunkLen: a chunk length field is smaller than the 6-byte chunk header.
	ErrBadChunkLen = errors.New("hep: bad chunk length")
	// ErrBadChunkValue: a generic chunk of a known type has a value of the
	// wrong size (e.g. a 3-byte port). Unmarshal keeps such chunks opaque in
	// Packet.Extra and still decodes the rest, so the Packet is usable.
	ErrBadChunkValue = errors.New("hep: bad chunk value size")
	// ErrBadMagic: the buffer is neither "HEP3" nor a HEPv1/v2 header.
	ErrBadMagic = errors.New("hep: bad magic")
	// ErrBadVersion: Packet.Version is not 0, 1, 2 or 3 when marshalling.
	ErrBadVersion = errors.New("hep: bad version")
	// ErrBadFamily: a HEPv1/v2 header names an address family other than
	// AF_INET (2) or AF_INET6 (10).
	ErrBadFamily = errors.New("hep: bad address family")
	// ErrBadTimestamp: a HEPv2 timestamp has a microsecond field >= 1e6 in
	// both byte orders, so neither reading is a valid timestamp.
	ErrBadTimestamp = errors.New("hep: bad timestamp")
	// ErrTooLarge: the encoded packet would exceed 65535 bytes, the limit of
	// the u16 length field (HEP3) or of a UDP datagram (HEPv1/v2).
	ErrTooLarge = errors.New("hep: too large")
	// ErrNotRepresentable: a field value cannot be expressed in the chosen
	// wire version (HEPv2 capture id > 65535, time before 1970 or after 2106,
	// HEPv1/v2 without addresses, compressed payload in HEPv1/v2).
	ErrNotRepresentable = errors.New("hep: value not representable")
	// ErrInflateTooLarge: Decompress stopped at MaxInflatedSize bytes.
	ErrInflateTooLarge = errors.New("hep: inflated payload too large")
	// ErrNested: a payload marked as SIP is itself a HEP packet. Nested
	// HEP is refused, not unwrapped again: an agent never nests, and
	// following it would let one packet stand for any other.
	ErrNested = errors.New("hep: HEP packet inside HEP (refused)")
)
