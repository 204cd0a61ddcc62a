package hep

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// hep3 prefixes annotated chunk bytes with "HEP3" and the correct total length.
func hep3(chunks ...[]byte) []byte {
	b := []byte{'H', 'E', 'P', '3', 0, 0}
	for _, c := range chunks {
		b = append(b, c...)
	}
	b[4], b[5] = byte(len(b)>>8), byte(len(b))
	return b
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestUnmarshalChunks(t *testing.T) {
	v4port := netip.AddrPortFrom(netip.Addr{}, 5060)
	tests := []struct {
		name  string
		in    []byte
		check func(p *Packet) bool
	}{
		{"0x0001 family", hep3([]byte{0, 0 /*vendor*/, 0, 1 /*type*/, 0, 7 /*len*/, 2 /*IPv4*/}),
			func(p *Packet) bool { return p.Family == 2 && p.Has(ChunkIPFamily) }},
		{"0x0002 ip proto", hep3([]byte{0, 0, 0, 2, 0, 7, 17 /*UDP*/}),
			func(p *Packet) bool { return p.Protocol == 17 }},
		{"0x0003 ipv4 src", hep3([]byte{0, 0, 0, 3, 0, 10, 192, 168, 1, 1}),
			func(p *Packet) bool { return p.Src == ap("192.168.1.1:0") && p.Has(ChunkIPv4Src) }},
		{"0x0004 ipv4 dst", hep3([]byte{0, 0, 0, 4, 0, 10, 10, 0, 0, 2}),
			func(p *Packet) bool { return p.Dst == ap("10.0.0.2:0") }},
		{"0x0005 ipv6 src", hep3([]byte{0, 0, 0, 5, 0, 22, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}),
			func(p *Packet) bool {
				return p.Src == ap("[2001:db8::1]:0") && p.Has(ChunkIPv6Src) && !p.Has(ChunkIPv4Src)
			}},
		{"0x0006 ipv6 dst", hep3([]byte{0, 0, 0, 6, 0, 22, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}),
			func(p *Packet) bool { return p.Dst == ap("[2001:db8::2]:0") }},
		{"0x0007 src port without address", hep3([]byte{0, 0, 0, 7, 0, 8, 0x13, 0xc4 /*5060*/}),
			func(p *Packet) bool { return p.Src == v4port && p.Src.Port() == 5060 && !p.Src.Addr().IsValid() }},
		{"0x0007 port before address keeps both", hep3(
			[]byte{0, 0, 0, 7, 0, 8, 0x13, 0xc4},
			[]byte{0, 0, 0, 3, 0, 10, 1, 2, 3, 4}),
			func(p *Packet) bool { return p.Src == ap("1.2.3.4:5060") }},
		{"0x0008 dst port", hep3([]byte{0, 0, 0, 8, 0, 8, 0x23, 0x64 /*9060*/}),
			func(p *Packet) bool { return p.Dst.Port() == 9060 }},
		{"0x0009+0x000a time", hep3(
			[]byte{0, 0, 0, 9, 0, 10, 0x58, 0x4d, 0x36, 0x4c /*1481455180*/},
			[]byte{0, 0, 0, 0x0a, 0, 10, 0, 0x01, 0xe2, 0x40 /*123456 us*/}),
			func(p *Packet) bool { return p.Time.Equal(time.Unix(1481455180, 123456000)) }},
		{"0x000a usec >= 1e6 carries into seconds", hep3([]byte{0, 0, 0, 0x0a, 0, 10, 0, 0x1e, 0x84, 0x80 /*2e6*/}),
			func(p *Packet) bool { return p.Time.Equal(time.Unix(2, 0)) && !p.bit(ChunkTimeSec) }},
		{"0x000b proto type unknown value kept", hep3([]byte{0, 0, 0, 0x0b, 0, 7, 200}),
			func(p *Packet) bool { return p.ProtoType == 200 && p.ProtoType.String() == "200" }},
		{"0x000c capture id", hep3([]byte{0, 0, 0, 0x0c, 0, 10, 0, 0, 0x07, 0xd1 /*2001*/}),
			func(p *Packet) bool { return p.CaptureID == 2001 }},
		{"0x000d keep-alive", hep3([]byte{0, 0, 0, 0x0d, 0, 8, 0, 30}),
			func(p *Packet) bool { return p.KeepAlive == 30 }},
		{"0x000e auth key", hep3([]byte{0, 0, 0, 0x0e, 0, 11, 'm', 'y', 'H', 'e', 'p'}),
			func(p *Packet) bool { return string(p.AuthKey) == "myHep" }},
		{"0x000f payload", hep3([]byte{0, 0, 0, 0x0f, 0, 9, 'S', 'I', 'P'}),
			func(p *Packet) bool { return string(p.Payload) == "SIP" && !p.Compressed && p.Has(ChunkPayload) }},
		{"0x0010 compressed payload", hep3([]byte{0, 0, 0, 0x10, 0, 8, 0x78, 0x9c}),
			func(p *Packet) bool {
				return p.Compressed && bytes.Equal(p.Payload, []byte{0x78, 0x9c}) && p.Has(ChunkCompressedPayload) && !p.Has(ChunkPayload)
			}},
		{"0x0011 correlation id", hep3([]byte{0, 0, 0, 0x11, 0, 9, 'a', '@', 'b'}),
			func(p *Packet) bool { return string(p.CorrelationID) == "a@b" }},
		{"0x0012 vlan", hep3([]byte{0, 0, 0, 0x12, 0, 8, 0x0f, 0xff}),
			func(p *Packet) bool { return p.VLAN == 4095 }},
		{"0x0013 group id", hep3([]byte{0, 0, 0, 0x13, 0, 8, 'n', '1'}),
			func(p *Packet) bool { return string(p.GroupID) == "n1" }},
		{"0x0014 src mac u64", hep3([]byte{0, 0, 0, 0x14, 0, 14, 0, 0, 0x02, 0x42, 0xac, 0x11, 0x00, 0x02}),
			func(p *Packet) bool { return p.SrcMAC == 0x0242ac110002 }},
		{"0x0015 dst mac as bare 6 bytes", hep3([]byte{0, 0, 0, 0x15, 0, 12, 0x02, 0x42, 0xac, 0x11, 0x00, 0x03}),
			func(p *Packet) bool { return p.DstMAC == 0x0242ac110003 && len(p.Extra) == 0 }},
		{"0x0016 ether type", hep3([]byte{0, 0, 0, 0x16, 0, 8, 0x86, 0xdd}),
			func(p *Packet) bool { return p.EtherType == 0x86dd }},
		{"0x0017 tcp flags", hep3([]byte{0, 0, 0, 0x17, 0, 7, 0x18 /*PSH|ACK*/}),
			func(p *Packet) bool { return p.TCPFlags == 0x18 }},
		{"0x0018 tos", hep3([]byte{0, 0, 0, 0x18, 0, 7, 0xb8 /*EF*/}),
			func(p *Packet) bool { return p.TOS == 0xb8 }},
		{"0x0019 reserved kept opaque", hep3([]byte{0, 0, 0, 0x19, 0, 8, 0xab, 0xcd}),
			func(p *Packet) bool {
				return len(p.Extra) == 1 && p.Extra[0].Type == 0x19 && bytes.Equal(p.Extra[0].Value, []byte{0xab, 0xcd})
			}},
		{"0x0020 mos", hep3([]byte{0, 0, 0, 0x20, 0, 8, 0x01, 0xb8 /*440*/}),
			func(p *Packet) bool { return p.MOS == 440 }},
		{"0x0021 r-factor", hep3([]byte{0, 0, 0, 0x21, 0, 8, 0, 93}),
			func(p *Packet) bool { return p.RFactor == 93 }},
		{"0x0022 geo location", hep3([]byte{0, 0, 0, 0x22, 0, 9, 'D', 'E', '1'}),
			func(p *Packet) bool { return string(p.GeoLocation) == "DE1" }},
		{"0x0023 jitter", hep3([]byte{0, 0, 0, 0x23, 0, 10, 0, 0, 0x01, 0x00}),
			func(p *Packet) bool { return p.Jitter == 256 }},
		{"0x0024 transaction type", hep3([]byte{0, 0, 0, 0x24, 0, 9, 'c', 'a', 'l'}),
			func(p *Packet) bool { return string(p.TransactionType) == "cal" }},
		{"0x0025 payload json keys", hep3([]byte{0, 0, 0, 0x25, 0, 8, 'k', '1'}),
			func(p *Packet) bool { return string(p.PayloadJSONKeys) == "k1" }},
		{"0x0026 tags values", hep3([]byte{0, 0, 0, 0x26, 0, 8, 't', '1'}),
			func(p *Packet) bool { return string(p.TagsValues) == "t1" }},
		{"0x0027 tag type", hep3([]byte{0, 0, 0, 0x27, 0, 8, 0, 5}),
			func(p *Packet) bool { return p.TagType == 5 }},
		{"0x0028 event type", hep3([]byte{0, 0, 0, 0x28, 0, 8, 0, 6}),
			func(p *Packet) bool { return p.EventType == 6 }},
		{"0x0029 group id string", hep3([]byte{0, 0, 0, 0x29, 0, 8, 'g', '2'}),
			func(p *Packet) bool { return string(p.GroupIDString) == "g2" }},
		{"vendor chunk kept opaque in order", hep3(
			[]byte{0x00, 0x03 /*vendor: Kamailio*/, 0, 0x0f /*type*/, 0, 8, 'k', 'v'},
			[]byte{0, 0, 0, 0x0f, 0, 7, 'X'},
			[]byte{0x00, 0x06, 0x12, 0x34, 0, 6 /*empty value*/}),
			func(p *Packet) bool {
				return string(p.Payload) == "X" && len(p.Extra) == 2 &&
					p.Extra[0].Vendor == 3 && p.Extra[0].Type == 0x0f && string(p.Extra[0].Value) == "kv" &&
					p.Extra[1].Vendor == 6 && p.Extra[1].Type == 0x1234 && len(p.Extra[1].Value) == 0
			}},
		{"zero-valued chunk is present", hep3([]byte{0, 0, 0, 0x0c, 0, 10, 0, 0, 0, 0}),
			func(p *Packet) bool { return p.CaptureID == 0 && p.Has(ChunkCaptureID) && !p.Has(ChunkKeepAlive) }},
		{"duplicate chunk: last wins", hep3(
			[]byte{0, 0, 0, 0x0c, 0, 10, 0, 0, 0, 1},
			[]byte{0, 0, 0, 0x0c, 0, 10, 0, 0, 0, 2}),
			func(p *Packet) bool { return p.CaptureID == 2 }},
		{"bytes after total length ignored", append(hep3([]byte{0, 0, 0, 0x0b, 0, 7, 1}), 'H', 'E', 'P'),
			func(p *Packet) bool { return p.ProtoType == ProtoSIP && len(p.Extra) == 0 }},
		{"empty HEP3", hep3(),
			func(p *Packet) bool { return p.Version == 3 && !p.Has(ChunkPayload) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := p.Unmarshal(tt.in); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if p.Version != 3 || !tt.check(&p) {
				t.Fatalf("unexpected decode: %+v", p)
			}
			assertRoundTrip(t, &p)
		})
	}
}

// assertRoundTrip encodes p, decodes the result and requires equality.
func assertRoundTrip(t *testing.T, p *Packet) {
	t.Helper()
	out, err := p.Marshal()
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if len(out) != p.MarshalSize() {
		t.Fatalf("Marshal wrote %d bytes, MarshalSize %d", len(out), p.MarshalSize())
	}
	var q Packet
	if err := q.Unmarshal(out); err != nil && !errors.Is(err, ErrBadChunkValue) {
		t.Fatalf("re-Unmarshal: %v", err)
	}
	if !p.Equal(&q) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", q, *p)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		check   func(p *Packet) bool // what must survive the error
	}{
		{"empty", nil, ErrTruncatedPacket, nil},
		{"3 bytes", []byte{'H', 'E', 'P'}, ErrTruncatedPacket, nil},
		{"bad magic", []byte{'H', 'E', 'P', '4', 0, 6}, ErrBadMagic, nil},
		{"HEP3 without length", []byte{'H', 'E', 'P', '3', 0}, ErrTruncatedPacket, nil},
		{"total length < 6", []byte{'H', 'E', 'P', '3', 0x00, 0x05 /*total*/}, ErrBadLength, nil},
		{"total length > buffer", []byte{'H', 'E', 'P', '3', 0x00, 0x20 /*total 32*/, 0, 0, 0, 1, 0, 7, 2}, ErrTruncatedPacket, nil},
		{"chunk len < 6", []byte{'H', 'E', 'P', '3', 0x00, 0x0c /*total*/, 0x00, 0x00, 0x00, 0x01 /*type*/, 0x00, 0x04 /*len*/}, ErrBadChunkLen, nil},
		{"chunk header cut", []byte{'H', 'E', 'P', '3', 0x00, 0x0a /*total*/, 0x00, 0x00, 0x00, 0x01}, ErrTruncated, nil},
		{"chunk value past total", []byte{'H', 'E', 'P', '3', 0x00, 0x0d /*total 13*/, 0, 0, 0, 1, 0, 8 /*len 8*/, 2}, ErrTruncated, nil},
		{"chunks before the error survive", []byte{'H', 'E', 'P', '3', 0x00, 0x11, /*total 17*/
			0, 0, 0, 0x0c, 0, 10, 0, 0, 0x07, 0xd1, /*capture id 2001*/
			0, 0, 0 /*cut chunk header*/}, ErrTruncated,
			func(p *Packet) bool { return p.CaptureID == 2001 }},
		{"port with 3 bytes", hep3([]byte{0, 0, 0, 7, 0, 9, 1, 2, 3}, []byte{0, 0, 0, 0x0f, 0, 7, 'X'}), ErrBadChunkValue,
			func(p *Packet) bool {
				return string(p.Payload) == "X" && len(p.Extra) == 1 && p.Extra[0].Type == ChunkSrcPort && !p.Has(ChunkSrcPort)
			}},
		{"ipv4 with 16 bytes", hep3([]byte{0, 0, 0, 3, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), ErrBadChunkValue,
			func(p *Packet) bool { return !p.Src.Addr().IsValid() && len(p.Extra) == 1 }},
		{"family with 2 bytes", hep3([]byte{0, 0, 0, 1, 0, 8, 0, 2}), ErrBadChunkValue, nil},
		{"mac with 7 bytes", hep3([]byte{0, 0, 0, 0x14, 0, 13, 1, 2, 3, 4, 5, 6, 7}), ErrBadChunkValue, nil},
		{"v2 unknown family", []byte{2, 16, 7 /*family*/, 17, 0, 0, 0, 0}, ErrBadFamily, nil},
		{"v1 too short", []byte{1, 16, 2, 17, 0x13, 0xc4}, ErrTruncatedPacket, nil},
		{"v2 header cut", []byte{2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0}, ErrTruncatedPacket, nil},
		{"v2 usec invalid both orders", []byte{2, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4, 1, 2, 3, 4, 5, 6, 7, 8,
			0x58, 0x4d, 0x36, 0x4c /*sec*/, 0xff, 0xff, 0xff, 0xff /*usec*/, 0, 1, 0, 0 /*captid+pad*/, 'X'}, ErrBadTimestamp,
			func(p *Packet) bool { return string(p.Payload) == "X" && p.Src == ap("1.2.3.4:5060") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			err := p.Unmarshal(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.check != nil && !tt.check(&p) {
				t.Fatalf("decoded state lost: %+v", p)
			}
			if errors.Is(err, ErrBadChunkValue) {
				assertRoundTrip(t, &p) // the malformed chunk survives in Extra
			}
		})
	}
}

// fullPacket sets every HEP3 field.
func fullPacket() *Packet {
	return &Packet{
		Version: 3, Family: 2, Protocol: 17,
		Src: ap("192.168.1.1:5060"), Dst: ap("192.168.1.2:5080"),
		Time:      time.Unix(1481455196, 141619000).UTC(),
		ProtoType: ProtoSIP, CaptureID: 2001, KeepAlive: 15,
		AuthKey: []byte("myHep"), Payload: []byte("OPTIONS sip:a SIP/2.0\r\n\r\n"),
		CorrelationID: []byte("cid@h"), VLAN: 100, GroupID: []byte("node1"),
		SrcMAC: 0x0242ac110002, DstMAC: 0x0242ac110003, EtherType: 0x0800,
		TCPFlags: 0x18, TOS: 0xb8, MOS: 420, RFactor: 90, GeoLocation: []byte("geo"),
		Jitter: 12, TransactionType: []byte("call"), PayloadJSONKeys: []byte("k"),
		TagsValues: []byte("t"), TagType: 1, EventType: 2, GroupIDString: []byte("g"),
		Extra: []Chunk{{Vendor: 3, Type: 7, Value: []byte("vendor")}},
	}
}

func TestMarshalFullRoundTrip(t *testing.T) {
	p := fullPacket()
	assertRoundTrip(t, p)
	for _, v6 := range []bool{false, true} {
		q := fullPacket()
		if v6 {
			q.Src, q.Dst = ap("[2001:db8::1]:5060"), ap("[::ffff:1.2.3.4]:5060")
		}
		out, err := q.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var r Packet
		if err := r.Unmarshal(out); err != nil {
			t.Fatal(err)
		}
		if r.Src != q.Src || r.Dst != q.Dst {
			t.Fatalf("v6=%v addresses %v %v, want %v %v", v6, r.Src, r.Dst, q.Src, q.Dst)
		}
		// Encoding is canonical: a decoded packet re-encodes to the same bytes.
		again, err := r.Marshal()
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("re-encode differs (err %v)", err)
		}
	}
}

// TestMarshalBytes pins the exact encoding and chunk order.
func TestMarshalBytes(t *testing.T) {
	p := Packet{
		Src: ap("10.0.0.1:5060"), Dst: ap("10.0.0.2:5060"), Family: 2, Protocol: 17,
		Time: time.Unix(1, 2000).UTC(), ProtoType: ProtoSIP, CaptureID: 7, Payload: []byte("X"),
		Extra: []Chunk{{Vendor: 9, Type: 1, Value: []byte{0xaa}}},
	}
	want := []byte{'H', 'E', 'P', '3', 0, 0, // total patched below
		0, 0, 0, 1, 0, 7, 2, // family
		0, 0, 0, 2, 0, 7, 17, // ip proto
		0, 0, 0, 3, 0, 10, 10, 0, 0, 1, // ipv4 src
		0, 0, 0, 4, 0, 10, 10, 0, 0, 2, // ipv4 dst
		0, 0, 0, 7, 0, 8, 0x13, 0xc4, // src port
		0, 0, 0, 8, 0, 8, 0x13, 0xc4, // dst port
		0, 0, 0, 9, 0, 10, 0, 0, 0, 1, // seconds
		0, 0, 0, 10, 0, 10, 0, 0, 0, 2, // microseconds
		0, 0, 0, 11, 0, 7, 1, // proto type
		0, 0, 0, 12, 0, 10, 0, 0, 0, 7, // capture id
		0, 9, 0, 1, 0, 7, 0xaa, // vendor chunk, before the payload
		0, 0, 0, 15, 0, 7, 'X', // payload last
	}
	want[5] = byte(len(want))
	got, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  % x\nwant % x", got, want)
	}
}

