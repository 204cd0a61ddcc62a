package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/fixup"
	livecap "github.com/voiptool/voiptool/capture/live"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// recSender keeps the frames a frame replay sends.
type recSender struct {
	frames [][]byte
	st     livecap.InjectStats
}

func (s *recSender) Send(b []byte) error {
	s.frames = append(s.frames, append([]byte(nil), b...))
	s.st.Sent++
	s.st.Bytes += uint64(len(b))
	return nil
}

func (s *recSender) Stats() livecap.InjectStats { return s.st }

type sentEvent struct {
	capture.Event
	frame []byte
}

// decodeFrames decodes sent Ethernet frames with the project's decoder.
func decodeFrames(t *testing.T, frames [][]byte) []sentEvent {
	t.Helper()
	d := capture.NewDecoder(capture.Options{})
	var out []sentEvent
	emit := func(ev *capture.Event) {
		e := *ev
		e.Payload = append([]byte(nil), ev.Payload...)
		e.Record = nil
		out = append(out, sentEvent{e, frames[ev.Packet.Number-1]})
	}
	base := time.Unix(1700000000, 0)
	for i, f := range frames {
		p := pcap.Packet{Timestamp: base.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f),
			LinkType: pcap.LinkTypeEthernet, Number: i + 1}
		if err := d.Decode(f, p, emit); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
	}
	d.Flush(emit)
	return out
}

// validSums: recomputing the lengths and checksums of the frame changes
// nothing (fixup leaves a valid record as it was).
func validSums(t *testing.T, e sentEvent) {
	t.Helper()
	c := append([]byte(nil), e.frame...)
	if err := fixup.Fix(c, &e.Layers, 0); err != nil {
		t.Fatalf("frame %d: %v", e.Packet.Number, err)
	}
	if !bytes.Equal(c, e.frame) {
		t.Errorf("frame %d: a length or checksum was wrong", e.Packet.Number)
	}
}

var (
	macA = net.HardwareAddr{2, 0, 0, 0, 0, 0xa}
	macB = net.HardwareAddr{2, 0, 0, 0, 0, 0xb}
)

// TestFramesMapAndMACs: --map moves addresses and ports in both
// directions, MACs are set, every payload goes out unchanged with valid
// checksums.
func TestFramesMapAndMACs(t *testing.T) {
	maps := []Map{{From: ap("10.0.0.1:0"), To: ap("10.9.0.1:0")}, {From: ap("192.168.1.10:5060"), To: ap("192.168.7.7:5070")}}
	s := &recSender{}
	sum, err := runFrames(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, Loops: 1, Maps: maps,
		SrcMAC: macA, DstMAC: macB}, nil, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	orig := original(t, "basic-call.pcap")
	got := decodeFrames(t, s.frames)
	if len(got) != len(orig) || len(s.frames) != len(orig) {
		t.Fatalf("%d frames, %d payloads decoded, capture has %d", len(s.frames), len(got), len(orig))
	}
	f := sum.Frames
	if f == nil || f.Sent != uint64(len(orig)) || f.Records != int64(len(orig)) || f.Rewritten != int64(len(orig)) || sum.Counts.Sent != int64(len(orig)) {
		t.Fatalf("summary %+v %+v", sum.Counts, f)
	}
	for i, e := range got {
		o := orig[i]
		if e.Kind != o.Kind || !bytes.Equal(e.Payload, o.Payload) {
			t.Fatalf("frame %d: %v payload differs from the capture's %v", i+1, e.Kind, o.Kind)
		}
		if ws, wd := mapEndpoint(maps, o.Src, true), mapEndpoint(maps, o.Dst, true); e.Src != ws || e.Dst != wd {
			t.Errorf("frame %d: %v -> %v, want %v -> %v", i+1, e.Src, e.Dst, ws, wd)
		}
		if !bytes.Equal(e.frame[0:6], macB) || !bytes.Equal(e.frame[6:12], macA) {
			t.Errorf("frame %d: MACs %x", i+1, e.frame[:12])
		}
		validSums(t, e)
	}
}

