package pcap

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

type wpkt struct {
	p    Packet
	data string
}

var roundTripPackets = []wpkt{
	{Packet{Timestamp: ts(1_700_000_000, 123_456_789), Length: 3}, "abc"},
	{Packet{Timestamp: ts(1_700_000_001, 0), Length: 1500, InterfaceIndex: 1}, "cut"},
	{Packet{Timestamp: ts(0, 999), Length: 0}, ""},
	{Packet{Timestamp: ts(4_000_000_000, 5), Length: 2, InterfaceIndex: 1}, "caplen > len"},
}

func TestWriterRoundTrip(t *testing.T) {
	for _, o := range []WriterOptions{
		{LinkType: LinkTypeEthernet},
		{LinkType: LinkTypeLinuxSLL, Nanosecond: true},
		{LinkType: LinkTypeRaw, Nanosecond: true, BigEndian: true, Snaplen: 5},
	} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, wp := range roundTripPackets {
			if err := w.WritePacket(wp.p, []byte(wp.data)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r, err := NewReader(&buf, "rt")
		if err != nil {
			t.Fatal(err)
		}
		if f := r.Format(); f.Nanosecond != o.Nanosecond || f.BigEndian != o.BigEndian || r.LinkType() != o.LinkType {
			t.Fatalf("%+v: format %+v link %v", o, f, r.LinkType())
		}
		snap := o.Snaplen
		if snap == 0 {
			snap = MaxRecordLength
		}
		for i, wp := range roundTripPackets {
			data, p, err := r.Next()
			if err != nil {
				t.Fatalf("%+v: packet %d: %v", o, i+1, err)
			}
			want := wp.data[:min(len(wp.data), snap)]
			wantTS := wp.p.Timestamp
			if !o.Nanosecond {
				wantTS = wantTS.Truncate(time.Microsecond)
			}
			wantLen := wp.p.Length
			if wantLen == 0 {
				wantLen = len(wp.data)
			}
			if string(data) != want || !p.Timestamp.Equal(wantTS) || p.Length != wantLen || p.LinkType != o.LinkType {
				t.Errorf("%+v: packet %d: %q %v len %d, want %q %v %d", o, i+1, data, p.Timestamp, p.Length, want, wantTS, wantLen)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("%v", err)
		}
	}
}

func TestWriterTimeRange(t *testing.T) {
	w, _ := NewWriter(io.Discard, WriterOptions{LinkType: LinkTypeEthernet})
	for _, tm := range []time.Time{ts(-1, 0), ts(1<<32, 0)} {
		if err := w.WritePacket(Packet{Timestamp: tm}, nil); !errors.Is(err, ErrTimeRange) {
			t.Errorf("%v: %v", tm, err)
		}
	}
	nw, _ := NewNgWriter(io.Discard, NgWriterOptions{})
	nw.AddInterface(LinkTypeEthernet, 0)
	if err := nw.WritePacket(Packet{Timestamp: ts(-1, 0)}, nil); !errors.Is(err, ErrTimeRange) {
		t.Errorf("ng: %v", err)
	}
	if err := nw.WritePacket(Packet{InterfaceIndex: 1}, nil); !errors.Is(err, ErrNoInterface) {
		t.Errorf("ng: %v", err)
	}
}

func TestNgWriterRoundTrip(t *testing.T) {
	for _, big := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewNgWriter(&buf, NgWriterOptions{Application: "voiptool test", BigEndian: big})
		if err != nil {
			t.Fatal(err)
		}
		lts := []LinkType{LinkTypeEthernet, LinkTypeLinuxSLL}
		for i, lt := range lts {
			snap := 0
			if i == 1 {
				snap = 3
			}
			if id, err := w.AddInterface(lt, snap); err != nil || id != i {
				t.Fatalf("AddInterface = %d, %v", id, err)
			}
		}
		for _, wp := range roundTripPackets {
			if err := w.WritePacket(wp.p, []byte(wp.data)); err != nil {
				t.Fatal(err)
			}
		}
		w.Flush()
		r, err := NewReader(bytes.NewReader(buf.Bytes()), "rt.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		if r.Format().BigEndian != big || len(r.Interfaces()) != 2 || r.Interfaces()[1].TicksPerSecond != 1e9 {
			t.Fatalf("format %+v interfaces %+v", r.Format(), r.Interfaces())
		}
		for i, wp := range roundTripPackets {
			data, p, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			want := wp.data
			if wp.p.InterfaceIndex == 1 {
				want = want[:min(len(want), 3)]
			}
			if string(data) != want || !p.Timestamp.Equal(wp.p.Timestamp) || p.InterfaceIndex != wp.p.InterfaceIndex || p.LinkType != lts[wp.p.InterfaceIndex] {
				t.Errorf("packet %d: %q %v if %d", i+1, data, p.Timestamp, p.InterfaceIndex)
			}
			// Re-read by offset, as "save this call" does.
			got, err := ReadRecordAt(bytes.NewReader(buf.Bytes()), r.Format(), p, nil)
			if err != nil || string(got) != want {
				t.Errorf("ReadRecordAt packet %d: %q, %v", i+1, got, err)
			}
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatal(err)
		}
	}
}

func TestReadRecordAt(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"a.pcap":   pcapFile(t, 30, 33),
		"b.pcapng": pcapngFile(t, 120, 17),
		"c.pcapng": cat(shb(false), idb(false, LinkTypeEthernet, 4), block(false, blockSPB, (&bb{}).u32(6).str("abcdef").b),
			shb(true), idb(true, LinkTypeRaw, 0), epb(true, 0, 5, 2, "be"),
			block(true, blockPB, (&bb{big: true}).u16(0).u16(0).u32(0).u32(0).u32(2).u32(2).str("pb").b)),
	}
	for name, in := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, in, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var buf []byte
		for {
			data, p, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			want := string(data)
			buf, err = ReadRecordAt(f, r.Format(), p, buf)
			if err != nil || string(buf) != want {
				t.Fatalf("%s packet %d: %q, %v; want %q", name, p.Number, buf, err, want)
			}
			// A wrong offset is caught, not misread.
			q := p
			q.Offset++
			if _, err := ReadRecordAt(f, r.Format(), q, nil); err == nil {
				t.Fatalf("%s packet %d: a shifted offset was accepted", name, p.Number)
			}
		}
		f.Close()
		r.Close()
	}
	_, err := ReadRecordAt(bytes.NewReader(nil), Format{Kind: FormatPcap, Compressed: true}, Packet{}, nil)
	if !errors.Is(err, ErrNotSeekable) {
		t.Fatalf("compressed: %v", err)
	}
	_, err = ReadRecordAt(bytes.NewReader(pcapFile(t, 1, 10)[:30]), Format{Kind: FormatPcap}, Packet{Offset: 24, CaptureLength: 10}, nil)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("cut: %v", err)
	}
}