func TestAbsentVersusZero(t *testing.T) {
	var p Packet
	p.MarkPresent(ChunkSrcPort)
	p.MarkPresent(ChunkCaptureID)
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var q Packet
	if err := q.Unmarshal(out); err != nil {
		t.Fatal(err)
	}
	if !q.Has(ChunkSrcPort) || !q.Has(ChunkCaptureID) || q.Has(ChunkDstPort) || q.Has(ChunkTimeSec) {
		t.Fatalf("presence lost: %x", q.present)
	}
	if !q.Time.IsZero() {
		t.Fatalf("time without chunks = %v, want zero", q.Time)
	}
	var empty Packet
	if empty.Equal(&q) {
		t.Fatal("packet with zero-valued chunks equals one without them")
	}
	// Epoch with chunks present is not the zero time.
	if err := q.Unmarshal(hep3([]byte{0, 0, 0, 9, 0, 10, 0, 0, 0, 0})); err != nil {
		t.Fatal(err)
	}
	if q.Time.IsZero() || !q.Time.Equal(time.Unix(0, 0)) {
		t.Fatalf("time = %v", q.Time)
	}
	assertRoundTrip(t, &q)
}

func TestMarshalErrors(t *testing.T) {
	p := fullPacket()
	n := p.MarshalSize()
	if _, err := p.MarshalTo(make([]byte, n-1)); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("short buffer: %v", err)
	}
	big := Packet{Payload: make([]byte, 65535-6-6+1)}
	if _, err := big.Marshal(); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	fits := Packet{Payload: make([]byte, 65535-6-6)}
	if b, err := fits.Marshal(); err != nil || len(b) != 65535 {
		t.Fatalf("65535-byte packet: %d %v", len(b), err)
	}
	bad := Packet{Version: 4}
	if _, err := bad.Marshal(); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("version 4: %v", err)
	}
	old := Packet{Time: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := old.Marshal(); !errors.Is(err, ErrNotRepresentable) {
		t.Fatalf("1960: %v", err)
	}
	late := Packet{Time: time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := late.Marshal(); !errors.Is(err, ErrNotRepresentable) {
		t.Fatalf("2300: %v", err)
	}
}

// A usec field >= 1e6 next to seconds 0xffffffff decodes to a time past
// 2106; it must still re-encode to the same values.
func TestTimeCarryPast2106(t *testing.T) {
	in := hep3([]byte{0, 0, 0, 9, 0, 10, 0xff, 0xff, 0xff, 0xff}, []byte{0, 0, 0, 10, 0, 10, 0xff, 0xff, 0xff, 0xff})
	var p Packet
	if err := p.Unmarshal(in); err != nil {
		t.Fatal(err)
	}
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, in) {
		t.Fatalf("got % x\nwant % x", out, in)
	}
}

