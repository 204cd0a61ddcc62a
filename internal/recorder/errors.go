package recorder

import "errors"

// Errors.
var (
	ErrClosed   = errors.New("recorder: closed")
	ErrDropped  = errors.New("recorder: record dropped (queue to the disk full, or closed)")
	ErrLinkType = errors.New("recorder: a classic pcap file holds one link type; record to .pcapng to mix interfaces")
	ErrBadPath  = errors.New("recorder: bad output path")
	ErrBadSize  = errors.New("recorder: bad size")
)
