package sink

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/sipflow"
)

// DefaultFlushTimeout bounds how long HEP.Close waits for queued packets.
const DefaultFlushTimeout = 10 * time.Second

// HEPOptions configure a HEP sink; with Sender.To set, the zero value of
// the rest forwards SIP with the capture time.
type HEPOptions struct {
	Sender heptransport.SenderOptions
	// Kinds are the events sent: capture.KindSIP as HEP SIP, and
	// capture.KindRTCP as HOMER's RTCP-JSON (type 5). nil: SIP only.
	Kinds []capture.Kind
	// Store, when set, names calls for the correlation id: an RTCP
	// report carries the Call-ID whose SDP announced its media, and with
	// CorrelateLegs a SIP message carries the Call-ID of the first leg
	// linked to its call.
	Store         *sipflow.Store
	CorrelateLegs bool
	// Restamp sends the time of sending instead of the capture time.
	Restamp bool
	// FlushTimeout bounds Close's wait for queued packets
	// (0: DefaultFlushTimeout).
	FlushTimeout time.Duration
}

// HEP sends events to HEP collectors through a heptransport.Sender it
// owns: StartHEP starts the sender's goroutine, Close flushes (bounded)
// and stops it. WriteEvent is called from one goroutine (the pipeline's);
// Counts and Targets may be read from any.
type HEP struct {
	o      HEPOptions
	snd    *heptransport.Sender
	want   [8]bool
	cancel context.CancelFunc
	wg     sync.WaitGroup
	runErr error

	mu         sync.Mutex
	counts     Counts
	encodeErr  error  // the first packet that could not be encoded
	unsendable uint64 // of Failed, those not encodable (the rest: full queues)
	closed     bool
}

// StartHEP builds the sender and starts it.
func StartHEP(o HEPOptions) (*HEP, error) {
	snd, err := heptransport.NewSender(o.Sender)
	if err != nil {
		return nil, err
	}
	if o.FlushTimeout <= 0 {
		o.FlushTimeout = DefaultFlushTimeout
	}
	h := &HEP{o: o, snd: snd}
	if o.Kinds == nil {
		h.want[capture.KindSIP] = true
	}
	for _, k := range o.Kinds {
		if int(k) < len(h.want) {
			h.want[k] = true
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		h.runErr = snd.Run(ctx)
	}()
	return h, nil
}

// Wants reports whether events of kind k are sent (a pacing caller asks
// before waiting for a packet the sink would skip).
func (h *HEP) Wants(k capture.Kind) bool { return int(k) < len(h.want) && h.want[k] }

// WriteEvent queues ev for every target when its kind is wanted (others
// are Skipped). A full queue and a packet that cannot be encoded are
// counted as Failed and do not stop the pipeline; the first encoding
// error is returned by Close. It returns ErrClosed after Close.
func (h *HEP) WriteEvent(ev *capture.Event) error {
	if !h.Wants(ev.Kind) {
		h.count(func(c *Counts) { c.Skipped++ })
		return nil
	}
	var p hep.Packet
	switch ev.Kind {
	case capture.KindSIP:
		p = heptransport.SIPPacket(ev.Payload, ev.Src, ev.Dst, ev.Time, IPProto(ev.Transport))
		if h.o.Store != nil && h.o.CorrelateLegs {
			if id, ok := relatedLeg(h.o.Store, ev.Payload); ok {
				p.CorrelationID = []byte(id)
			}
		}
	case capture.KindRTCP:
		var id []byte
		if h.o.Store != nil {
			id = []byte(mediaCall(h.o.Store, ev.Src, ev.Dst))
		}
		var err error
		if p, err = heptransport.RTCPJSONPacket(ev.Payload, ev.Src, ev.Dst, ev.Time, id); err != nil {
			h.count(func(c *Counts) { c.Failed++; h.unsendable++ }) // not RTCP pion can parse
			return nil
		}
	default:
		h.count(func(c *Counts) { c.Skipped++ })
		return nil
	}
	if h.o.Restamp {
		p.Time = time.Now()
	}
	err := h.snd.Send(&p)
	switch {
	case err == nil:
		h.count(func(c *Counts) { c.Written++ })
	case errors.Is(err, heptransport.ErrClosed):
		return ErrClosed
	default:
		// A full queue is a counted drop (per target in Targets);
		// anything else means the packet cannot be encoded.
		h.mu.Lock()
		h.counts.Failed++
		if !errors.Is(err, heptransport.ErrQueueFull) {
			h.unsendable++
			if h.encodeErr == nil {
				h.encodeErr = err
			}
		}
		h.mu.Unlock()
	}
	return nil
}

func (h *HEP) count(f func(*Counts)) {
	h.mu.Lock()
	f(&h.counts)
	h.mu.Unlock()
}

// Counts returns what was handed to the sender (Written), what was not
// for it (Skipped), and what it refused (Failed).
func (h *HEP) Counts() Counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.counts
}