func TestHEPv2(t *testing.T) {
	// sngrep on x86: little-endian time and capture id, 2 padding bytes,
	// and a length byte that is the high byte of the total length.
	sngrep := []byte{2, 0x01 /*wrong length*/, 2 /*AF_INET*/, 17,
		0x13, 0xc4, 0x13, 0xc6, // ports 5060 -> 5062
		192, 168, 0, 1, 192, 168, 0, 2,
		0x4c, 0x36, 0x4d, 0x58, // 1481455180 LE
		0x40, 0xe2, 0x01, 0x00, // 123456 LE
		0xe4, 0x00, // capture id 228 LE
		0x00, 0x00, // struct padding
		'S', 'I', 'P'}
	var p Packet
	if err := p.Unmarshal(sngrep); err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || !p.V2LittleEndian || p.Src != ap("192.168.0.1:5060") || p.Dst != ap("192.168.0.2:5062") ||
		!p.Time.Equal(time.Unix(1481455180, 123456000)) || p.CaptureID != 228 || string(p.Payload) != "SIP" ||
		p.ProtoType != ProtoSIP || p.Protocol != 17 {
		t.Fatalf("sngrep v2: %+v", p)
	}
	// Re-encoding keeps the detected order; only the length byte is fixed.
	out, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	fixed := append([]byte(nil), sngrep...)
	fixed[1] = 16 // Kamailio/OpenSIPS check: hep_hdr + IPv4 block
	if !bytes.Equal(out, fixed) {
		t.Fatalf("re-encode\n got % x\nwant % x", out, fixed)
	}

	// Big-endian (network order) v2, the default for new packets.
	q := Packet{Version: 2, Protocol: 17, Src: ap("[2001:db8::1]:5060"), Dst: ap("[2001:db8::2]:5060"),
		Time: time.Unix(1481455180, 5000).UTC(), CaptureID: 2001, Payload: []byte("INVITE")}
	out, err = q.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if out[1] != 40 || out[2] != 10 || len(out) != 8+32+12+6 || !bytes.Equal(out[40:44], []byte{0x58, 0x4d, 0x36, 0x4c}) {
		t.Fatalf("v2 IPv6 BE header % x", out[:52])
	}
	var r Packet
	if err := r.Unmarshal(out); err != nil {
		t.Fatal(err)
	}
	q.Family = 10
	q.ProtoType = ProtoSIP
	q.MarkPresent(ChunkIPFamily) // what v2 decode reports as present
	if r.V2LittleEndian || !r.Equal(&q) {
		t.Fatalf("v2 BE round trip:\n got %+v\nwant %+v", r, q)
	}

	// HEPv1 has no time block.
	v1 := Packet{Version: 1, Protocol: 6, Src: ap("1.1.1.1:1"), Dst: ap("2.2.2.2:2"), Payload: []byte("x")}
	out, err = v1.Marshal()
	if err != nil || len(out) != 17 || out[1] != 16 {
		t.Fatalf("v1: % x %v", out, err)
	}
	if err := r.Unmarshal(out); err != nil || r.Version != 1 || r.Src != v1.Src || string(r.Payload) != "x" || !r.Time.IsZero() {
		t.Fatalf("v1 decode %+v %v", r, err)
	}

	for name, bad := range map[string]Packet{
		"no address":       {Version: 2},
		"mixed families":   {Version: 2, Src: ap("1.1.1.1:1"), Dst: ap("[::1]:1")},
		"capture id > u16": {Version: 2, Src: ap("1.1.1.1:1"), Dst: ap("1.1.1.1:1"), CaptureID: 70000},
		"compressed":       {Version: 1, Src: ap("1.1.1.1:1"), Dst: ap("1.1.1.1:1"), Compressed: true},
		"time before 1970": {Version: 2, Src: ap("1.1.1.1:1"), Dst: ap("1.1.1.1:1"), Time: time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if _, err := bad.Marshal(); !errors.Is(err, ErrNotRepresentable) {
			t.Errorf("%s: %v, want ErrNotRepresentable", name, err)
		}
	}
}

func TestPickOrder(t *testing.T) {
	tests := []struct {
		name           string
		bs, bu, ls, lu uint32
		wantLE         bool
		wantErr        error
	}{
		{"BE plausible", 1481455180, 5, 0x4c364d58, 0x05000000, false, nil},
		{"LE plausible", 0x4c364d58, 0x40e20100, 1481455180, 123456, true, nil},
		{"neither year plausible, BE usec valid", 1, 2, 0x01000000, 0x02000000, false, nil},
		{"neither year plausible, only LE usec valid", 1, 0x02000000, 0x01000000, 2, true, nil},
		{"no valid usec", 1, 0xffffffff, 1, 0xffffffff, false, ErrBadTimestamp},
	}
	for _, tt := range tests {
		le, err := pickOrder(tt.bs, tt.bu, tt.ls, tt.lu)
		if le != tt.wantLE || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: le=%v err=%v", tt.name, le, err)
		}
	}
}

