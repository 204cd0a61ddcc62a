package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"
)

// maxFuzzRecords bounds the read loop; every record or block consumes at
// least 12 bytes of the (decompressed) input, so a file cannot honestly
// yield more than this from fuzz-sized inputs.
const maxFuzzRecords = 1 << 20

func FuzzReader(f *testing.F) {
	for _, tc := range readCases {
		f.Add(tc.in)
	}
	f.Add(gz(f, readCases[0].in))
	f.Add(pcapngFile(f, 3, 5))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := NewReader(bytes.NewReader(in), "fuzz")
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("open error %v is not a *FormatError", err)
			}
			return
		}
		if len(in)%2 == 1 { // half the inputs are read ahead: the same records, the same damage
			defer r.ReadAhead()()
		}
		n := 0
		for ; n < maxFuzzRecords; n++ {
			data, p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FormatError", err)
				}
				if _, _, err := r.Next(); err != io.EOF {
					t.Fatalf("after damage: %v", err)
				}
				break
			}
			if len(data) != p.CaptureLength || p.CaptureLength > MaxRecordLength || p.Number != n+1 {
				t.Fatalf("record %d: len %d, %+v", n+1, len(data), p)
			}
			if p.InterfaceIndex >= len(r.Interfaces()) {
				t.Fatalf("record %d: interface %d of %d", n+1, p.InterfaceIndex, len(r.Interfaces()))
			}
			if !r.Format().Compressed {
				got, err := ReadRecordAt(bytes.NewReader(in), r.Format(), p, nil)
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("record %d: ReadRecordAt %q, %v; Next gave %q", n+1, got, err, data)
				}
			}
		}
		if n == maxFuzzRecords {
			t.Fatalf("more than %d records from %d bytes", n, len(in))
		}
		if r.Stats().Packets != n {
			t.Fatalf("Stats().Packets %d, read %d", r.Stats().Packets, n)
		}
	})
}

// fuzzPackets turns bytes into packets: per packet a 12-byte header
// (seconds u32, nanoseconds u32 mod 1e9, original length u16, interface
// byte, data length byte) then the data.
func fuzzPackets(b []byte) (ps []wpkt) {
	for len(b) >= 12 {
		sec, ns := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])%1e9
		wire, iface, n := int(binary.LittleEndian.Uint16(b[8:])), int(b[10]%2), int(b[11])
		b = b[12:]
		n = min(n, len(b))
		ps = append(ps, wpkt{Packet{Timestamp: time.Unix(int64(sec), int64(ns)), Length: wire, InterfaceIndex: iface}, string(b[:n])})
		b = b[n:]
	}
	return ps
}

// FuzzWriterRoundTrip writes packets with Writer and NgWriter, reads them
// back and compares: data (cut to the snaplen), timestamp (to the
// microsecond unless nanosecond), lengths and interface.
func FuzzWriterRoundTrip(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\xe8\x03\x00\x00\x05\x00\x00\x05hello"), false, false, uint8(0))
	f.Add([]byte("\xff\xff\xff\xff\xff\xc9\x9a\x3b\x00\x00\x01\x03abc\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), true, true, uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, nano, big bool, snap uint8) {
		ps := fuzzPackets(in)
		var pbuf, nbuf bytes.Buffer
		pw, err := NewWriter(&pbuf, WriterOptions{LinkType: LinkTypeEthernet, Nanosecond: nano, BigEndian: big, Snaplen: int(snap)})
		if err != nil {
			t.Fatal(err)
		}
		nw, err := NewNgWriter(&nbuf, NgWriterOptions{BigEndian: big, Application: "fuzz"})
		if err != nil {
			t.Fatal(err)
		}
		nw.AddInterface(LinkTypeLinuxSLL, 0)
		nw.AddInterface(LinkTypeRaw, int(snap))
		for _, p := range ps {
			if err := pw.WritePacket(p.p, []byte(p.data)); err != nil {
				t.Fatal(err)
			}
			if err := nw.WritePacket(p.p, []byte(p.data)); err != nil {
				t.Fatal(err)
			}
		}
		pw.Flush()
		nw.Flush()
		for _, out := range []struct {
			name    string
			b       []byte
			snaps   [2]int
			lts     [2]LinkType
			classic bool
		}{
			{"pcap", pbuf.Bytes(), [2]int{int(snap), int(snap)}, [2]LinkType{LinkTypeEthernet, LinkTypeEthernet}, true},
			{"pcapng", nbuf.Bytes(), [2]int{0, int(snap)}, [2]LinkType{LinkTypeLinuxSLL, LinkTypeRaw}, false},
		} {
			r, err := NewReader(bytes.NewReader(out.b), out.name)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range ps {
				data, p, err := r.Next()
				if err != nil {
					t.Fatalf("%s packet %d: %v", out.name, i+1, err)
				}
				iface := w.p.InterfaceIndex
				if out.classic {
					iface = 0
				}
				want := w.data
				if s := out.snaps[w.p.InterfaceIndex]; s > 0 {
					want = want[:min(len(want), s)]
				}
				wantTS := w.p.Timestamp
				if out.classic && !nano {
					wantTS = wantTS.Truncate(time.Microsecond)
				}
				wantLen := w.p.Length
				if wantLen == 0 {
					wantLen = len(w.data)
				}
				if string(data) != want || !p.Timestamp.Equal(wantTS) || p.Length != wantLen || p.InterfaceIndex != iface || p.LinkType != out.lts[w.p.InterfaceIndex] {
					t.Fatalf("%s packet %d: %q %v len %d if %d %v; want %q %v %d %d", out.name, i+1, data, p.Timestamp, p.Length, p.InterfaceIndex, p.LinkType, want, wantTS, wantLen, iface)
				}
			}
			if _, _, err := r.Next(); err != io.EOF {
				t.Fatalf("%s: after %d packets: %v", out.name, len(ps), err)
			}
		}
	})
}
