package capture

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// kinds spells events one letter each: S SIP, R RTP, C RTCP, H HEP.
func kinds(evs []gotEvent) string {
	letter := map[Kind]string{KindSIP: "S", KindRTP: "R", KindRTCP: "C", KindHEP: "H"}
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(letter[e.Kind])
	}
	return b.String()
}

func TestClassify(t *testing.T) {
	u := func(src, dst uint16, payload []byte) []byte {
		return eth(0x0800, udp4(t, ip4B, ip4A, src, dst, payload))
	}
	stun := []byte{0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	hep3 := []byte{'H', 'E', 'P', '3', 0, 10, 0, 0, 0, 1}
	hep2 := cat([]byte{2, 28, 2, 17, 0x13, 0xc4, 0x13, 0xc4}, make([]byte, 20), []byte(sip200))
	rtps := func(n int, port uint16, ssrc uint32) [][]byte {
		var fs [][]byte
		for i := range n {
			fs = append(fs, u(30000, port, rtpPacket(0, uint16(1000+i), uint32(160*i), ssrc)))
		}
		return fs
	}
	invite := eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(sipInvite)))
	muxSDP := strings.Replace(sipInvite, "a=rtpmap:0 PCMU/8000\r\n", "a=rtcp-mux\r\n", 1)
	t38SDP := strings.Replace(sipInvite, "m=audio 49170 RTP/AVP 0", "m=image 49170 udptl t38", 1)
	rtcpSDP := strings.Replace(sipInvite, "a=rtpmap:0 PCMU/8000\r\n", "a=rtcp:50000\r\n", 1)
	muxRTCP := rtcpRRSDES(9)
	tests := []struct {
		name   string
		o      Options
		frames [][]byte
		want   string // one letter per event: S SIP, R RTP, C RTCP, H HEP
	}{
		{"SIP on odd port", Options{}, [][]byte{u(40001, 40002, []byte(sip200))}, "S"},
		{"SIP request lower-case version", Options{}, [][]byte{u(40001, 40002, []byte("OPTIONS sip:x sip/2.0\r\n\r\n"))}, "S"},
		{"not SIP: HTTP", Options{}, [][]byte{u(40001, 80, []byte("GET / HTTP/1.1\r\n\r\n"))}, ""},
		{"not SIP: no CRLF", Options{}, [][]byte{u(40001, 5060, []byte("SIP/2.0 200 OK"))}, ""},
		{"not SIP: bad method", Options{}, [][]byte{u(40001, 5060, []byte("IN(VITE sip:x SIP/2.0\r\n\r\n"))}, ""},
		{"RTP by SDP from the first packet", Options{NoRTPHeuristic: true}, append([][]byte{invite}, rtps(2, 49170, 7)...), "SRR"},
		{"RTP by SDP, symmetric (from the endpoint)", Options{NoRTPHeuristic: true}, [][]byte{invite, eth(0x0800, udp4(t, ip4A, ip4B, 49170, 30000, rtpPacket(0, 1, 0, 5)))}, "SR"},
		{"RTCP by SDP port+1", Options{NoRTPHeuristic: true}, [][]byte{invite, u(30001, 49171, rtcpRRSDES(7))}, "SC"},
		{"RTCP by SDP a=rtcp", Options{NoRTPHeuristic: true}, [][]byte{u(5060, 5060, []byte(rtcpSDP)), eth(0x0800, udp4(t, ip4B, ip4A, 30001, 50000, rtcpRRSDES(7)))}, "SC"},
		{"rtcp-mux: RTP and RTCP on one port", Options{NoRTPHeuristic: true}, [][]byte{eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(muxSDP))), u(30000, 49170, rtpPacket(0, 1, 0, 9)), u(30000, 49170, muxRTCP)}, "SRC"},
		{"T.38 port is not RTP", Options{NoRTPHeuristic: true}, [][]byte{eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(t38SDP))), u(30000, 49170, rtpPacket(0, 1, 0, 9))}, "S"},
		{"re-INVITE to T.38 forgets the RTP port", Options{NoRTPHeuristic: true}, [][]byte{invite, eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(t38SDP))), u(30000, 49170, rtpPacket(0, 1, 0, 9))}, "SS"},
		{"no SDP, heuristic off", Options{NoRTPHeuristic: true}, rtps(5, 40000, 7), ""},
		{"heuristic: third packet confirms, held two delivered", Options{}, rtps(5, 40000, 7), "RRRRR"},
		{"heuristic: SSRC change restarts", Options{}, append(rtps(3, 40000, 7), rtps(3, 40000, 8)...), "RRRRRR"},
		{"heuristic: unconfirmed flow stays other", Options{}, append(rtps(2, 40000, 7), rtps(2, 40000, 8)...), ""},
		{"heuristic: well-known port ignored", Options{}, rtps(5, 53, 7), ""},
		{"heuristic: PT 72 rejected", Options{}, [][]byte{u(30000, 40000, rtpPacket(72, 1, 0, 1)), u(30000, 40000, rtpPacket(72, 2, 0, 1)), u(30000, 40000, rtpPacket(72, 3, 0, 1))}, ""},
		{"heuristic: sequence jumps are not RTP", Options{}, [][]byte{u(30000, 40000, rtpPacket(0, 1, 0, 1)), u(30000, 40000, rtpPacket(0, 5000, 0, 1)), u(30000, 40000, rtpPacket(0, 12000, 0, 1))}, ""},
		{"RTCP compound by heuristic", Options{}, [][]byte{u(30001, 40001, rtcpRRSDES(7))}, "C"},
		{"RTCP length mismatch", Options{}, [][]byte{u(30001, 40001, cat(rtcpRRSDES(7), []byte{0, 0, 0, 0}))}, ""},
		{"RTCP heuristic off", Options{NoRTPHeuristic: true}, [][]byte{u(30001, 40001, rtcpRRSDES(7))}, ""},
		{"HEP3", Options{}, [][]byte{u(40000, 9060, hep3)}, "H"},
		{"HEP3 bad length", Options{}, [][]byte{u(40000, 9060, []byte{'H', 'E', 'P', '3', 0, 200, 0, 0})}, ""},
		{"HEPv2", Options{}, [][]byte{u(40000, 9060, hep2)}, "H"},
		{"STUN rejected", Options{}, [][]byte{u(40000, 3478, stun), u(40000, 3478, stun), u(40000, 3478, stun)}, ""},
		{"empty datagram", Options{}, [][]byte{u(40000, 40000, nil)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.o)
			evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, tc.frames...)
			if len(errs) != 0 {
				t.Fatal(errs)
			}
			if got := kinds(evs); got != tc.want {
				t.Errorf("events %q, want %q", got, tc.want)
			}
			st := d.Stats()
			if st.SIP+st.RTP+st.RTCP+st.HEP+st.Other != len(tc.frames) {
				t.Errorf("every datagram counted once: %+v", st)
			}
		})
	}
}