func TestDetect(t *testing.T) {
	v2 := []byte{2, 16, 2, 17, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'S'}
	tests := []struct {
		name    string
		in      []byte
		version int
		ok      bool
	}{
		{"hep3", hep3(), 3, true},
		{"hep3 bad length", []byte{'H', 'E', 'P', '3', 0, 2}, 3, false},
		{"hep3 length beyond datagram", []byte{'H', 'E', 'P', '3', 0, 7}, 3, false},
		{"v2", v2, 2, true},
		{"v2 header only", v2[:28], 0, false},
		{"v1", []byte{1, 16, 2, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2, 'S'}, 1, true},
		{"v1 icmp", []byte{1, 16, 2, 1, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2, 'S'}, 0, false},
		{"v2 family 7", []byte{2, 16, 7, 17, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'S'}, 0, false},
		{"SIP", []byte("INVITE sip:a SIP/2.0\r\n"), 0, false},
		{"RTP", []byte{0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, 0, false},
		{"empty", nil, 0, false},
	}
	for _, tt := range tests {
		v, ok := Detect(tt.in)
		if v != tt.version || ok != tt.ok {
			t.Errorf("%s: Detect = %d,%v want %d,%v", tt.name, v, ok, tt.version, tt.ok)
		}
	}
}

func TestFrameLen(t *testing.T) {
	a, b := hep3([]byte{0, 0, 0, 0x0b, 0, 7, 1}), hep3([]byte{0, 0, 0, 0x0f, 0, 7, 'X'})
	stream := append(append([]byte(nil), a...), b...)
	n, err := FrameLen(stream)
	if err != nil || n != len(a) {
		t.Fatalf("FrameLen = %d, %v", n, err)
	}
	var p Packet
	if err := p.Unmarshal(stream[n:]); err != nil || string(p.Payload) != "X" {
		t.Fatalf("second frame: %v", err)
	}
	for _, tc := range []struct {
		in   []byte
		want error
	}{
		{stream[:5], ErrTruncatedPacket},
		{[]byte("INVITE"), ErrBadMagic},
		{[]byte{'H', 'E', 'P', '3', 0, 1}, ErrBadLength},
	} {
		if _, err := FrameLen(tc.in); !errors.Is(err, tc.want) {
			t.Errorf("FrameLen(%q) = %v, want %v", tc.in, err, tc.want)
		}
	}
}

func TestCompress(t *testing.T) {
	sip := []byte(strings.Repeat("REGISTER sip:example.com SIP/2.0\r\n", 20))
	for _, c := range []Compression{Zlib, Gzip} {
		p := Packet{Payload: append([]byte(nil), sip...), ProtoType: ProtoSIP}
		if err := p.Compress(nil, c); err != nil {
			t.Fatal(err)
		}
		if !p.Compressed || len(p.Payload) >= len(sip) {
			t.Fatalf("compression %d: %d bytes", c, len(p.Payload))
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var q Packet
		if err := q.Unmarshal(out); err != nil || !q.Compressed || !q.Has(ChunkCompressedPayload) {
			t.Fatalf("decode compressed: %v %+v", err, q)
		}
		got, err := q.Decompress(nil)
		if err != nil || !bytes.Equal(got, sip) {
			t.Fatalf("compression %d: Decompress = %q, %v", c, got, err)
		}
	}
	// Raw deflate (no zlib header) is accepted too, appended to dst.
	var raw bytes.Buffer
	w, _ := flate.NewWriter(&raw, flate.DefaultCompression)
	w.Write(sip)
	w.Close()
	p := Packet{Payload: raw.Bytes(), Compressed: true}
	got, err := p.Decompress([]byte("pre:"))
	if err != nil || string(got) != "pre:"+string(sip) {
		t.Fatalf("raw deflate: %v", err)
	}
	// Not compressed: Payload is appended as is.
	plain := Packet{Payload: []byte("abc")}
	if got, err := plain.Decompress(nil); err != nil || string(got) != "abc" {
		t.Fatalf("plain: %q %v", got, err)
	}
	// Garbage fails cleanly.
	junk := Packet{Payload: []byte{0x78, 0x9c, 1, 2, 3}, Compressed: true}
	if _, err := junk.Decompress(nil); err == nil {
		t.Fatal("garbage inflated without error")
	}
}

func TestDecompressBomb(t *testing.T) {
	p := Packet{Payload: make([]byte, 2*MaxInflatedSize)}
	if err := p.Compress(nil, Zlib); err != nil {
		t.Fatal(err)
	}
	if len(p.Payload) > 65535 {
		t.Fatalf("bomb does not fit a HEP packet: %d", len(p.Payload))
	}
	got, err := p.Decompress(nil)
	if !errors.Is(err, ErrInflateTooLarge) || len(got) != MaxInflatedSize {
		t.Fatalf("len %d err %v", len(got), err)
	}
}

func TestStrings(t *testing.T) {
	if ProtoSIP.String() != "SIP" || ProtoLog.String() != "LOG" || ProtoType(99).String() != "99" {
		t.Fatal("ProtoType.String")
	}
	if ChunkCompressedPayload.String() != "0x0010" || ChunkType(0xbeef).String() != "0xbeef" {
		t.Fatal(ChunkCompressedPayload.String())
	}
}

func TestUnmarshalReusesExtra(t *testing.T) {
	in := hep3([]byte{0, 3, 0, 1, 0, 7, 1}, []byte{0, 0, 0, 0x0f, 0, 7, 'X'})
	var p Packet
	if err := p.Unmarshal(in); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = p.Unmarshal(in) }); n != 0 {
		t.Fatalf("Unmarshal with a vendor chunk allocates %v times once Extra has grown", n)
	}
	// A following packet without vendor chunks must not inherit them.
	if err := p.Unmarshal(hep3([]byte{0, 0, 0, 0x0f, 0, 7, 'Y'})); err != nil || len(p.Extra) != 0 {
		t.Fatalf("stale Extra: %+v", p.Extra)
	}
}

func TestMarshalToAllocs(t *testing.T) {
	p := fullPacket()
	buf := make([]byte, p.MarshalSize())
	if n := testing.AllocsPerRun(100, func() { _, _ = p.MarshalTo(buf) }); n != 0 {
		t.Fatalf("MarshalTo allocates %v times", n)
	}
}
