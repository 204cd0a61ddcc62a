package srtpdec

import "errors"

// Sentinel errors, checked with errors.Is.
var (
	// ErrBadCrypto: an SDP a=crypto attribute or an SSRC:KEY string does
	// not parse (RFC 4568 9.1).
	ErrBadCrypto = errors.New("srtpdec: bad crypto attribute")
	// ErrUnsupportedSuite: a crypto suite or session parameter this
	// package does not decrypt (F8, UNAUTHENTICATED_SRTP, ...).
	ErrUnsupportedSuite = errors.New("srtpdec: unsupported crypto suite")
	// ErrNoKey: no key was given for the packet's SSRC or source.
	ErrNoKey = errors.New("srtpdec: no key")
	// ErrAuth: the packet failed authentication (wrong key, wrong
	// rollover counter, or damage).
	ErrAuth = errors.New("srtpdec: authentication failed")
	// ErrMalformed: too short or not an RTP/RTCP packet.
	ErrMalformed = errors.New("srtpdec: malformed packet")
	// ErrTooManyStreams: the stream table is full; the packet is counted
	// and refused.
	ErrTooManyStreams = errors.New("srtpdec: too many streams")
)