func TestWriterAllocs(t *testing.T) {
	w, _ := NewWriter(io.Discard, WriterOptions{LinkType: LinkTypeEthernet})
	nw, _ := NewNgWriter(io.Discard, NgWriterOptions{})
	nw.AddInterface(LinkTypeEthernet, 0)
	data := make([]byte, 201)
	p := Packet{Timestamp: ts(1_700_000_000, 1)}
	if n := testing.AllocsPerRun(500, func() { w.WritePacket(p, data) }); n != 0 {
		t.Errorf("Writer.WritePacket allocs %v", n)
	}
	if n := testing.AllocsPerRun(500, func() { nw.WritePacket(p, data) }); n != 0 {
		t.Errorf("NgWriter.WritePacket allocs %v", n)
	}
}

func BenchmarkWritePcap(b *testing.B) {
	w, _ := NewWriter(io.Discard, WriterOptions{LinkType: LinkTypeEthernet})
	data := make([]byte, 200)
	p := Packet{Timestamp: ts(1_700_000_000, 1)}
	b.SetBytes(216)
	b.ReportAllocs()
	for b.Loop() {
		w.WritePacket(p, data)
	}
}

func BenchmarkWritePcapng(b *testing.B) {
	w, _ := NewNgWriter(io.Discard, NgWriterOptions{})
	w.AddInterface(LinkTypeEthernet, 0)
	data := make([]byte, 200)
	p := Packet{Timestamp: ts(1_700_000_000, 1)}
	b.SetBytes(232)
	b.ReportAllocs()
	for b.Loop() {
		w.WritePacket(p, data)
	}
}
