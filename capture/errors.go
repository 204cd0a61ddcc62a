package capture

import (
	"errors"
	"strconv"
)

// Sentinel errors. Decode wraps them in a *DecodeError naming the record;
// test with errors.Is.
var (
	// ErrUnsupportedLinkType: the record's link type is not one Decode
	// knows. Decode reports it for every such record; callers that log
	// should report it once per link type (Run does).
	ErrUnsupportedLinkType = errors.New("capture: unsupported link type")
	// ErrMalformed: a header is inconsistent (bad length, bad version).
	ErrMalformed = errors.New("capture: malformed packet")
	// ErrTruncated: the record ends inside a header although it was not
	// cut by the snaplen (caplen == len), so the record itself is short.
	ErrTruncated = errors.New("capture: truncated packet")
	// ErrTooDeep: encapsulations nest deeper than Options.MaxDepth.
	ErrTooDeep = errors.New("capture: encapsulation too deep")
)

// DecodeError names the record and the place a decode failed. Err is
// one of the sentinels above.
type DecodeError struct {
	Packet int   // 1-based record number in its source
	Offset int64 // byte offset of the record in its file
	Layer  string
	Detail string
	Err    error
}

func (e *DecodeError) Error() string {
	s := "capture: packet " + strconv.Itoa(e.Packet)
	if e.Offset > 0 {
		s += " (file offset " + strconv.FormatInt(e.Offset, 10) + ")"
	}
	msg := e.Err.Error()
	if len(msg) > len("capture: ") && msg[:len("capture: ")] == "capture: " {
		msg = msg[len("capture: "):]
	}
	s += ": " + msg
	if e.Layer != "" {
		s += " in " + e.Layer
	}
	if e.Detail != "" {
		if e.Layer == "" {
			s += " " + e.Detail
		} else {
			s += ": " + e.Detail
		}
	}
	return s
}

func (e *DecodeError) Unwrap() error { return e.Err }
