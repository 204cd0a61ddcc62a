package live

import (
	"errors"
	"os"
)

var (
	// ErrUnsupported is returned where AF_PACKET does not exist.
	ErrUnsupported = errors.New("live: live capture needs Linux AF_PACKET")
	// ErrNoInterface names an interface that does not exist; the error
	// lists the ones that do.
	ErrNoInterface = errors.New("live: no such interface")
	// ErrPermission is returned without CAP_NET_RAW. It wraps
	// os.ErrPermission, so errors.Is(err, os.ErrPermission) holds.
	ErrPermission = permissionError{}
	// ErrFanout is a fanout group that could not be formed.
	ErrFanout = errors.New("live: fanout")
)

type permissionError struct{}

func (permissionError) Error() string {
	return "live: capturing needs the CAP_NET_RAW capability"
}
func (permissionError) Unwrap() error { return os.ErrPermission }

// Errors of the frame injector.
var (
	// ErrNotEthernet: an interface whose frames have no Ethernet header.
	ErrNotEthernet = errors.New("live: not an Ethernet interface")
	// ErrDown: the interface is not up.
	ErrDown = errors.New("live: interface is down")
	// ErrDropped: a frame found no room in the socket buffer or the
	// device queue (EAGAIN, ENOBUFS) and was not sent.
	ErrDropped = errors.New("live: frame dropped, no room to send it")
	// ErrTooBig: a frame larger than the interface's MTU (EMSGSIZE).
	ErrTooBig = errors.New("live: frame larger than the interface's MTU")
)
