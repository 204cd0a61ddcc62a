package leak

import "errors"

// ErrSetFull reports an identifier refused because the set reached its bound.
var ErrSetFull = errors.New("leak: identifier set full")