// TestFramesBuildEthernet: a Linux cooked capture gets Ethernet headers
// (the cooked header's own address as source); without --dst-mac it is
// refused with a message naming the file and link type.
func TestFramesBuildEthernet(t *testing.T) {
	for _, name := range []string{"link-sll.pcap", "link-raw101.pcap", "link-sll2.pcap", "link-null.pcap"} {
		t.Run(name, func(t *testing.T) {
			s := &recSender{}
			sum, err := runFrames(context.Background(), Options{Files: []string{pcapPath(name)}, Loops: 1, DstMAC: macB}, nil, s, macA, nil)
			if err != nil {
				t.Fatal(err)
			}
			orig := original(t, name)
			got := decodeFrames(t, s.frames)
			if len(got) != len(orig) || sum.Frames.Synthesised != int64(len(s.frames)) || len(s.frames) == 0 {
				t.Fatalf("%d payloads from %d frames, capture has %d; %+v", len(got), len(s.frames), len(orig), sum.Frames)
			}
			for i, e := range got {
				if e.Src != orig[i].Src || e.Dst != orig[i].Dst || !bytes.Equal(e.Payload, orig[i].Payload) {
					t.Fatalf("frame %d differs from the capture", i+1)
				}
				if !bytes.Equal(e.frame[0:6], macB) || bytes.Equal(e.frame[6:12], make([]byte, 6)) {
					t.Errorf("frame %d: MACs %x", i+1, e.frame[:12])
				}
				validSums(t, e)
			}
		})
	}
	_, err := runFrames(context.Background(), Options{Files: []string{pcapPath("link-sll.pcap")}, Loops: 1}, nil, &recSender{}, macA, nil)
	if !errors.Is(err, ErrLinkType) {
		t.Fatalf("no --dst-mac: %v", err)
	}
	t.Log(err)
}

// TestFramesOwnAddressRefused: an interface owning an address of the
// capture is refused, unless --force or a map moves the address away.
func TestFramesOwnAddressRefused(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("10.0.0.1")}
	o := Options{Files: []string{pcapPath("basic-call.pcap")}, Loops: 1, Speed: 0}
	s := &recSender{}
	if _, err := runFrames(context.Background(), o, nil, s, macA, own); !errors.Is(err, ErrOwnAddress) || len(s.frames) != 0 {
		t.Fatalf("own address: %v, %d frames sent", err, len(s.frames))
	}
	o.Force = true
	if _, err := runFrames(context.Background(), o, nil, s, macA, own); err != nil || len(s.frames) == 0 {
		t.Fatalf("--force: %v, %d frames", err, len(s.frames))
	}
	o.Force, o.Maps = false, []Map{{From: ap("10.0.0.1:0"), To: ap("10.9.0.1:0")}}
	if _, err := runFrames(context.Background(), o, nil, &recSender{}, macA, own); err != nil {
		t.Fatalf("mapped away: %v", err)
	}
	// a map onto the interface's address is refused too
	o.Maps = []Map{{From: ap("192.168.1.10:0"), To: ap("10.0.0.1:0")}, {From: ap("10.0.0.1:0"), To: ap("10.9.0.1:0")}}
	if _, err := runFrames(context.Background(), o, nil, &recSender{}, macA, own); !errors.Is(err, ErrOwnAddress) {
		t.Fatalf("mapped onto the interface: %v", err)
	}
}

// TestFramesSelectSideAndNewRTP: with a call and a side selected only the
// caller's frames leave (the rest counted), and --new-rtp renumbers RTP
// in the frames with valid checksums.
func TestFramesSelectSideAndNewRTP(t *testing.T) {
	s := &recSender{}
	sum, err := runFrames(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, Loops: 1,
		CallIDs: []string{basicCallID}, Side: SideCaller, NewRTP: true}, nil, s, macA, nil)
	if err != nil {
		t.Fatal(err)
	}
	caller := netip.MustParseAddr("192.168.1.10")
	ssrcs := map[uint32]bool{}
	var callerEvents int
	for _, e := range original(t, "basic-call.pcap") {
		if e.Kind == capture.KindRTP {
			ssrcs[e.RTP.SSRC] = true
		}
		var m sipflow.Message
		inCall := e.Kind != capture.KindSIP || m.Unmarshal(e.Payload) == nil && string(m.CallID) == basicCallID
		if e.Src.Addr() == caller && inCall {
			callerEvents++
		}
	}
	got := decodeFrames(t, s.frames)
	rtp := 0
	for _, e := range got {
		if e.Src.Addr() != caller {
			t.Fatalf("frame %d from %v: not the caller's", e.Packet.Number, e.Src)
		}
		if e.Kind == capture.KindRTP {
			rtp++
			if ssrcs[e.RTP.SSRC] {
				t.Errorf("frame %d keeps the captured SSRC %08x", e.Packet.Number, e.RTP.SSRC)
			}
		}
		validSums(t, e)
	}
	f := sum.Frames
	if len(got) != callerEvents || rtp == 0 || f.NotSelected != f.Records-int64(len(got)) || sum.Counts.RTCPRewritten == 0 {
		t.Fatalf("%d frames (%d RTP), caller sent %d; %+v %+v", len(got), rtp, callerEvents, f, sum.Counts)
	}
}

