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
	// ErrOwnAddress: the --iface interface owns an address of the
	// capture (after --map) and Force was not given.
	ErrOwnAddress = errors.New("replay: the interface owns an address of the capture (--map it elsewhere, or --force)")
	// ErrLinkType: frames without an Ethernet header and no DstMAC to
	// build one with, or a link type no header can be built for.
	ErrLinkType = errors.New("replay: frames without an Ethernet header")
	// ErrFrameOption: an option that does not apply to frame replay, or
	// a map between address families.
	ErrFrameOption = errors.New("replay: option not for frame replay")
	// ErrNoFiles: Run needs capture files (they are read more than once).
	ErrNoFiles = errors.New("replay: no capture file")
)
