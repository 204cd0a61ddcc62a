package hep

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestUnwrap(t *testing.T) {
	sip := []byte("INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: abc\r\n\r\n")
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	at := time.Date(2026, 1, 1, 10, 0, 0, 123000, time.UTC)
	fallback := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func() Packet {
		return Packet{Family: 2, Protocol: 6, Src: src, Dst: dst, Time: at, ProtoType: ProtoSIP, Payload: sip,
			CaptureID: 2001, GroupID: []byte("edge1"), CorrelationID: []byte("leg-a")}
	}
	tests := []struct {
		name       string
		pkt        func() Packet
		wantErr    bool
		wantTime   time.Time
		fromAgent  bool
		sip, rep   bool
		wantString []byte
	}{
		{name: "plain SIP", pkt: base, wantTime: at, fromAgent: true, sip: true, wantString: sip},
		{name: "compressed SIP inflated", pkt: func() Packet {
			p := base()
			if err := p.Compress(nil, Zlib); err != nil {
				t.Fatal(err)
			}
			return p
		}, wantTime: at, fromAgent: true, sip: true, wantString: sip},
		{name: "no time: fallback", pkt: func() Packet { p := base(); p.Time = time.Time{}; return p }, wantTime: fallback, sip: true, wantString: sip},
		{name: "LOG is a report", pkt: func() Packet { p := base(); p.ProtoType = ProtoLog; p.Payload = []byte("log line"); return p },
			wantTime: at, fromAgent: true, rep: true, wantString: []byte("log line")},
		{name: "RTCP-JSON is a report", pkt: func() Packet { p := base(); p.ProtoType = ProtoRTCPJSON; p.Payload = []byte("{}"); return p },
			wantTime: at, fromAgent: true, rep: true, wantString: []byte("{}")},
		{name: "RTP is neither", pkt: func() Packet { p := base(); p.ProtoType = ProtoRTP; p.Payload = []byte{0x80}; return p },
			wantTime: at, fromAgent: true, wantString: []byte{0x80}},
		{name: "bad compressed payload", pkt: func() Packet {
			p := base()
			p.Compressed, p.Payload = true, []byte{0x1f, 0x8b, 0, 0}
			return p
		}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var u Unwrapper
			var m Message
			p := tt.pkt()
			err := u.Unwrap(&p, fallback, &m)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Unwrap = nil error, want one")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Payload, tt.wantString) || !m.Time.Equal(tt.wantTime) || m.TimeFromAgent != tt.fromAgent ||
				m.IsSIP() != tt.sip || m.IsReport() != tt.rep || m.Src != src || m.Dst != dst || m.Protocol != 6 ||
				m.CaptureID != 2001 || string(m.Node) != "edge1" || string(m.CorrelationID) != "leg-a" {
				t.Errorf("message = %+v", m)
			}
		})
	}
}

func TestUnwrapInflateTooLarge(t *testing.T) {
	p := Packet{ProtoType: ProtoSIP, Payload: make([]byte, MaxInflatedSize+10)}
	if err := p.Compress(nil, Gzip); err != nil {
		t.Fatal(err)
	}
	var u Unwrapper
	var m Message
	if err := u.Unwrap(&p, time.Time{}, &m); !errors.Is(err, ErrInflateTooLarge) {
		t.Fatalf("err = %v, want ErrInflateTooLarge", err)
	}
}

func TestUnwrapDecodeAllocs(t *testing.T) {
	p := Packet{Protocol: 17, Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
		Time: time.Unix(1700000000, 0), ProtoType: ProtoSIP, Payload: []byte("OPTIONS sip:x SIP/2.0\r\n\r\n")}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var u Unwrapper
	var m Message
	if err := u.Decode(b, time.Time{}, &m); err != nil || !m.IsSIP() {
		t.Fatalf("Decode: %v %+v", err, m)
	}
	if n := testing.AllocsPerRun(200, func() { _ = u.Decode(b, time.Time{}, &m) }); n != 0 {
		t.Fatalf("Decode allocs = %v", n)
	}
	if err := u.Decode(b[:3], time.Time{}, &m); !errors.Is(err, ErrTruncatedPacket) && !errors.Is(err, ErrBadMagic) {
		t.Fatalf("short packet: %v", err)
	}
}

// FuzzUnwrap decodes arbitrary bytes through the Unwrapper and checks it
// against the codec used directly: the same fields, and the payload
// Decompress gives (the Unwrapper inflates exactly once, into its buffer).
func FuzzUnwrap(f *testing.F) {
	plain := Packet{Protocol: 17, Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("10.0.0.2:5060"),
		Time: time.Unix(1700000000, 5000), ProtoType: ProtoSIP, Payload: []byte("OPTIONS sip:x SIP/2.0\r\n\r\n"), CorrelationID: []byte("c")}
	b, _ := plain.Marshal()
	f.Add(b)
	zipped := plain
	_ = zipped.Compress(nil, Zlib)
	b, _ = zipped.Marshal()
	f.Add(b)
	f.Add([]byte("HEP3\x00\x06"))
	fallback := time.Unix(42, 0)
	f.Fuzz(func(t *testing.T, b []byte) {
		var u Unwrapper
		var m Message
		err := u.Decode(b, fallback, &m)
		var p Packet
		if perr := p.Unmarshal(b); perr != nil {
			if err == nil {
				t.Fatalf("Decode accepted what Unmarshal refused: %v", perr)
			}
			return
		}
		want, derr := p.Decompress(nil)
		if (derr != nil) != (err != nil) {
			t.Fatalf("Decode err %v, Decompress err %v", err, derr)
		}
		if err != nil {
			return
		}
		wantTime := p.Time
		if wantTime.IsZero() {
			wantTime = fallback
		}
		if !bytes.Equal(m.Payload, want) || m.Type != p.ProtoType || m.Src != p.Src || m.Dst != p.Dst || m.Protocol != p.Protocol ||
			!m.Time.Equal(wantTime) || m.TimeFromAgent == p.Time.IsZero() || !bytes.Equal(m.CorrelationID, p.CorrelationID) ||
			m.CaptureID != p.CaptureID || !bytes.Equal(m.Node, p.GroupID) {
			t.Fatalf("message %+v from packet %+v", m, p)
		}
	})
}

// HEP inside HEP is refused and reported, never taken as SIP.
func TestUnwrapRefusesNestedHEP(t *testing.T) {
	inner := Packet{ProtoType: ProtoSIP, Payload: []byte("INVITE sip:a@b SIP/2.0\r\n\r\n")}
	b, err := inner.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	outer := Packet{ProtoType: ProtoSIP, Payload: b}
	var u Unwrapper
	var m Message
	if err := u.Unwrap(&outer, time.Unix(0, 0), &m); !errors.Is(err, ErrNested) {
		t.Errorf("nested HEP: %v, want ErrNested", err)
	}
}
