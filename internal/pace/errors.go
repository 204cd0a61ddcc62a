package pace

import "errors"

// ErrBadSpeed: a --speed value that is neither "max" nor a positive factor.
var ErrBadSpeed = errors.New("pace: bad speed")
