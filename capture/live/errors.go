package live

import "errors"

var (
	// ErrUnsupported is returned where AF_PACKET does not exist.
	ErrUnsupported = errors.New("live: live capture needs Linux AF_PACKET")
)
