package pcapgen

import "errors"

// Sentinel errors. Builders return them wrapped with the offending value so
// a caller can branch with errors.Is and still read what went wrong.
var (
	// ErrFragmentSize reports a fragment payload size that is not a positive
	// multiple of 8 (RFC 791 section 3.1, RFC 8200 section 4.5: offsets
	// count 8-octet units).
	ErrFragmentSize = errors.New("pcapgen: fragment size must be a positive multiple of 8")
	// ErrNotIP reports a datagram that does not start with an IPv4 or IPv6
	// header of the expected version.
	ErrNotIP = errors.New("pcapgen: not an IP datagram")
	// ErrBadArgument reports a nonsensical argument (negative count, …).
	ErrBadArgument = errors.New("pcapgen: bad argument")
)
