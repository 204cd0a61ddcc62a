package sink

import (
	"io"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/pcap"
)

// TestWriteAllocs: writing a record, framing an event and queueing a SIP
// event for HEP allocate nothing per packet once warmed up.
func TestWriteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation budgets are checked without -race (its instrumentation allocates)")
	}
	data := make([]byte, 600)
	rec := pcap.Packet{Timestamp: time.Unix(1700000000, 0), CaptureLength: len(data), Length: len(data), LinkType: pcap.LinkTypeEthernet}
	for _, f := range []Format{FormatPcap, FormatPcapNG} {
		s, err := NewPcap(io.Discard, PcapOptions{Format: f})
		if err != nil {
			t.Fatal(err)
		}
		_ = s.WriteRecord(0, rec, data)
		if n := testing.AllocsPerRun(200, func() { _ = s.WriteRecord(0, rec, data) }); n != 0 {
			t.Errorf("format %d: WriteRecord allocs = %v", f, n)
		}
	}
	out, _ := NewPcap(io.Discard, PcapOptions{})
	fr := NewFrames(out, frame.Options{})
	ev := &capture.Event{Kind: capture.KindSIP, Transport: capture.TransportTCP, Time: rec.Timestamp,
		Src: ap("10.0.0.1:5060"), Dst: ap("10.0.0.2:5060"), Payload: data}
	_ = fr.WriteEvent(ev)
	if n := testing.AllocsPerRun(200, func() { _ = fr.WriteEvent(ev) }); n != 0 {
		t.Errorf("Frames.WriteEvent allocs = %v", n)
	}
	// The sender runs, writing to the discard port; once its queue's
	// slots are warmed, queueing (or a counted drop when the queue is
	// full) allocates nothing.
	h, err := StartHEP(HEPOptions{Sender: heptransport.SenderOptions{To: []string{"udp:127.0.0.1:9"}, QueueSize: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for range 1100 {
		_ = h.WriteEvent(ev)
	}
	if n := testing.AllocsPerRun(200, func() { _ = h.WriteEvent(ev) }); n != 0 {
		t.Errorf("HEP.WriteEvent allocs = %v", n)
	}
}