// Targets returns the sender's counters per collector.
func (h *HEP) Targets() []heptransport.TargetStats { return h.snd.Stats() }

// Close waits (at most FlushTimeout) for what is queued to go out and be
// acknowledged, stops the sender and waits for it. What is left then is
// saved to the spool when there is one, else counted (the targets'
// SavedAtExit, Unconfirmed, UnsentAtExit). It returns the first encoding
// error, a flush that timed out (naming what was left), or the sender's
// error.
func (h *HEP) Close() error { return h.CloseContext(context.Background()) }

// CloseContext is Close with a wait that ctx may also cut short (a second
// Ctrl-C): the sender then stops at once, and what is left is saved or
// counted just the same.
func (h *HEP) CloseContext(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, h.o.FlushTimeout)
	flushErr := h.snd.Flush(ctx)
	cancel()
	h.cancel()
	h.wg.Wait()
	var errs []error
	if h.encodeErr != nil {
		errs = append(errs, fmt.Errorf("sink: hep: %w", h.encodeErr))
	}
	if flushErr != nil {
		errs = append(errs, fmt.Errorf("sink: hep: not everything was delivered: %w", flushErr))
	}
	if h.runErr != nil && !errors.Is(h.runErr, context.Canceled) {
		errs = append(errs, h.runErr)
	}
	return errors.Join(errs...)
}

// Summary is the one-line state of the forwarder for a header: what went
// out, what waits, what was lost (queue drops, UDP send errors, refusals).
func (h *HEP) Summary() string {
	var sent, dropped, lost uint64
	queued := 0
	for _, t := range h.snd.Stats() {
		sent += t.Sent
		queued += t.Queued
		dropped += t.Dropped
		lost += t.LostUDP + t.UnsentAtExit
	}
	h.mu.Lock()
	refused := h.unsendable // queue drops are already in the targets' Dropped
	h.mu.Unlock()
	return fmt.Sprintf("hep sent %d queued %d dropped %d", sent, queued, dropped+lost+refused)
}

// relatedLeg is the Call-ID of the first leg linked to the message's
// call, if the store linked one.
func relatedLeg(st *sipflow.Store, raw []byte) (string, bool) {
	var m sipflow.Message
	if m.Unmarshal(raw) != nil || len(m.CallID) == 0 {
		return "", false
	}
	sum, ok := st.Summary(string(m.CallID))
	if !ok || len(sum.Legs) == 0 {
		return "", false
	}
	return sum.Legs[0].CallID, true
}

// mediaCall is the Call-ID whose SDP announced either end of an RTCP
// flow (its RTCP port, or the RTP port below it).
func mediaCall(st *sipflow.Store, src, dst netip.AddrPort) string {
	for _, ap := range []netip.AddrPort{dst, src} {
		if id, ok := st.CallForMedia(ap); ok {
			return id
		}
		if ap.Port() > 0 {
			if id, ok := st.CallForMedia(netip.AddrPortFrom(ap.Addr(), ap.Port()-1)); ok {
				return id
			}
		}
	}
	return ""
}
