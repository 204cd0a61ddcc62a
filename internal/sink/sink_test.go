package sink

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/frame"
	"github.com/voiptool/voiptool/pcap"
)

var testdata = filepath.Join("..", "..", "testdata", "pcaps")

// readAll returns every record of a file with its interface's link type.
func readAll(t *testing.T, path string) (recs []pcap.Packet, data [][]byte, kind pcap.Kind, ifaces int) {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		d, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
		data = append(data, append([]byte(nil), d...))
	}
	return recs, data, r.Format().Kind, len(r.Interfaces())
}

func TestFormatFor(t *testing.T) {
	for name, want := range map[string]Format{"a.pcap": FormatPcap, "A.PCAP": FormatPcap, "x.cap": FormatPcap, "a.pcapng": FormatPcapNG, "out": FormatPcapNG} {
		if got := FormatFor(name); got != want {
			t.Errorf("FormatFor(%q) = %d, want %d", name, got, want)
		}
	}
}

// TestPcapRoundTrip copies two captures of different link types through
// a Pcap sink: pcapng gets one interface per source, the records come
// back byte for byte; classic pcap refuses the second link type.
func TestPcapRoundTrip(t *testing.T) {
	inputs := []string{filepath.Join(testdata, "basic-call.pcap"), filepath.Join(testdata, "link-sll.pcap")}
	dir := t.TempDir()
	for _, out := range []string{"out.pcapng", "out.pcap"} {
		path := filepath.Join(dir, out)
		s, err := CreatePcap(path, PcapOptions{Application: "test"})
		if err != nil {
			t.Fatal(err)
		}
		var want [][]byte
		var mixedErr error
		for src, in := range inputs {
			recs, data, _, _ := readAll(t, in)
			for i := range recs {
				if err := s.WriteRecord(src, recs[i], data[i]); err != nil {
					mixedErr = err
					break
				}
				want = append(want, data[i])
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		got, data, kind, ifaces := readAll(t, path)
		switch out {
		case "out.pcapng":
			if mixedErr != nil || kind != pcap.FormatPcapng || ifaces != 2 {
				t.Errorf("%s: err %v, kind %v, %d interfaces", out, mixedErr, kind, ifaces)
			}
		case "out.pcap":
			if !errors.Is(mixedErr, ErrMixedLinkTypes) || kind != pcap.FormatPcap {
				t.Errorf("%s: err %v, kind %v", out, mixedErr, kind)
			}
		}
		if len(got) != len(want) || s.Counts().Written != uint64(len(want)) {
			t.Fatalf("%s: %d records back, %d written (%+v)", out, len(got), len(want), s.Counts())
		}
		for i := range want {
			if string(data[i]) != string(want[i]) {
				t.Fatalf("%s: record %d differs", out, i+1)
			}
		}
	}
}

func TestPcapEmptyClassic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.pcap")
	s, err := CreatePcap(path, PcapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if recs, _, kind, _ := readAll(t, path); len(recs) != 0 || kind != pcap.FormatPcap {
		t.Errorf("empty file: %d records, kind %v", len(recs), kind)
	}
	if err := s.WriteRecord(0, pcap.Packet{}, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
}

// TestRecordsOncePerRecord: tcp-multi-message.pcap carries several SIP
// messages in one segment; each record is written once.
func TestRecordsOncePerRecord(t *testing.T) {
	r, err := pcap.Open(filepath.Join(testdata, "tcp-multi-message.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	path := filepath.Join(t.TempDir(), "out.pcapng")
	file, err := CreatePcap(path, PcapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	recs := NewRecords(file)
	frames := map[int]bool{}
	events := 0
	_, err = capture.Run(context.Background(), []capture.Source{r}, capture.Options{}, nil, func(ev *capture.Event) error {
		if ev.Kind != capture.KindSIP {
			return nil
		}
		events++
		frames[ev.Packet.Number] = true
		return recs.WriteEvent(ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := recs.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, _, _ := readAll(t, path)
	c := recs.Counts()
	if events <= len(frames) || len(got) != len(frames) || c.Written != uint64(len(frames)) || c.Written+c.Skipped != uint64(events) {
		t.Errorf("%d events in %d records: file holds %d, counts %+v", events, len(frames), len(got), c)
	}
}

// TestFramesReadBack frames events and decodes the file again: the same
// payloads, addresses, transports and times come out.
func TestFramesReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.pcap")
	file, err := CreatePcap(path, PcapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFrames(file, frame.Options{})
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	in := []capture.Event{
		{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: t0, Src: ap("10.0.0.1:5060"), Dst: ap("10.0.0.2:5060"), Payload: []byte("OPTIONS sip:a SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")},
		{Kind: capture.KindSIP, Transport: capture.TransportTCP, Time: t0.Add(time.Second), Src: ap("[2001:db8::1]:5060"), Dst: ap("[2001:db8::2]:5060"), Payload: []byte("OPTIONS sip:b SIP/2.0\r\nCall-ID: 2\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")},
		{Kind: capture.KindSIP, Transport: capture.TransportTCP, Time: t0.Add(2 * time.Second), Src: ap("[2001:db8::1]:5060"), Dst: ap("[2001:db8::2]:5060"), Payload: []byte("OPTIONS sip:c SIP/2.0\r\nCall-ID: 3\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")},
		{Kind: capture.KindSIP, Time: t0, Payload: []byte("no addresses")},
	}
	for i := range in {
		if err := f.WriteEvent(&in[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if c := f.Counts(); c.Written != 3 || c.Failed != 1 {
		t.Errorf("counts %+v", c)
	}
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []capture.Event
	_, err = capture.Run(context.Background(), []capture.Source{r}, capture.Options{}, nil, func(ev *capture.Event) error {
		e := *ev
		e.Payload = append([]byte(nil), ev.Payload...)
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("read back %d events, want 3", len(got))
	}
	for i := range got {
		w := in[i]
		if got[i].Kind != capture.KindSIP || got[i].Transport != w.Transport || got[i].Src != w.Src || got[i].Dst != w.Dst ||
			!got[i].Time.Equal(w.Time) || string(got[i].Payload) != string(w.Payload) {
			t.Errorf("event %d: got %v %v %v->%v %q", i, got[i].Transport, got[i].Time, got[i].Src, got[i].Dst, got[i].Payload)
		}
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// TestHEPSink sends SIP and RTCP to a loopback listener and checks what
// arrives, and what was skipped and refused.
func TestHEPSink(t *testing.T) {
	l, err := heptransport.NewListener([]string{"udp:127.0.0.1:0"}, heptransport.ListenOptions{AuthKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	type got struct {
		proto hep.ProtoType
		capID uint32
	}
	arrived := make(chan got, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Run(ctx, func(p *hep.Packet, _ netip.AddrPort) {
			select {
			case arrived <- got{p.ProtoType, p.CaptureID}:
			default: // more than the test sends: seen below as a wrong count
			}
		})
	}()
	h, err := StartHEP(HEPOptions{
		Sender: heptransport.SenderOptions{To: l.Addrs(), CaptureID: 7, AuthKey: "k"},
		Kinds:  []capture.Kind{capture.KindSIP, capture.KindRTCP},
	})
	if err != nil {
		t.Fatal(err)
	}
	// An RTCP receiver report with no blocks: V=2, PT=201, length 1, SSRC.
	rr := []byte{0x80, 201, 0, 1, 1, 2, 3, 4}
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	evs := []capture.Event{
		{Kind: capture.KindSIP, Time: t0, Src: ap("10.0.0.1:5060"), Dst: ap("10.0.0.2:5060"), Payload: []byte("OPTIONS sip:a SIP/2.0\r\n\r\n")},
		{Kind: capture.KindRTCP, Time: t0, Src: ap("10.0.0.1:4001"), Dst: ap("10.0.0.2:4001"), Payload: rr},
		{Kind: capture.KindRTCP, Time: t0, Src: ap("10.0.0.1:4001"), Dst: ap("10.0.0.2:4001"), Payload: []byte{1, 2}},
		{Kind: capture.KindRTP, Time: t0, Src: ap("10.0.0.1:4000"), Dst: ap("10.0.0.2:4000"), Payload: []byte{0x80}},
	}
	for i := range evs {
		if err := h.WriteEvent(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if c := h.Counts(); c.Written != 2 || c.Failed != 1 || c.Skipped != 1 {
		t.Errorf("counts %+v", c)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if s := h.Summary(); s != "hep sent 2 queued 0 dropped 1" {
		t.Errorf("summary %q", s)
	}
	if err := h.WriteEvent(&evs[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	var all []got
	for len(all) < 2 {
		select {
		case g := <-arrived:
			all = append(all, g)
		case <-ctx.Done():
			t.Fatalf("collector got %v before the deadline", all)
		}
	}
	cancel()
	wg.Wait()
	if len(arrived) != 0 || all[0] != (got{hep.ProtoSIP, 7}) || all[1] != (got{hep.ProtoRTCPJSON, 7}) {
		t.Errorf("collector got %v and %d more", all, len(arrived))
	}
}