// Packets held until the heuristic confirms a flow come out first, in
// order, each naming its own record and time.
func TestHeuristicHoldBack(t *testing.T) {
	var frames [][]byte
	for i := range 4 {
		frames = append(frames, eth(0x0800, udp4(t, ip4B, ip4A, 30000, 40000, rtpPacket(8, uint16(7+i), uint32(160*i), 99))))
	}
	d := NewDecoder(Options{})
	evs, errs := decodeAll(t, d, pcap.LinkTypeEthernet, frames...)
	if len(errs) != 0 || len(evs) != 4 {
		t.Fatalf("events %d errs %v", len(evs), errs)
	}
	for i, ev := range evs {
		if ev.Packet.Number != i+1 || !ev.Time.Equal(pkt(pcap.LinkTypeEthernet, i+1, nil).Timestamp) ||
			ev.RTP.SequenceNumber != uint16(7+i) || ev.RTP.PayloadType != 8 || ev.Src.Port() != 30000 {
			t.Errorf("event %d: packet %d time %v seq %d", i, ev.Packet.Number, ev.Time, ev.RTP.SequenceNumber)
		}
		if !bytes.Equal(ev.payload, rtpPacket(8, uint16(7+i), uint32(160*i), 99)) {
			t.Errorf("event %d payload differs", i)
		}
	}
	if st := d.Stats(); st.RTP != 4 || st.Other != 0 || st.RTPByHeuristic != 4 || d.flows.heldBytes != 0 {
		t.Errorf("stats %+v held %d", st, d.flows.heldBytes)
	}
}

