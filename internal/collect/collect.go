package collect

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/dump"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// Options configure a Collector; Engine is required.
type Options struct {
	Engine *engine.Engine
	// Save receives every SIP message as an event with the agent's
	// addresses, transport and time (nil: none). After its first error
	// nothing more is saved; Err returns it.
	Save sink.EventSink
	// Log, when set, gets one line per SIP message: time, addresses, the
	// agent, the start line and the Call-ID, cleaned for a terminal.
	Log io.Writer
	// Now is the receive clock, the time of packets that carry none
	// (nil: time.Now).
	Now func() time.Time
}

// Stats count what the collector did with the delivered packets.
type Stats struct {
	Packets      uint64 // delivered by the listener
	SIP          uint64
	Reports      uint64 // LOG, RTCP-JSON and other non-SIP types, given to the engine
	UnwrapErrors uint64 // compressed payloads that did not inflate
}

// Collector handles the packets of one listener, on its dispatcher
// goroutine (the engine's single writer); Stats may be read from any.
type Collector struct {
	o       Options
	unwrap  hep.Unwrapper
	msg     hep.Message
	ev      capture.Event
	sip     sipflow.Message
	log     *bufio.Writer
	saveErr error

	packets, sipN, reports, unwrapErrs atomic.Uint64
}

// New returns a Collector.
func New(o Options) *Collector {
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Collector{o: o}
	if o.Log != nil {
		c.log = bufio.NewWriter(o.Log)
	}
	return c
}

// Handle takes one packet from the listener (fn of Listener.Run). The
// packet aliases the listener's buffer and is not kept.
func (c *Collector) Handle(p *hep.Packet, peer netip.AddrPort) {
	n := c.packets.Add(1) // the n-th packet received stands in for a frame number
	if err := c.unwrap.Unwrap(p, c.o.Now(), &c.msg); err != nil {
		c.unwrapErrs.Add(1)
		return
	}
	m := &c.msg
	rec := pcap.Packet{Number: int(n), Offset: -1}
	c.o.Engine.AddHEPMessage(m, 0, rec)
	if !m.IsSIP() {
		c.reports.Add(1)
		return
	}
	c.sipN.Add(1)
	if c.o.Save != nil && c.saveErr == nil {
		c.ev = capture.Event{Kind: capture.KindSIP, Transport: capture.TransportOf(m.Protocol), Time: m.Time,
			Src: m.Src, Dst: m.Dst, Payload: m.Payload, Packet: rec}
		c.saveErr = c.o.Save.WriteEvent(&c.ev)
		// A collector runs until killed: each message reaches the file
		// at once, so a SIGKILL loses at most the record being written.
		if fl, ok := c.o.Save.(interface{ Flush() error }); ok && c.saveErr == nil {
			c.saveErr = fl.Flush()
		}
	}
	if c.log != nil {
		c.writeLine(m, peer)
	}
}

// writeLine logs "time src -> dst (from agent) start-line  call-id".
func (c *Collector) writeLine(m *hep.Message, peer netip.AddrPort) {
	first := m.Payload
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	first = bytes.TrimSpace(first)
	var callID []byte
	if c.sip.Unmarshal(m.Payload) == nil {
		callID = c.sip.CallID
	}
	w := c.log
	w.WriteString(m.Time.UTC().Format("2006-01-02 15:04:05.000000"))
	w.WriteByte(' ')
	w.WriteString(m.Src.String())
	w.WriteString(" -> ")
	w.WriteString(m.Dst.String())
	w.WriteString(" (from ")
	w.WriteString(peer.String())
	w.WriteString(") ")
	dump.WriteText(w, first)
	w.WriteString("  ")
	dump.WriteText(w, callID)
	w.WriteByte('\n')
	w.Flush()
}

// Stats returns the counters.
func (c *Collector) Stats() Stats {
	return Stats{Packets: c.packets.Load(), SIP: c.sipN.Load(), Reports: c.reports.Load(), UnwrapErrors: c.unwrapErrs.Load()}
}

// Err is the save sink's first error, once Handle is no longer running.
func (c *Collector) Err() error { return c.saveErr }