// TestFramesSummaryTiming: a paced frame replay measures the departure
// error of every frame and reports it in the text and JSON summaries,
// with the frame counters.
func TestFramesSummaryTiming(t *testing.T) {
	s := &recSender{}
	// 1000x: the 5.7 s call in under 6 ms
	sum, err := runFrames(context.Background(), Options{Files: []string{pcapPath("basic-call.pcap")}, Loops: 2, Speed: 1000}, nil, s, macA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Lateness.Count != 750 || sum.Runs != 2 || len(s.frames) != 750 {
		t.Fatalf("%d departures measured, %d runs, %d frames", sum.Lateness.Count, sum.Runs, len(s.frames))
	}
	var text, js bytes.Buffer
	if err := WriteSummary(&text, sum, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "timing error: p50") || !strings.Contains(text.String(), "750 of 750 records sent") {
		t.Fatalf("text summary:\n%s", text.String())
	}
	if err := WriteSummary(&js, sum, "json"); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Timing Timing `json:"timing_error_us"`
		Frames struct {
			Sent    uint64 `json:"sent"`
			Records int64  `json:"records"`
			Dropped uint64 `json:"dropped_no_room"`
		} `json:"frames"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Timing.Count != 750 || back.Frames.Sent != 750 || back.Frames.Records != 750 {
		t.Fatalf("JSON summary: %s", js.String())
	}
}

type nopSender struct{ st livecap.InjectStats }

func (s *nopSender) Send(b []byte) error        { s.st.Sent++; return nil }
func (s *nopSender) Stats() livecap.InjectStats { return s.st }

// framePath is a frame replayer (--new-rtp, a map, a MAC) with no pacing
// and a sender that discards, and an RTP record of basic-call.pcap.
func framePath(tb testing.TB) (*frameReplayer, *nopSender, capture.Event, []byte) {
	tb.Helper()
	r0, err := pcap.Open(pcapPath("basic-call.pcap"))
	if err != nil {
		tb.Fatal(err)
	}
	defer r0.Close()
	var ev capture.Event
	var rec []byte
	errFound := errors.New("found")
	capture.Run(context.Background(), []capture.Source{r0}, capture.Options{}, nil, func(e *capture.Event) error {
		if e.Kind != capture.KindRTP || e.Record == nil {
			return nil
		}
		ev, rec = *e, append([]byte(nil), e.Record...)
		return errFound
	})
	ev.Payload = rec[ev.Layers.Payload:]
	ev.Record = nil
	o := &Options{Maps: []Map{{From: ap("10.0.0.1:0"), To: ap("10.9.0.1:0")}}, NewRTP: true, DstMAC: macB, Window: 16}
	r := &replayer{o: o, pacer: pace.New(pace.Options{}), media: map[netip.AddrPort]mediaRef{}, streams: map[uint32]*rtpBase{}}
	s := &nopSender{}
	return &frameReplayer{replayer: r, ctx: context.Background(), inj: s, ifMAC: macA}, s, ev, rec
}

// TestFramePathAllocs: a record through the window, with --new-rtp, a map
// and a MAC rewrite, costs no allocation once the buffers exist.
func TestFramePathAllocs(t *testing.T) {
	f, s, ev, rec := framePath(t)
	n := testing.AllocsPerRun(200, func() {
		f.record(0, ev.Packet, rec)
		if err := f.event(&ev); err != nil {
			t.Fatal(err)
		}
		f.drain(true)
	})
	if n != 0 {
		t.Fatalf("allocs per frame = %v", n)
	}
	if s.st.Sent != 201 || f.fc.Rewritten != 201 {
		t.Fatalf("sent %d, rewritten %d", s.st.Sent, f.fc.Rewritten)
	}
}

// BenchmarkFramePath is the unpaced cost of one RTP frame without the
// send: window, selection, new bases, map, checksums.
func BenchmarkFramePath(b *testing.B) {
	f, _, ev, rec := framePath(b)
	b.ReportAllocs()
	for b.Loop() {
		f.record(0, ev.Packet, rec)
		if err := f.event(&ev); err != nil {
			b.Fatal(err)
		}
		f.drain(true)
	}
}

// TestFramesStopOnCancel: Ctrl-C stops a frame replay at once, with the
// summary of what was sent and the progress reports.
func TestFramesStopOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var progress []Progress
	start := time.Now()
	s := &recSender{}
	sum, err := runFrames(ctx, Options{Files: []string{pcapPath("basic-call.pcap")}, Speed: 1, Loops: 0,
		Progress: func(p Progress) { progress = append(progress, p) }, ProgressEvery: 50 * time.Millisecond}, nil, s, macA, nil)
	if err != nil || !sum.Cancelled {
		t.Fatalf("err %v cancelled %v", err, sum.Cancelled)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopped after %s", d)
	}
	if n := len(s.frames); n == 0 || n >= 375 || sum.Frames.Sent != uint64(n) || sum.Counts.Sent != int64(n) {
		t.Errorf("%d frames sent before the cancel, summary %+v", n, sum.Frames)
	}
	if len(progress) < 2 || progress[len(progress)-1].Sent != int64(len(s.frames)) {
		t.Errorf("progress %+v", progress)
	}
}

// TestFramesUnclassified: records without a VoIP payload (the TCP
// handshake and bare ACKs around SIP over TCP) go out as captured and
// are counted when nothing is selected; --only-voip leaves them out and
// counts them; the summary says both.
func TestFramesUnclassified(t *testing.T) {
	const records, sip = 10, 5 // tcp-multi-message.pcap: SYN, SYN-ACK, three ACKs and five SIP segments
	for _, only := range []bool{false, true} {
		s := &recSender{}
		sum, err := runFrames(context.Background(), Options{Files: []string{pcapPath("tcp-multi-message.pcap")}, Loops: 1, OnlyVoIP: only}, nil, s, macA, nil)
		if err != nil {
			t.Fatal(err)
		}
		f := sum.Frames
		var text bytes.Buffer
		if err := WriteSummary(&text, sum, "text"); err != nil {
			t.Fatal(err)
		}
		if only {
			if len(s.frames) != sip || f.SkippedUnclassified != records-sip || f.Unclassified != 0 {
				t.Fatalf("--only-voip: %d frames sent, counts %+v", len(s.frames), f)
			}
			if !strings.Contains(text.String(), "5 without a VoIP payload (--only-voip)") {
				t.Fatalf("summary:\n%s", text.String())
			}
		} else {
			if len(s.frames) != records || f.Unclassified != records-sip || f.SkippedUnclassified != 0 {
				t.Fatalf("%d frames sent, counts %+v", len(s.frames), f)
			}
			if !strings.Contains(text.String(), "sent as captured: 5 (--only-voip leaves them out)") {
				t.Fatalf("summary:\n%s", text.String())
			}
		}
		var sipSeen int
		for _, e := range decodeFrames(t, s.frames) {
			if e.Kind == capture.KindSIP {
				sipSeen++
			}
		}
		if sipSeen == 0 {
			t.Fatalf("only-voip=%v: no SIP in the frames sent", only)
		}
		if f.Records != records || f.NotSelected != 0 || f.NoHeaders != 0 {
			t.Fatalf("only-voip=%v: %+v", only, f)
		}
	}
	// With a call selected, the unclassified records are not selected,
	// as before, whatever --only-voip says.
	s := &recSender{}
	sum, err := runFrames(context.Background(), Options{Files: []string{pcapPath("tcp-multi-message.pcap")}, Loops: 1, Side: SideCaller}, nil, s, macA, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := sum.Frames; f.Unclassified != 0 || f.SkippedUnclassified != 0 || f.NotSelected < records-sip {
		t.Fatalf("side selected: %+v", f)
	}
}
