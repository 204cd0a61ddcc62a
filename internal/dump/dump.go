package dump

import (
	"github.com/voiptool/voiptool/internal/safetext"

	"bufio"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/sink"
)

// ErrEnough ends the pipeline once Options.Count messages were printed.
var ErrEnough = errors.New("dump: count reached")

// kinds maps the --kind names; "all" is 0.
var kinds = map[string]capture.Kind{
	"sip": capture.KindSIP, "rtp": capture.KindRTP, "rtcp": capture.KindRTCP, "hep": capture.KindHEP, "all": 0,
}

// ParseKind reads a --kind name (case-insensitive); "all" gives 0.
func ParseKind(name string) (capture.Kind, bool) {
	k, ok := kinds[strings.ToLower(name)]
	return k, ok
}

// Compile builds the --regex matcher: (?m) so ^ and $ anchor at header
// lines, which is what people grepping SIP mean by "a line starting
// with". An empty expression matches everything (nil).
func Compile(expr string, ignoreCase bool) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	if ignoreCase {
		expr = "(?i)" + expr
	}
	return regexp.Compile("(?m)" + expr)
}

// Options configure a Printer; the zero value prints every SIP message.
type Options struct {
	// Kinds to print; a 0 in it (ParseKind("all")) means every kind.
	// Empty: SIP only.
	Kinds []capture.Kind
	// Regex, when set, prints only SIP messages it matches.
	Regex *regexp.Regexp
	// Count stops after this many printed messages (0: no limit).
	Count int
	// Location of the printed times (nil: UTC).
	Location *time.Location
	// Names of the sources, printed beside each message when there are
	// several.
	Names []string
	// FlushEach writes every message out at once (a live reader watches
	// the screen, not a pipe).
	FlushEach bool
	// Save receives every printed event (dump -w).
	Save sink.EventSink
}

// Printer prints the events given to Handle. Not safe for concurrent use.
type Printer struct {
	o       Options
	want    [8]bool
	out     *bufio.Writer
	unwrap  hep.Unwrapper
	msg     hep.Message
	inner   capture.Event
	printed int
	badHEP  int
}

// New prints to w.
func New(w io.Writer, o Options) *Printer {
	p := &Printer{o: o, out: bufio.NewWriterSize(w, 64<<10)}
	if len(o.Kinds) == 0 {
		p.want[capture.KindSIP] = true
	}
	for _, k := range o.Kinds {
		if k == 0 {
			for i := range p.want {
				p.want[i] = true
			}
		} else if int(k) < len(p.want) {
			p.want[k] = true
		}
	}
	if p.o.Location == nil {
		p.o.Location = time.UTC
	}
	return p
}

// Handle prints ev when it is wanted and matches, and hands it to
// Options.Save. It returns ErrEnough once Count messages were printed, and
// the sink's error.
func (p *Printer) Handle(ev *capture.Event) error {
	if ev.Kind == capture.KindHEP && p.want[capture.KindSIP] && !p.want[capture.KindHEP] {
		// SIP that reached the capture inside HEP is still SIP to the
		// reader: print it with the inner addresses and time.
		if err := p.unwrap.Decode(ev.Payload, ev.Time, &p.msg); err != nil {
			p.badHEP++ // nested HEP, a bomb, damage: counted, never printed as SIP
			return nil
		}
		if !p.msg.IsSIP() {
			return nil
		}
		p.inner = *ev
		p.inner.Kind, p.inner.Transport, p.inner.Payload = capture.KindSIP, capture.TransportOf(p.msg.Protocol), p.msg.Payload
		p.inner.Src, p.inner.Dst, p.inner.Tunnel, p.inner.Time = p.msg.Src, p.msg.Dst, true, p.msg.Time
		ev = &p.inner
	}
	if int(ev.Kind) >= len(p.want) || !p.want[ev.Kind] {
		return nil
	}
	if p.o.Regex != nil && (ev.Kind != capture.KindSIP || !p.o.Regex.Match(ev.Payload)) {
		return nil
	}
	p.write(ev)
	if p.o.Save != nil {
		if err := p.o.Save.WriteEvent(ev); err != nil {
			return err
		}
	}
	if p.o.FlushEach {
		p.out.Flush()
	}
	p.printed++
	if p.o.Count > 0 && p.printed >= p.o.Count {
		return ErrEnough
	}
	return nil
}

// Printed is how many messages were printed.
func (p *Printer) Printed() int { return p.printed }

// BadHEP is the number of HEP packets that could not be unwrapped
// (nested HEP, a payload that would not inflate, damage).
func (p *Printer) BadHEP() int { return p.badHEP }

// Flush writes out what is buffered.
func (p *Printer) Flush() error { return p.out.Flush() }

// write prints one event as a header line and, for SIP, the message with
// CRLFs normalised so terminals show it line by line.
func (p *Printer) write(ev *capture.Event) {
	out := p.out
	ts := ev.Time.In(p.o.Location).Format("2006-01-02 15:04:05.000000")
	fmt.Fprintf(out, "%s %s %s %s -> %s", ev.Kind, ev.Transport, ts, ev.Src, ev.Dst)
	if len(p.o.Names) > 1 && ev.Source >= 0 && ev.Source < len(p.o.Names) {
		fmt.Fprintf(out, " [%s]", p.o.Names[ev.Source])
	}
	fmt.Fprintf(out, " #%d", ev.Packet.Number)
	if ev.VLAN != 0 {
		fmt.Fprintf(out, " vlan %d", ev.VLAN)
	}
	if ev.Tunnel {
		out.WriteString(" tunnel")
	}
	out.WriteByte('\n')
	switch ev.Kind {
	case capture.KindSIP:
		WriteText(out, ev.Payload)
		if n := len(ev.Payload); n == 0 || ev.Payload[n-1] != '\n' {
			out.WriteByte('\n')
		}
		out.WriteByte('\n')
	case capture.KindRTP:
		h := &ev.RTP
		fmt.Fprintf(out, "  ssrc=0x%08x pt=%d seq=%d ts=%d marker=%t len=%d\n", h.SSRC, h.PayloadType, h.SequenceNumber, h.Timestamp, h.Marker, len(ev.Payload))
	default:
		fmt.Fprintf(out, "  %d bytes\n", len(ev.Payload))
	}
}

// WriteText writes text from the wire for a terminal: CRLF becomes LF,
// tabs and line feeds stay, every other control character and invalid
// UTF-8 is shown as an escape (safetext.Block), so a message cannot move
// the cursor, change colours, retitle the window or write the clipboard.
func WriteText(w *bufio.Writer, b []byte) {
	var buf [512]byte
	for len(b) > 0 {
		n := min(len(b), 256)
		// Do not split a CRLF or a UTF-8 sequence between chunks.
		for n < len(b) && n > 0 && (b[n-1] == '\r' || !utf8.RuneStart(b[n])) {
			n--
		}
		if n == 0 {
			n = min(len(b), 256)
		}
		w.Write(safetext.AppendBlock(buf[:0], b[:n]))
		b = b[n:]
	}
}
