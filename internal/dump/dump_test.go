package dump

import (
	"github.com/voiptool/voiptool/rtpstats"

	"bufio"
	"bytes"
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
)

// collect is an EventSink that keeps what it was given.
type collect struct{ evs []capture.Event }

func (c *collect) WriteEvent(ev *capture.Event) error { c.evs = append(c.evs, *ev); return nil }
func (c *collect) Counts() sink.Counts                { return sink.Counts{Written: uint64(len(c.evs))} }
func (c *collect) Close() error                       { return nil }

var t0 = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

func sipEvent(payload string, n int) *capture.Event {
	return &capture.Event{Kind: capture.KindSIP, Transport: capture.TransportUDP, Time: t0,
		Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
		Payload: []byte(payload), Packet: pcap.Packet{Number: n}}
}

func TestPrinter(t *testing.T) {
	invite := "INVITE sip:b@x SIP/2.0\r\nCall-ID: 1\r\n\r\n"
	bye := "BYE sip:b@x SIP/2.0\r\nCall-ID: 1\r\n\r\n"
	rtp := &capture.Event{Kind: capture.KindRTP, Transport: capture.TransportUDP, Time: t0,
		Src: netip.MustParseAddrPort("10.0.0.1:4000"), Dst: netip.MustParseAddrPort("10.0.0.2:4000"),
		Payload: make([]byte, 172), RTP: rtpstats.Fixed{SSRC: 0xabc, PayloadType: 8, SequenceNumber: 7}, Packet: pcap.Packet{Number: 3}}
	re, err := Compile("^bye", true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		o       Options
		want    string
		printed int
		err     error
	}{
		{name: "SIP only by default", o: Options{}, printed: 2,
			want: "SIP UDP 2026-01-01 10:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 #1\nINVITE sip:b@x SIP/2.0\nCall-ID: 1\n\n\n" +
				"SIP UDP 2026-01-01 10:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 #2\nBYE sip:b@x SIP/2.0\nCall-ID: 1\n\n\n"},
		{name: "regex, ignoring case, anchored at lines", o: Options{Regex: re}, printed: 1,
			want: "SIP UDP 2026-01-01 10:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 #2\nBYE sip:b@x SIP/2.0\nCall-ID: 1\n\n\n"},
		{name: "rtp only", o: Options{Kinds: []capture.Kind{capture.KindRTP}}, printed: 1,
			want: "RTP UDP 2026-01-01 10:00:00.000000 10.0.0.1:4000 -> 10.0.0.2:4000 #3\n  ssrc=0x00000abc pt=8 seq=7 ts=0 marker=false len=172\n"},
		{name: "count", o: Options{Kinds: []capture.Kind{0}, Count: 1}, printed: 1, err: ErrEnough,
			want: "SIP UDP 2026-01-01 10:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 #1\nINVITE sip:b@x SIP/2.0\nCall-ID: 1\n\n\n"},
		{name: "source names", o: Options{Names: []string{"a.pcap", "b.pcap"}, Regex: re}, printed: 1,
			want: "SIP UDP 2026-01-01 10:00:00.000000 10.0.0.1:5060 -> 10.0.0.2:5060 [a.pcap] #2\nBYE sip:b@x SIP/2.0\nCall-ID: 1\n\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			save := &collect{}
			tt.o.Save = save
			p := New(&b, tt.o)
			var err error
			for _, ev := range []*capture.Event{sipEvent(invite, 1), sipEvent(bye, 2), rtp} {
				if err = p.Handle(ev); err != nil {
					break
				}
			}
			p.Flush()
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Errorf("err %v, want %v", err, tt.err)
			}
			if b.String() != tt.want || p.Printed() != tt.printed || len(save.evs) != tt.printed {
				t.Errorf("printed %d (saved %d):\n%q\nwant %d:\n%q", p.Printed(), len(save.evs), b.String(), tt.printed, tt.want)
			}
		})
	}
}

