package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// Format selects how WriteCalls, WriteStreams and WriteKPIs render. All
// formats share one data struct per report; only the writer differs.
type Format uint8

// Formats.
const (
	FormatTable Format = iota // aligned columns fitted to TableOptions.Width
	FormatJSON                // one indented JSON array (an object for KPIs)
	FormatJSONL               // one compact JSON object per line
	FormatCSV                 // RFC 4180, header row of the JSON field names
)

func formatNames() []string { return []string{"table", "json", "jsonl", "csv"} }

func (f Format) String() string {
	if n := formatNames(); int(f) < len(n) {
		return n[f]
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Formats lists the accepted names, for flag help.
func Formats() []string { return formatNames() }

// ParseFormat accepts a format name case-insensitively ("text" is an alias
// of "table"). The error wraps ErrUnknownFormat.
func ParseFormat(s string) (Format, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "text" {
		return FormatTable, nil
	}
	names := formatNames()
	for i, n := range names {
		if s == n {
			return Format(i), nil
		}
	}
	return 0, fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, s, strings.Join(names, ", "))
}

// DefaultWidth is the table width when TableOptions.Width is 0: wide enough
// for a 120-column terminal, the width sngrep's call list is designed for.
const DefaultWidth = 120

// TableOptions tunes FormatTable; other formats ignore it. The zero value
// is useful.
type TableOptions struct {
	// Width is the maximum line width in columns: 0 means DefaultWidth,
	// negative means unlimited. Columns are first narrowed (ellipsizing
	// free text such as URIs and Call-IDs), then dropped, least useful
	// first; addresses are never cut.
	Width int
	// NoHeader omits the header line (useful for scripts and the TUI).
	NoHeader bool
}

func (o TableOptions) width() int {
	switch {
	case o.Width == 0:
		return DefaultWidth
	case o.Width < 0:
		return int(^uint(0) >> 1)
	}
	return o.Width
}

// writer wraps the destination in a bufio.Writer and keeps the first error,
// so the renderers can write freely and check once at the end.
type writer struct {
	bw  *bufio.Writer
	err error
}

func newWriter(w io.Writer) *writer { return &writer{bw: bufio.NewWriter(w)} }

func (w *writer) str(s string) {
	if w.err == nil {
		_, w.err = w.bw.WriteString(s)
	}
}

func (w *writer) printf(format string, args ...any) {
	if w.err == nil {
		_, w.err = fmt.Fprintf(w.bw, format, args...)
	}
}

func (w *writer) flush() error {
	if w.err != nil {
		return w.err
	}
	return w.bw.Flush()
}

// Write implements io.Writer so encoding/json and encoding/csv can target
// the same buffer.
func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.bw.Write(p)
	w.err = err
	return n, err
}

// writeCSV writes a header and n rows (RFC 4180); the first error sticks
// in w, as every other writer here does it.
func writeCSV(w *writer, header []string, n int, row func(i int) []string) {
	c := newCSV(w, header)
	for i := 0; i < n; i++ {
		c.row(row(i))
	}
	c.end()
}

// csvStream writes CSV row by row, for lists not held in memory.
type csvStream struct {
	w  *writer
	cw *csv.Writer
}

func newCSV(w *writer, header []string) *csvStream {
	c := &csvStream{w: w, cw: csv.NewWriter(w)}
	_ = c.cw.Write(header) // errors surface through cw.Error
	return c
}

func (c *csvStream) row(r []string) {
	for j := range r {
		// A CSV is read in terminals (cat, less) as often as in
		// spreadsheets: wire text gets its controls escaped here too.
		r[j] = sanitize(r[j])
	}
	_ = c.cw.Write(r)
}

func (c *csvStream) end() {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil && c.w.err == nil {
		c.w.err = err
	}
}
