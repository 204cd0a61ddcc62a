package sink

import (
	"errors"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/pcap"
)

// Frames writes each event's payload as a synthetic Ethernet/IP/UDP or
// TCP frame with the event's addresses and time (listen -w: SIP that
// arrived over HEP has no frame of its own). Events that cannot be framed
// (no addresses, too large) are counted as Failed and skipped.
type Frames struct {
	out    RecordSink
	b      *frame.Builder
	counts Counts
}

// NewFrames frames into out with a frame.Builder of options o.
func NewFrames(out RecordSink, o frame.Options) *Frames {
	return &Frames{out: out, b: frame.NewBuilder(o)}
}

// WriteEvent frames ev.Payload: TCP for TCP and WebSocket transports
// (with a running sequence number per direction), UDP otherwise.
func (f *Frames) WriteEvent(ev *capture.Event) error {
	data, err := f.b.Build(ev.Src, ev.Dst, IPProto(ev.Transport), ev.Time, ev.Payload)
	if err != nil {
		if errors.Is(err, frame.ErrNoAddress) || errors.Is(err, frame.ErrTooLarge) {
			f.counts.Failed++ // this event only; the file goes on
			return nil
		}
		return err
	}
	p := pcap.Packet{Timestamp: ev.Time, CaptureLength: len(data), Length: len(data), LinkType: pcap.LinkTypeEthernet}
	if err := f.out.WriteRecord(ev.Source, p, data); err != nil {
		f.counts.Failed++
		return err
	}
	f.counts.Written++
	return nil
}

// Counts returns what was framed and written.
func (f *Frames) Counts() Counts { return f.counts }

// FrameStats are the frame builder's counters (its TCP sequence table).
func (f *Frames) FrameStats() frame.Stats { return f.b.Stats() }

// Flush writes what the record sink buffers, when it buffers (a file).
func (f *Frames) Flush() error {
	if fl, ok := f.out.(interface{ Flush() error }); ok {
		return fl.Flush()
	}
	return nil
}

// Close closes the record sink.
func (f *Frames) Close() error {
	if f.out == nil {
		return nil
	}
	err := f.out.Close()
	f.out = nil
	return err
}

// IPProto maps a capture transport to the IANA protocol number that HEP
// and IP headers carry: TCP (and WebSocket over it) 6, SCTP 132, else
// UDP 17.
func IPProto(t capture.Transport) uint8 {
	switch t {
	case capture.TransportTCP, capture.TransportWS:
		return 6
	case capture.TransportSCTP:
		return 132
	}
	return 17
}
