package replay

import "errors"

var (
	// ErrNoTarget: neither To nor any map was given, so nothing may be sent.
	ErrNoTarget = errors.New("replay: no target (--to or --map)")
	// ErrBadMap: a --map that is not ORIG_IP[:PORT]=NEW_IP[:PORT].
	ErrBadMap = errors.New("replay: bad map")
	// ErrBadTarget: a target that is no HOST:PORT, or has port 0.
	ErrBadTarget = errors.New("replay: bad target")
	// ErrBroadcast: a broadcast or multicast target without AllowBroadcast.
	ErrBroadcast = errors.New("replay: broadcast or multicast target refused (--allow-broadcast)")
	// ErrNoCalls: --call or --filter selected no call of the capture.
	ErrNoCalls = errors.New("replay: no call selected")
	// ErrNoFiles: Run needs capture files (they are read more than once).
	ErrNoFiles = errors.New("replay: no capture file")
)
