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
