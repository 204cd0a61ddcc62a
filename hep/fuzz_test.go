package hep

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// maxGrowth is how much re-encoding can add to a decoded HEP3 packet: two
// 6-byte MAC chunks widen to u64 (2+2), and a usec chunk >= 1e6 without a
// seconds chunk gains a seconds chunk (10).
const maxGrowth = 14

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzUnmarshal/synthetic-* from syntheticSeeds")

// FuzzUnmarshal checks decode → encode → decode → Equal for every input
// that decodes (including ones with wrongly sized chunks, which must survive
// in Extra), and that a decoded packet re-encodes to a stable byte string.
func FuzzUnmarshal(f *testing.F) {
	f.Add(hep3())
	f.Add(hep3([]byte{0, 0, 0, 7, 0, 9, 1, 2, 3}, []byte{0, 0, 0, 0x0f, 0, 7, 'X'}))
	f.Add(hep3([]byte{0, 0, 0, 9, 0, 10, 0xff, 0xff, 0xff, 0xff}, []byte{0, 0, 0, 10, 0, 10, 0xff, 0xff, 0xff, 0xff}))
	f.Add(hep3([]byte{0, 3, 0, 1, 0, 7, 1}, []byte{0, 0, 0, 0x10, 0, 8, 0x78, 0x9c}))
	if b, err := fullPacket().Marshal(); err == nil {
		f.Add(b)
	}
	f.Add([]byte{2, 0x01, 2, 17, 0x13, 0xc4, 0x13, 0xc6, 192, 168, 0, 1, 192, 168, 0, 2,
		0x4c, 0x36, 0x4d, 0x58, 0x40, 0xe2, 0x01, 0x00, 0xe4, 0x00, 0x00, 0x00, 'S', 'I', 'P'})
	f.Add([]byte{1, 16, 2, 6, 0, 1, 0, 2, 1, 1, 1, 1, 2, 2, 2, 2, 'S'})
	// The shared capture corpus is a test input only (third-party bytes are
	// never committed as seeds): add its packets when it is present.
	for _, name := range []string{corpusPlain, corpusCompressed} {
		if _, err := os.Stat(filepath.Join(corpusDir, name)); err == nil {
			for _, b := range corpusPayloads(f, name) {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Packet
		if err := p.Unmarshal(b); err != nil && !errors.Is(err, ErrBadChunkValue) {
			return
		}
		out, err := p.Marshal()
		if errors.Is(err, ErrTooLarge) && len(b) > maxPacketLen-maxGrowth {
			return // normalisation may push a near-64 KiB packet over the limit
		}
		if err != nil {
			t.Fatalf("Marshal of decoded packet: %v", err)
		}
		var q Packet
		if err := q.Unmarshal(out); err != nil && !errors.Is(err, ErrBadChunkValue) {
			t.Fatalf("re-Unmarshal: %v\nin  %x\nout %x", err, b, out)
		}
		if !p.Equal(&q) {
			t.Fatalf("round trip differs\nin  %x\nout %x\np %+v\nq %+v", b, out, p, q)
		}
		again, err := q.Marshal()
		if err != nil || string(again) != string(out) {
			t.Fatalf("encoding not stable: %v\n%x\n%x", err, out, again)
		}
	})
}

// syntheticSeeds are packets shaped like what real agents send (heplify
// SIP/UDP with auth key and correlation id, a LOG line, an RTCP JSON report,
// zlib-compressed SIP over TCP, IPv6, sngrep-style HEPv2), built here so the
// committed seed corpus holds no third-party capture bytes.
func syntheticSeeds() [][]byte {
	sip := "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n" +
		"From: <sip:alice@192.0.2.10>;tag=a1\r\nTo: <sip:bob@192.0.2.20>\r\nCall-ID: seed-1@192.0.2.10\r\n" +
		"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	base := func() *Packet {
		return &Packet{
			Family: familyIPv4, Protocol: 17,
			Src: ap("192.0.2.10:5060"), Dst: ap("192.0.2.20:5060"),
			Time:      time.Unix(1700000000, 123456000).UTC(),
			ProtoType: ProtoSIP, CaptureID: 2001, AuthKey: []byte("myHep"),
			CorrelationID: []byte("seed-1@192.0.2.10"), Payload: []byte(sip),
		}
	}
	var pkts []*Packet
	pkts = append(pkts, base())
	p := base()
	p.ProtoType, p.Payload = ProtoLog, []byte("proxy: relayed OPTIONS to 192.0.2.20")
	pkts = append(pkts, p)
	p = base()
	p.ProtoType, p.Src, p.Dst = ProtoRTCPJSON, ap("192.0.2.10:40001"), ap("192.0.2.20:40003")
	p.Payload = []byte(`{"sender_information":{"ntp_timestamp_sec":3909000000,"ntp_timestamp_usec":0,` +
		`"rtp_timestamp":160,"packets":2,"octets":320},"ssrc":305419896,"type":200,"report_count":1,` +
		`"report_blocks":[{"source_ssrc":2596069104,"fraction_lost":0,"packets_lost":0,"highest_seq_no":7,` +
		`"ia_jitter":3,"lsr":0,"dlsr":0}],"report_blocks_xr":{"type":0,"id":0,"fraction_lost":0,` +
		`"fraction_discard":0,"burst_density":0,"gap_density":0,"burst_duration":0,"gap_duration":0,` +
		`"round_trip_delay":0,"end_system_delay":0},"sdes_ssrc":305419896}`)
	pkts = append(pkts, p)
	p = base()
	p.Protocol, p.CaptureID, p.AuthKey, p.CorrelationID = 6, 228, nil, nil
	if err := p.Compress(nil, Zlib); err == nil {
		pkts = append(pkts, p)
	}
	p = base()
	p.Family, p.Src, p.Dst, p.GroupID = familyIPv6, ap("[2001:db8::10]:5060"), ap("[2001:db8::20]:5062"), []byte("node1")
	pkts = append(pkts, p)
	p = base()
	p.Version, p.CaptureID, p.V2LittleEndian = 2, 2002, true
	pkts = append(pkts, p)
	p = base()
	p.Version = 1
	pkts = append(pkts, p)
	var out [][]byte
	for _, p := range pkts {
		if b, err := p.Marshal(); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// TestWriteFuzzSeeds refreshes the committed seed corpus from
// syntheticSeeds: go test -run TestWriteFuzzSeeds -update-seeds ./hep/
func TestWriteFuzzSeeds(t *testing.T) {
	seeds := syntheticSeeds()
	if len(seeds) != 7 {
		t.Fatalf("%d synthetic seeds encode, want 7", len(seeds))
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzUnmarshal")
	for i, b := range seeds {
		file := filepath.Join(dir, fmt.Sprintf("synthetic-%02d", i))
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if *updateSeeds {
			if err := os.WriteFile(file, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(file)
		if err != nil || string(got) != want {
			t.Errorf("%s is stale or missing (%v); rerun with -update-seeds", file, err)
		}
	}
}
