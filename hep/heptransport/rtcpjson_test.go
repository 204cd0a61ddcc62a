package heptransport

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/voiptool/voiptool/hep"
)

func marshalRTCP(t testing.TB, pkts ...rtcp.Packet) []byte {
	t.Helper()
	b, err := rtcp.Marshal(pkts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRTCPJSON(t *testing.T) {
	sr := &rtcp.SenderReport{SSRC: 0x12345678, NTPTime: 0xe90a1b2c_80000000, RTPTime: 160, PacketCount: 2, OctetCount: 320,
		Reports: []rtcp.ReceptionReport{{SSRC: 0x9abcdef0, FractionLost: 25, TotalLost: 3, LastSequenceNumber: 0x10007,
			Jitter: 12, LastSenderReport: 0x1b2c8000, Delay: 65536}}}
	sdes := &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 0x12345678,
		Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "alice@192.0.2.10"}}}}}
	rr := &rtcp.ReceiverReport{SSRC: 0x9abcdef0, Reports: []rtcp.ReceptionReport{{SSRC: 0x12345678, Jitter: 7}}}
	xr := &rtcp.ExtendedReport{SenderSSRC: 0x9abcdef0, Reports: []rtcp.ReportBlock{&rtcp.VoIPMetricsReportBlock{
		SSRC: 0x12345678, LossRate: 5, DiscardRate: 1, BurstDensity: 2, GapDensity: 3, BurstDuration: 40,
		GapDuration: 50, RoundTripDelay: 60, EndSystemDelay: 11}}}
	tests := []struct {
		name string
		in   []rtcp.Packet
		want string
	}{
		{
			name: "SR + SDES (type and report count of the last packet, like heplify)",
			in:   []rtcp.Packet{sr, sdes},
			want: `{"sender_information":{"ntp_timestamp_sec":3909753644,"ntp_timestamp_usec":2147483648,"rtp_timestamp":160,"packets":2,"octets":320},` +
				`"ssrc":305419896,"type":202,"report_count":1,"report_blocks":[{"source_ssrc":2596069104,"fraction_lost":25,"packets_lost":3,` +
				`"highest_seq_no":65543,"ia_jitter":12,"lsr":455901184,"dlsr":65536}],"report_blocks_xr":{"type":0,"id":0,"fraction_lost":0,` +
				`"fraction_discard":0,"burst_density":0,"gap_density":0,"burst_duration":0,"gap_duration":0,"round_trip_delay":0,` +
				`"end_system_delay":0},"sdes_ssrc":305419896}`,
		},
		{
			name: "RR",
			in:   []rtcp.Packet{rr},
			want: `{"sender_information":{"ntp_timestamp_sec":0,"ntp_timestamp_usec":0,"rtp_timestamp":0,"packets":0,"octets":0},` +
				`"ssrc":2596069104,"type":201,"report_count":1,"report_blocks":[{"source_ssrc":305419896,"fraction_lost":0,"packets_lost":0,` +
				`"highest_seq_no":0,"ia_jitter":7,"lsr":0,"dlsr":0}],"report_blocks_xr":{"type":0,"id":0,"fraction_lost":0,` +
				`"fraction_discard":0,"burst_density":0,"gap_density":0,"burst_duration":0,"gap_duration":0,"round_trip_delay":0,` +
				`"end_system_delay":0},"sdes_ssrc":0}`,
		},
		{
			name: "RR + XR VoIP metrics",
			in:   []rtcp.Packet{&rtcp.ReceiverReport{SSRC: 0x9abcdef0}, xr},
			want: `{"sender_information":{"ntp_timestamp_sec":0,"ntp_timestamp_usec":0,"rtp_timestamp":0,"packets":0,"octets":0},` +
				`"ssrc":2596069104,"type":207,"report_count":0,"report_blocks":[],"report_blocks_xr":{"type":7,"id":305419896,` +
				`"fraction_lost":5,"fraction_discard":1,"burst_density":2,"gap_density":3,"burst_duration":40,"gap_duration":50,` +
				`"round_trip_delay":60,"end_system_delay":11},"sdes_ssrc":0}`,
		},
	}
	for _, tt := range tests {
		got, err := RTCPJSON(marshalRTCP(t, tt.in...))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if string(got) != tt.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tt.name, got, tt.want)
		}
	}
	for _, bad := range [][]byte{nil, {0x80}, {0x80, 200, 0, 50, 1, 2, 3, 4}} {
		if _, err := RTCPJSON(bad); !errors.Is(err, ErrBadRTCP) {
			t.Errorf("RTCPJSON(% x) err %v", bad, err)
		}
	}
}

func TestRTCPJSONPacket(t *testing.T) {
	src, dst := netip.MustParseAddrPort("[::ffff:192.0.2.10]:40001"), netip.MustParseAddrPort("192.0.2.20:40003")
	ts := time.Unix(1700000000, 5000).UTC()
	raw := marshalRTCP(t, &rtcp.ReceiverReport{SSRC: 1})
	p, err := RTCPJSONPacket(raw, src, dst, ts, []byte("call-1@h"))
	if err != nil {
		t.Fatal(err)
	}
	if p.ProtoType != hep.ProtoRTCPJSON || p.Protocol != ProtoUDP || p.Family != familyIPv4 ||
		p.Src.Addr() != netip.MustParseAddr("192.0.2.10") || string(p.CorrelationID) != "call-1@h" || !p.Time.Equal(ts) {
		t.Fatalf("%+v", p)
	}
	var m map[string]any
	if err := json.Unmarshal(p.Payload, &m); err != nil || m["type"] != float64(201) {
		t.Fatalf("payload %s: %v", p.Payload, err)
	}
	if _, err := RTCPJSONPacket([]byte{1}, src, dst, ts, nil); !errors.Is(err, ErrBadRTCP) {
		t.Fatalf("bad RTCP: %v", err)
	}
}

func TestSIPPacket(t *testing.T) {
	payload := []byte("INVITE sip:b@h SIP/2.0\r\n\r\n")
	ts := time.Unix(1700000000, 123456000).UTC()
	for _, tt := range []struct {
		src, dst string
		family   uint8
		proto    uint8
	}{
		{"192.0.2.10:5060", "192.0.2.20:5080", familyIPv4, ProtoUDP},
		{"[2001:db8::1]:5060", "[2001:db8::2]:5061", familyIPv6, ProtoTCP},
		{"[::ffff:192.0.2.10]:5060", "[::ffff:192.0.2.20]:5060", familyIPv4, ProtoSCTP},
	} {
		p := SIPPacket(payload, netip.MustParseAddrPort(tt.src), netip.MustParseAddrPort(tt.dst), ts, tt.proto)
		b, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var q hep.Packet
		if err := q.Unmarshal(b); err != nil {
			t.Fatal(err)
		}
		if q.Family != tt.family || q.Protocol != tt.proto || q.ProtoType != hep.ProtoSIP || !q.Time.Equal(ts) ||
			string(q.Payload) != string(payload) || q.Src.Port() != p.Src.Port() || q.Dst.Addr() != p.Dst.Addr() {
			t.Fatalf("%s: %+v", tt.src, q)
		}
		if &p.Payload[0] != &payload[0] {
			t.Fatal("payload copied; documented to alias")
		}
	}
}
