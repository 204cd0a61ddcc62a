package anon

import "errors"

// Errors returned by this package.
var (
	ErrKeyLength  = errors.New("anon: key file must hold 32 bytes (raw, or 64 hex digits)")
	ErrEmptyKey   = errors.New("anon: empty key")
	ErrFF1Length  = errors.New("anon: FF1 input length out of range")
	ErrFF1Numeral = errors.New("anon: FF1 numeral out of radix")
	ErrNotSIP     = errors.New("anon: not a SIP message")
	ErrNotRTP     = errors.New("anon: not an RTP packet")
	ErrNotRTCP    = errors.New("anon: not an RTCP packet")
	ErrSameFile   = errors.New("anon: output would overwrite the input")
	ErrStdio      = errors.New("anon: a capture is read twice (two passes) and verified after writing: give files, not -")
)
