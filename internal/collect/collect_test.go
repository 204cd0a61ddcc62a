package collect

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

const invite = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
	"From: <sip:alice@example.com>;tag=a\r\nTo: <sip:bob@example.com>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"

func TestCollector(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	recv := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	peer := netip.MustParseAddrPort("127.0.0.1:40000")
	sipPkt := hep.Packet{Protocol: 17, Src: src, Dst: dst, Time: t0, ProtoType: hep.ProtoSIP, Payload: []byte(invite)}
	zipped := sipPkt
	zipped.Time = t0.Add(time.Second)
	if err := zipped.Compress(nil, hep.Zlib); err != nil {
		t.Fatal(err)
	}
	noTime := sipPkt
	noTime.Time = time.Time{}
	logPkt := hep.Packet{ProtoType: hep.ProtoLog, Time: t0, Payload: []byte("agent log"), CorrelationID: []byte("call-1")}
	broken := hep.Packet{ProtoType: hep.ProtoSIP, Compressed: true, Payload: []byte{0x1f, 0x8b, 1}}
	noAddr := hep.Packet{ProtoType: hep.ProtoSIP, Time: t0, Payload: []byte("OPTIONS sip:\x1b]0;title\x07 SIP/2.0\r\n\r\n")}

	var file, log bytes.Buffer
	out, err := sink.NewPcap(&file, sink.PcapOptions{Format: sink.FormatPcap})
	if err != nil {
		t.Fatal(err)
	}
	frames := sink.NewFrames(out, frame.Options{})
	eng := engine.New(engine.Options{})
	c := New(Options{Engine: eng, Save: frames, Log: &log, Now: func() time.Time { return recv }})
	for _, p := range []hep.Packet{sipPkt, zipped, noTime, logPkt, broken, noAddr} {
		c.Handle(&p, peer)
	}
	if err := frames.Close(); err != nil || c.Err() != nil {
		t.Fatal(err, c.Err())
	}
	if st := c.Stats(); st != (Stats{Packets: 6, SIP: 4, Reports: 1, UnwrapErrors: 1}) {
		t.Errorf("stats %+v", st)
	}
	if fc := frames.Counts(); fc.Written != 3 || fc.Failed != 1 {
		t.Errorf("frames %+v", fc)
	}
	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	want := []string{
		"2026-01-01 10:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 (from 127.0.0.1:40000) INVITE sip:bob@example.com SIP/2.0  call-1",
		"2026-01-01 10:00:01.000000 10.0.0.1:5060 -> 10.0.0.2:5060 (from 127.0.0.1:40000) INVITE sip:bob@example.com SIP/2.0  call-1",
		"2026-06-01 00:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 (from 127.0.0.1:40000) INVITE sip:bob@example.com SIP/2.0  call-1",
		"2026-01-01 10:00:00.000000 invalid AddrPort -> invalid AddrPort (from 127.0.0.1:40000) OPTIONS sip:\\x1b]0;title\\x07 SIP/2.0  ", // cleaned for the terminal
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	// The engine holds the call, its three copies of the INVITE (the
	// listener's dedup is not ours to do) and the LOG report.
	d, ok := eng.Call("call-1")
	if !ok || len(d.Messages) != 3 {
		t.Fatalf("engine call: %v, %d messages", ok, len(d.Messages))
	}
	if s := eng.Status(); s.Engine.HEPAttached != 1 || s.Engine.HEP != 5 {
		t.Errorf("engine counters %+v", s.Engine)
	}
	// The saved frames decode back to the same SIP with the agent's times.
	r, err := pcap.NewReader(&file, "saved")
	if err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	_, err = capture.Run(context.Background(), []capture.Source{r}, capture.Options{}, nil, func(ev *capture.Event) error {
		if ev.Kind != capture.KindSIP || ev.Src != src || ev.Dst != dst || string(ev.Payload) != invite {
			t.Errorf("read back %v %v -> %v %q", ev.Kind, ev.Src, ev.Dst, ev.Payload)
		}
		times = append(times, ev.Time)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(times) != 3 || !times[0].Equal(t0) || !times[1].Equal(t0.Add(time.Second)) || !times[2].Equal(recv) {
		t.Errorf("saved times %v", times)
	}
	if n := len(eng.Calls(sipflow.Filter{}, 0, -1)); n != 1 {
		t.Errorf("%d calls", n)
	}
}

// A collector's -w file holds every saved message as soon as it was
// handled, without a Close: a SIGKILL loses at most the record being
// written.
func TestSavedMessagesReachTheFileAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "live.pcap")
	out, err := sink.CreatePcap(path, sink.PcapOptions{Direct: true})
	if err != nil {
		t.Fatal(err)
	}
	frames := sink.NewFrames(out, frame.Options{})
	defer frames.Close()
	c := New(Options{Engine: engine.New(engine.Options{}), Save: frames})
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		p := hep.Packet{Protocol: 17, Src: src, Dst: dst, Time: t0.Add(time.Duration(i) * time.Second), ProtoType: hep.ProtoSIP, Payload: []byte(invite)}
		c.Handle(&p, netip.MustParseAddrPort("127.0.0.1:40000"))
	}
	r, err := pcap.Open(path) // the file as another process would see it now
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		if _, _, err := r.Next(); err != nil {
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d records on disk before Close, want 3", n)
	}
}