// TestRTPHeader: a KindRTP event carries the header the classifier
// decoded (with rtpstats' decoder), CSRCs, extension and padding
// accounted for, and malformed packets are not RTP.
func TestRTPHeader(t *testing.T) {
	b := rtpPacket(0x80|8, 513, 0x01020304, 0xdeadbeef)
	b[0] = 0x80 | 0x10 | 0x20 | 2 // X, P, CC=2
	b = append(b[:12], cat(make([]byte, 8), []byte{0xbe, 0xde, 0, 1, 1, 2, 3, 4}, make([]byte, 40), []byte{0, 0, 4})...)
	src := netip.MustParseAddrPort("192.0.2.1:30000")
	dst := netip.MustParseAddrPort("192.0.2.2:40000")
	classify := func(p []byte) (Event, bool) {
		d := NewDecoder(Options{})
		d.media.learn(dst, roleRTP, 0)
		var got Event
		var ok bool
		d.emit = func(ev *Event) { got, ok = *ev, ev.Kind == KindRTP }
		d.classifyDatagram(p, src, dst, TransportUDP)
		return got, ok
	}
	ev, ok := classify(b)
	if !ok {
		t.Fatal("not RTP")
	}
	h := &ev.RTP
	if !h.Marker || h.PayloadType != 8 || h.SequenceNumber != 513 || h.Timestamp != 0x01020304 || h.SSRC != 0xdeadbeef ||
		h.CSRCCount != 2 || h.PaddingSize != 4 || !h.Extension || h.HeaderLength != 12+8+8 || len(h.Payload(ev.Payload)) != 40-4+3 {
		t.Errorf("header %+v", h)
	}
	for name, bad := range map[string][]byte{
		"short":         b[:11],
		"version 1":     cat([]byte{0x40}, b[1:]),
		"ext past end":  b[:24],
		"padding > len": cat(b[:len(b)-1], []byte{200}),
		"padding 0":     cat(b[:len(b)-1], []byte{0}),
	} {
		if _, ok := classify(bad); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

type sliceSource struct {
	frames [][]byte
	pkts   []pcap.Packet
	i      int
	err    error // returned once, before EOF
}

func (s *sliceSource) Next() ([]byte, pcap.Packet, error) {
	if s.i == len(s.frames) {
		if s.err != nil {
			err := s.err
			s.err = nil
			return nil, pcap.Packet{}, err
		}
		return nil, pcap.Packet{}, io.EOF
	}
	s.i++
	return s.frames[s.i-1], s.pkts[s.i-1], nil
}

func TestRunMerge(t *testing.T) {
	mk := func(lt pcap.LinkType, times ...int) *sliceSource {
		s := &sliceSource{}
		for i, ms := range times {
			f := eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(sip200)))
			if lt != pcap.LinkTypeEthernet {
				f = []byte{1}
			}
			p := pkt(lt, i+1, f)
			p.Timestamp = t0.Add(time.Duration(ms) * time.Millisecond)
			s.frames = append(s.frames, f)
			s.pkts = append(s.pkts, p)
		}
		return s
	}
	a := mk(pcap.LinkTypeEthernet, 0, 30, 60)
	b := mk(pcap.LinkTypeEthernet, 10, 20, 70)
	bad := mk(pcap.LinkType(147), 5, 6, 7)
	bad.err = errors.New("source broke")
	var order []int
	var last time.Time
	var warns []error
	st, err := Run(context.Background(), []Source{a, b, bad}, Options{}, func(e error) { warns = append(warns, e) }, func(ev *Event) error {
		if ev.Time.Before(last) {
			t.Errorf("out of time order")
		}
		last = ev.Time
		order = append(order, ev.Source)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(order); got != 6 || order[0] != 0 || order[1] != 1 || order[2] != 1 || order[3] != 0 {
		t.Errorf("source order %v", order)
	}
	if st.Packets != 9 || st.UnsupportedLinkTypes != 3 {
		t.Errorf("stats %+v", st)
	}
	// Unsupported link type warned once; the source error passed on.
	if len(warns) != 2 || !errors.Is(warns[0], ErrUnsupportedLinkType) || warns[1].Error() != "source broke" {
		t.Errorf("warnings %v", warns)
	}

	stop := errors.New("enough")
	n := 0
	_, err = Run(context.Background(), []Source{mk(pcap.LinkTypeEthernet, 0, 1, 2, 3)}, Options{}, nil, func(*Event) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("fn error: err %v after %d events", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Run(ctx, []Source{mk(pcap.LinkTypeEthernet, 0, 1)}, Options{}, nil, func(*Event) error {
		t.Error("event after cancel")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestSDPScanner(t *testing.T) {
	d := NewDecoder(Options{})
	body := "v=0\r\nc=IN IP6 2001:db8::1\r\nm=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 96\r\nm=audio 5000 RTP/SAVP 0\r\nc=IN IP4 10.0.0.1/127\r\na=rtcp:6000 IN IP4 10.0.0.2\r\nm=audio 7000 RTP/AVP 0\r\nc=IN IP4 10.0.0.3\r\na=rtcp-mux\r\nm=image 8000 udptl t38\r\nm=audio 9000 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n"
	d.learnSDP([]byte("SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	want := map[string]mediaRole{"[2001:db8::1]:4000": roleRTP, "[2001:db8::1]:4001": roleRTCP, "10.0.0.1:5000": roleRTP, "10.0.0.2:6000": roleRTCP, "10.0.0.3:7000": roleMux}
	if d.media.len() != len(want) {
		t.Errorf("learned %d: %v", d.media.len(), d.media.slab)
	}
	for s, role := range want {
		if e, ok := d.media.get(netip.MustParseAddrPort(s)); !ok || e.role != role {
			t.Errorf("%v: %+v %v", s, e, ok)
		}
	}
}
