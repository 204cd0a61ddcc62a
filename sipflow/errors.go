package sipflow

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers branch on them with errors.Is.
var (
	// ErrNotSIP is returned by Message.Unmarshal when the input has no SIP
	// start line (request line or status line) at all.
	ErrNotSIP = errors.New("sipflow: no SIP start line")
	// ErrNotSDP is returned by SDP.Unmarshal when the input does not start
	// with a "v=" line.
	ErrNotSDP = errors.New("sipflow: not an SDP body")
	// ErrFilterSyntax wraps every filter parse error about the expression's
	// shape (missing operand, unbalanced parenthesis, bad operator).
	ErrFilterSyntax = errors.New("sipflow: filter syntax error")
	// ErrFilterColumn wraps filter errors naming an unknown column.
	ErrFilterColumn = errors.New("sipflow: unknown filter column")
	// ErrFilterValue wraps filter errors about a value that does not fit its
	// column (for example code>=abc).
	ErrFilterValue = errors.New("sipflow: bad filter value")
	// ErrRawGone is set in MessageDetail.RawError when a message the
	// store did not keep in memory cannot be re-read from its capture.
	ErrRawGone = errors.New("sipflow: raw message not re-readable")
)

// FilterError says where in a filter expression parsing failed. It unwraps
// to one of ErrFilterSyntax, ErrFilterColumn or ErrFilterValue.
type FilterError struct {
	Offset int    // byte offset in the expression
	Column string // the column involved, if any
	Msg    string
	Err    error
}

// Error is written for the user who typed the expression (the CLI's
// --filter, the TUI's F7): it names the place and the token, without the
// Go package prefix.
func (e *FilterError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("filter: %q at offset %d: %s", e.Column, e.Offset, e.Msg)
	}
	return fmt.Sprintf("filter: at offset %d: %s", e.Offset, e.Msg)
}

func (e *FilterError) Unwrap() error { return e.Err }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