// TestPrinterHEP: SIP inside HEP prints with the inner addresses and
// time; asking for HEP prints the HEP packets themselves.
func TestPrinterHEP(t *testing.T) {
	inner := hep.Packet{Protocol: 17, Src: netip.MustParseAddrPort("192.168.1.1:5060"), Dst: netip.MustParseAddrPort("192.168.1.2:5060"),
		Time: t0.Add(time.Second), ProtoType: hep.ProtoSIP, Payload: []byte("OPTIONS sip:x SIP/2.0\r\n\r\n")}
	if err := inner.Compress(nil, hep.Zlib); err != nil {
		t.Fatal(err)
	}
	raw, err := inner.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	log := hep.Packet{ProtoType: hep.ProtoLog, Payload: []byte("a log line")}
	rawLog, _ := log.Marshal()
	ev := func(b []byte) *capture.Event {
		return &capture.Event{Kind: capture.KindHEP, Transport: capture.TransportUDP, Time: t0,
			Src: netip.MustParseAddrPort("10.0.0.9:40000"), Dst: netip.MustParseAddrPort("10.0.0.10:9060"), Payload: b, Packet: pcap.Packet{Number: 4}}
	}
	var b bytes.Buffer
	p := New(&b, Options{})
	for _, e := range []*capture.Event{ev(raw), ev(rawLog), ev([]byte("HEP3 broken"))} {
		if err := p.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
	p.Flush()
	want := "SIP UDP 2026-01-01 10:00:01.000000 192.168.1.1:5060 -> 192.168.1.2:5060 #4 tunnel\nOPTIONS sip:x SIP/2.0\n\n\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	p = New(&b, Options{Kinds: []capture.Kind{capture.KindHEP}})
	_ = p.Handle(ev(raw))
	p.Flush()
	if !strings.HasPrefix(b.String(), "HEP UDP 2026-01-01 10:00:00.000000 10.0.0.9:40000 -> 10.0.0.10:9060 #4\n  ") {
		t.Errorf("HEP kind: %q", b.String())
	}
}

// TestPrinterCapture runs the pcapgen HEP capture through the pipeline.
func TestPrinterCapture(t *testing.T) {
	r, err := pcap.Open(filepath.Join("..", "..", "testdata", "pcaps", "hep3-in-udp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var b bytes.Buffer
	p := New(&b, Options{})
	if _, err := capture.Run(context.Background(), []capture.Source{r}, capture.Options{}, nil, p.Handle); err != nil {
		t.Fatal(err)
	}
	p.Flush()
	// pcapgen: five SIP messages inside HEP3 on UDP 9060.
	if n := strings.Count(b.String(), " tunnel\n"); n != 5 || p.Printed() != 5 || strings.Contains(b.String(), ":9060 ") {
		t.Errorf("printed %d:\n%s", n, b.String())
	}
}

func TestWriteText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"INVITE sip:a SIP/2.0\r\nTo: <sip:a>\r\n", "INVITE sip:a SIP/2.0\nTo: <sip:a>\n"},
		{"tab\there", "tab\there"},
		{"lone\rCR", `lone\x0dCR`},
		{"\x1b[2J\x1b]0;pwned\x07", `\x1b[2J\x1b]0;pwned\x07`},
		{"csi \u009b31m", `csi \u009b31m`},
		{"bad \xff utf8", `bad \xff utf8`},
		{"ünïcödé ok", "ünïcödé ok"},
		{"del\x7f", `del\x7f`},
	} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		WriteText(w, []byte(tt.in))
		w.Flush()
		if b.String() != tt.want {
			t.Errorf("WriteText(%q) = %q, want %q", tt.in, b.String(), tt.want)
		}
	}
}

func TestParseKind(t *testing.T) {
	if k, ok := ParseKind("RTP"); !ok || k != capture.KindRTP {
		t.Errorf("RTP: %v %v", k, ok)
	}
	if k, ok := ParseKind("all"); !ok || k != 0 {
		t.Errorf("all: %v %v", k, ok)
	}
	if _, ok := ParseKind("mgcp"); ok {
		t.Error("mgcp accepted")
	}
	if _, err := Compile("(", false); err == nil {
		t.Error("bad regex compiled")
	}
	if re, err := Compile("", false); re != nil || err != nil {
		t.Error("empty regex")
	}
}
