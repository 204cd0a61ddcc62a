package pcap

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

type rec struct {
	ts     time.Time
	caplen int
	length int
	iface  int
	lt     LinkType
	data   string
}

type ifaceWant struct {
	lt      LinkType
	snaplen int
	tps     uint64
	tsoff   int64
	name    string
	fcs     int
}

func ts(sec, nsec int64) time.Time { return time.Unix(sec, nsec).UTC() }

var readCases = []struct {
	name        string
	in          []byte
	wantOpenErr error
	format      Format
	ifaces      []ifaceWant
	recs        []rec
	wantErr     error // what Next returns after the records; nil means io.EOF
	skipped     int
	sections    int
}{
	{
		name: "pcap LE µs",
		in: []byte{
			0xd4, 0xc3, 0xb2, 0xa1, /* magic a1b2c3d4 LE: µs */
			0x02, 0x00, 0x04, 0x00, /* version 2.4 */
			0, 0, 0, 0, 0, 0, 0, 0, /* thiszone, sigfigs */
			0xff, 0xff, 0x00, 0x00, /* snaplen 65535 */
			0x01, 0x00, 0x00, 0x00, /* link type 1 Ethernet */
			0x01, 0x00, 0x00, 0x00, /* ts 1 s */
			0x02, 0x00, 0x00, 0x00, /* 2 µs */
			0x03, 0x00, 0x00, 0x00, /* incl_len 3 */
			0x05, 0x00, 0x00, 0x00, /* orig_len 5 */
			'a', 'b', 'c',
		},
		format:   Format{Kind: FormatPcap},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, snaplen: 65535, tps: 1e6}},
		recs:     []rec{{ts: ts(1, 2000), caplen: 3, length: 5, lt: LinkTypeEthernet, data: "abc"}},
		sections: 1,
	},
	{
		name: "pcap BE ns with FCS bits",
		in: []byte{
			0xa1, 0xb2, 0x3c, 0x4d, /* magic a1b23c4d BE: ns */
			0x00, 0x02, 0x00, 0x04, /* version 2.4 */
			0, 0, 0, 0, 0, 0, 0, 0, /* thiszone, sigfigs */
			0x00, 0x04, 0x00, 0x00, /* snaplen 262144 */
			0x14, 0x00, 0x00, 0x71, /* FCS len 1 word, F bit, link type 113 SLL */
			0x60, 0x00, 0x00, 0x00, /* ts 0x60000000 s */
			0x3b, 0x9a, 0xc9, 0xff, /* 999999999 ns */
			0x00, 0x00, 0x00, 0x02, /* incl_len 2 */
			0x00, 0x00, 0x00, 0x02, /* orig_len 2 */
			'h', 'i',
			0x60, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* empty record */
		},
		format: Format{Kind: FormatPcap, BigEndian: true, Nanosecond: true},
		ifaces: []ifaceWant{{lt: LinkTypeLinuxSLL, snaplen: 262144, tps: 1e9, fcs: 2}},
		recs: []rec{
			{ts: ts(0x60000000, 999999999), caplen: 2, length: 2, lt: LinkTypeLinuxSLL, data: "hi"},
			{ts: ts(0x60000001, 0), lt: LinkTypeLinuxSLL},
		},
		sections: 1,
	},
	{
		name: "pcap LE ns",
		in: (&bb{}).u32(magicNano).u16(2).u16(4).u32(0).u32(0).u32(100).u32(101).
			u32(7).u32(8).u32(1).u32(1).str("x").b,
		format:   Format{Kind: FormatPcap, Nanosecond: true},
		ifaces:   []ifaceWant{{lt: LinkTypeRaw, snaplen: 100, tps: 1e9}},
		recs:     []rec{{ts: ts(7, 8), caplen: 1, length: 1, lt: LinkTypeRaw, data: "x"}},
		sections: 1,
	},
	{
		name: "pcapng LE default µs",
		in: []byte{
			0x0a, 0x0d, 0x0d, 0x0a, /* SHB */
			0x1c, 0x00, 0x00, 0x00, /* length 28 */
			0x4d, 0x3c, 0x2b, 0x1a, /* byte-order magic, LE */
			0x01, 0x00, 0x00, 0x00, /* version 1.0 */
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* section length -1 */
			0x1c, 0x00, 0x00, 0x00, /* length 28 */
			0x01, 0x00, 0x00, 0x00, /* IDB */
			0x14, 0x00, 0x00, 0x00, /* length 20 */
			0x01, 0x00, 0x00, 0x00, /* link type 1, reserved */
			0x00, 0x00, 0x00, 0x00, /* snaplen 0 */
			0x14, 0x00, 0x00, 0x00, /* length 20 */
			0x06, 0x00, 0x00, 0x00, /* EPB */
			0x24, 0x00, 0x00, 0x00, /* length 36 */
			0x00, 0x00, 0x00, 0x00, /* interface 0 */
			0x00, 0x00, 0x00, 0x00, /* ts high */
			0x40, 0x42, 0x0f, 0x00, /* ts low 1000000 µs */
			0x03, 0x00, 0x00, 0x00, /* captured 3 */
			0x03, 0x00, 0x00, 0x00, /* original 3 */
			'a', 'b', 'c', 0x00, /* data + padding */
			0x24, 0x00, 0x00, 0x00, /* length 36 */
		},
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		recs:     []rec{{ts: ts(1, 0), caplen: 3, length: 3, lt: LinkTypeEthernet, data: "abc"}},
		sections: 1,
	},
	{
		name: "pcapng BE tsresol 9",
		in: cat(shb(true),
			idb(true, LinkTypeRaw, 65535, opt(true, optIfTSResol, []byte{9}), opt(true, optIfName, []byte("eth0"))),
			epb(true, 0, 1_500_000_000_123_456_789, 10, "12345")),
		format:   Format{Kind: FormatPcapng, BigEndian: true},
		ifaces:   []ifaceWant{{lt: LinkTypeRaw, snaplen: 65535, tps: 1e9, name: "eth0"}},
		recs:     []rec{{ts: ts(1_500_000_000, 123_456_789), caplen: 5, length: 10, lt: LinkTypeRaw, data: "12345"}},
		sections: 1,
	},
	{
		name: "pcapng tsresol 2^-10",
		in: cat(shb(false),
			idb(false, LinkTypeEthernet, 0, opt(false, optIfTSResol, []byte{0x80 | 10})),
			epb(false, 0, 5*1024+512, 1, "z")),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1024}},
		recs:     []rec{{ts: ts(5, 500_000_000), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "z"}},
		sections: 1,
	},
	{
		name: "pcapng tsresol ms and tsoffset",
		in: cat(shb(false),
			idb(false, LinkTypeEthernet, 0, opt(false, optIfTSResol, []byte{3}), opt(false, optIfTSOffset, []byte{100, 0, 0, 0, 0, 0, 0, 0})),
			epb(false, 0, 2_250, 1, "z")),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1000, tsoff: 100}},
		recs:     []rec{{ts: ts(102, 250_000_000), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "z"}},
		sections: 1,
	},
	{
		name: "pcapng tsresol 10^-12 (ps)",
		in: cat(shb(false),
			idb(false, LinkTypeEthernet, 0, opt(false, optIfTSResol, []byte{12})),
			epb(false, 0, 3_000_001_999_999, 1, "z")), // 3 s + 1999.999 ns: truncated
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e12}},
		recs:     []rec{{ts: ts(3, 1_999), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "z"}},
		sections: 1,
	},
	{
		name: "pcapng SPB uses IDB 0, captured = min(orig, snaplen, room)",
		in: cat(shb(false), idb(false, LinkTypeEthernet, 4),
			block(false, blockSPB, (&bb{}).u32(6).str("abcdef").b), // orig 6, snaplen 4
			block(false, blockSPB, (&bb{}).u32(2).str("xy").b)),    // orig 2, padded to 4
		format: Format{Kind: FormatPcapng},
		ifaces: []ifaceWant{{lt: LinkTypeEthernet, snaplen: 4, tps: 1e6}},
		recs: []rec{
			{caplen: 4, length: 6, lt: LinkTypeEthernet, data: "abcd"},
			{caplen: 2, length: 2, lt: LinkTypeEthernet, data: "xy"},
		},
		sections: 1,
	},
	{
		name: "pcapng obsolete packet block",
		in: cat(shb(false), idb(false, LinkTypeEthernet, 0),
			block(false, blockPB, (&bb{}).u16(0).u16(7 /*drops*/).u32(0).u32(3_000_000).u32(2).u32(9).str("pb").b)),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		recs:     []rec{{ts: ts(3, 0), caplen: 2, length: 9, lt: LinkTypeEthernet, data: "pb"}},
		sections: 1,
	},
	{
		name: "pcapng two IDBs, different link types",
		in: cat(shb(false), idb(false, LinkTypeEthernet, 0), idb(false, LinkTypeLinuxSLL, 0, opt(false, optIfTSResol, []byte{9})),
			epb(false, 1, 2_000_000_000, 1, "b"), epb(false, 0, 3_000_000, 1, "a")),
		format: Format{Kind: FormatPcapng},
		ifaces: []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}, {lt: LinkTypeLinuxSLL, tps: 1e9}},
		recs: []rec{
			{ts: ts(2, 0), caplen: 1, length: 1, iface: 1, lt: LinkTypeLinuxSLL, data: "b"},
			{ts: ts(3, 0), caplen: 1, length: 1, iface: 0, lt: LinkTypeEthernet, data: "a"},
		},
		sections: 1,
	},
	{
		name: "pcapng two sections, LE then BE, interface ids restart",
		in: cat(shb(false), idb(false, LinkTypeEthernet, 0), epb(false, 0, 1_000_000, 1, "1"),
			shb(true), idb(true, LinkTypeRaw, 0), epb(true, 0, 2_000_000, 1, "2")),
		format: Format{Kind: FormatPcapng},
		ifaces: []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}, {lt: LinkTypeRaw, tps: 1e6}},
		recs: []rec{
			{ts: ts(1, 0), caplen: 1, length: 1, iface: 0, lt: LinkTypeEthernet, data: "1"},
			{ts: ts(2, 0), caplen: 1, length: 1, iface: 1, lt: LinkTypeRaw, data: "2"},
		},
		sections: 2,
	},
	{
		name: "pcapng skips NRB, ISB, DSB, custom and unknown blocks",
		in: cat(shb(false),
			block(false, 4, []byte{0, 0, 0, 0}), // NRB before the IDB
			idb(false, LinkTypeEthernet, 0),
			block(false, 5, make([]byte, 12)),            // ISB
			block(false, 0x0a, make([]byte, 8)),          // DSB
			block(false, 0x00000bad, []byte{1, 2, 3, 4}), // custom
			block(false, 0x40000bad, nil),                // custom, do not copy
			block(false, 0x12345678, []byte("whatever")), // unknown
			epb(false, 0, 1_000_000, 1, "p")),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		recs:     []rec{{ts: ts(1, 0), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "p"}},
		skipped:  6,
		sections: 1,
	},
	{
		name:     "pcapng without interfaces",
		in:       shb(false),
		format:   Format{Kind: FormatPcapng},
		sections: 1,
	},

	// Damage: records before it are kept, then the sentinel.
	{
		name:        "not a capture",
		in:          []byte("GET / HTTP/1.1\r\n"),
		wantOpenErr: ErrUnknownFormat,
	},
	{
		name:        "three bytes",
		in:          []byte{0xd4, 0xc3, 0xb2},
		wantOpenErr: ErrTruncated,
	},
	{
		name:        "pcap header cut",
		in:          []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0},
		wantOpenErr: ErrTruncated,
	},
	{
		name:        "pcap version 3",
		in:          (&bb{}).u32(magicMicro).u16(3).u16(0).u32(0).u32(0).u32(0).u32(1).b,
		wantOpenErr: ErrBadHeader,
	},
	{
		name:        "pcapng version 2",
		in:          block(false, blockSHB, (&bb{}).u32(byteOrderMagic).u16(2).u16(0).u32(0).u32(0).b),
		wantOpenErr: ErrBadHeader,
	},
	{
		name:        "pcapng bad byte-order magic",
		in:          block(false, blockSHB, (&bb{}).u32(0x11223344).u16(1).u16(0).u32(0).u32(0).b),
		wantOpenErr: ErrBadHeader,
	},
	{
		name: "pcap incl_len over 256 KiB",
		in: (&bb{}).u32(magicMicro).u16(2).u16(4).u32(0).u32(0).u32(0xffffffff).u32(1).
			u32(1).u32(0).u32(1).u32(1).str("k").
			u32(2).u32(0).u32(MaxRecordLength + 1).u32(MaxRecordLength + 1).b,
		format:   Format{Kind: FormatPcap},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, snaplen: 0xffffffff, tps: 1e6}},
		recs:     []rec{{ts: ts(1, 0), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "k"}},
		wantErr:  ErrBadRecord,
		sections: 1,
	},
	{
		name: "pcap cut mid-record",
		in: (&bb{}).u32(magicMicro).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1).
			u32(1).u32(0).u32(1).u32(1).str("k").
			u32(2).u32(0).u32(10).u32(10).str("short").b,
		format:   Format{Kind: FormatPcap},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, snaplen: 65535, tps: 1e6}},
		recs:     []rec{{ts: ts(1, 0), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "k"}},
		wantErr:  ErrTruncated,
		sections: 1,
	},
	{
		name:     "pcapng EPB on undefined interface",
		in:       cat(shb(false), idb(false, LinkTypeEthernet, 0), epb(false, 0, 1_000_000, 1, "a"), epb(false, 1, 0, 1, "b")),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		recs:     []rec{{ts: ts(1, 0), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "a"}},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name:     "pcapng EPB before any IDB",
		in:       cat(shb(false), epb(false, 0, 0, 1, "b")),
		format:   Format{Kind: FormatPcapng},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name:     "pcapng block length not a multiple of 4",
		in:       cat(shb(false), idb(false, LinkTypeEthernet, 0), (&bb{}).u32(6).u32(33).b, make([]byte, 40)),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name: "pcapng trailing length mismatch",
		in: func() []byte {
			b := cat(shb(false), idb(false, LinkTypeEthernet, 0), epb(false, 0, 0, 1, "a"))
			b[len(b)-4] ^= 0xff
			return b
		}(),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name: "pcapng EPB captured length beyond the block",
		in: cat(shb(false), idb(false, LinkTypeEthernet, 0),
			block(false, blockEPB, (&bb{}).u32(0).u32(0).u32(0).u32(100).u32(100).str("abcd").b)),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name: "pcapng IDB option runs past the block",
		in: cat(shb(false),
			block(false, blockIDB, (&bb{}).u16(1).u16(0).u32(0).u16(optIfName).u16(200).str("eth0").b)),
		format:   Format{Kind: FormatPcapng},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name:     "pcapng if_tsresol 10^-20",
		in:       cat(shb(false), idb(false, LinkTypeEthernet, 0, opt(false, optIfTSResol, []byte{20}))),
		format:   Format{Kind: FormatPcapng},
		wantErr:  ErrBadBlock,
		sections: 1,
	},
	{
		name:     "pcapng skipped block cut short",
		in:       cat(shb(false), idb(false, LinkTypeEthernet, 0), (&bb{}).u32(5).u32(1000).b, make([]byte, 20)),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		wantErr:  ErrTruncated,
		sections: 1,
	},
	{
		name:     "pcapng second SHB cut",
		in:       cat(shb(false), idb(false, LinkTypeEthernet, 0), epb(false, 0, 0, 1, "a"), shb(true)[:20]),
		format:   Format{Kind: FormatPcapng},
		ifaces:   []ifaceWant{{lt: LinkTypeEthernet, tps: 1e6}},
		recs:     []rec{{ts: ts(0, 0), caplen: 1, length: 1, lt: LinkTypeEthernet, data: "a"}},
		wantErr:  ErrTruncated,
		sections: 1,
	},
}

func TestReaderTable(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in), "in.pcap")
			if tc.wantOpenErr != nil {
				if !errors.Is(err, tc.wantOpenErr) {
					t.Fatalf("open err = %v, want %v", err, tc.wantOpenErr)
				}
				var fe *FormatError
				if !errors.As(err, &fe) || fe.File != "in.pcap" {
					t.Fatalf("open err %v is not a *FormatError naming the file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			checkRead(t, r, tc.format, tc.ifaces, tc.recs, tc.wantErr)
			st := r.Stats()
			if st.SkippedBlocks != tc.skipped || st.Sections != tc.sections {
				t.Errorf("skipped %d sections %d, want %d %d", st.SkippedBlocks, st.Sections, tc.skipped, tc.sections)
			}
			if st.Bytes != int64(len(tc.in)) && tc.wantErr == nil {
				t.Errorf("Bytes = %d, want %d", st.Bytes, len(tc.in))
			}
			if st.Damaged != (tc.wantErr != nil) {
				t.Errorf("Damaged = %v", st.Damaged)
			}
		})
	}
}

func checkRead(t *testing.T, r *Reader, format Format, ifaces []ifaceWant, recs []rec, wantErr error) {
	t.Helper()
	if r.Format() != format {
		t.Errorf("format = %+v, want %+v", r.Format(), format)
	}
	var err error
	var got []rec
	var offsets []int64
	for range len(recs) + 2 {
		var data []byte
		var p Packet
		data, p, err = r.Next()
		if err != nil {
			break
		}
		if p.Number != len(got)+1 || p.CaptureLength != len(data) {
			t.Errorf("record %d: Number %d, CaptureLength %d, len(data) %d", len(got)+1, p.Number, p.CaptureLength, len(data))
		}
		if len(offsets) > 0 && p.Offset <= offsets[len(offsets)-1] {
			t.Errorf("offset %d does not increase", p.Offset)
		}
		offsets = append(offsets, p.Offset)
		got = append(got, rec{ts: p.Timestamp, caplen: p.CaptureLength, length: p.Length, iface: p.InterfaceIndex, lt: p.LinkType, data: string(data)})
	}
	if len(got) != len(recs) {
		t.Fatalf("got %d records %+v, want %d (err %v)", len(got), got, len(recs), err)
	}
	for i := range recs {
		g, w := got[i], recs[i]
		if !g.ts.Equal(w.ts) && !(g.ts.IsZero() && w.ts.IsZero()) {
			t.Errorf("record %d: ts %v, want %v", i+1, g.ts, w.ts)
		}
		g.ts, w.ts = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("record %d: %+v, want %+v", i+1, g, w)
		}
	}
	if wantErr == nil {
		if err != io.EOF {
			t.Fatalf("after records: %v, want io.EOF", err)
		}
	} else {
		if !errors.Is(err, wantErr) {
			t.Fatalf("after records: %v, want %v", err, wantErr)
		}
		var fe *FormatError
		if !errors.As(err, &fe) || fe.Packet != len(recs)+1 {
			t.Fatalf("damage %v: want a *FormatError for packet %d", err, len(recs)+1)
		}
		if _, _, err := r.Next(); err != io.EOF {
			t.Fatalf("after damage: %v, want io.EOF", err)
		}
	}
	gotIf := r.Interfaces()
	if len(gotIf) != len(ifaces) {
		t.Fatalf("interfaces %+v, want %d", gotIf, len(ifaces))
	}
	for i, w := range ifaces {
		g := gotIf[i]
		if (ifaceWant{g.LinkType, g.Snaplen, g.TicksPerSecond, g.TSOffset, g.Name, g.FCSLength}) != w {
			t.Errorf("interface %d: %+v, want %+v", i, g, w)
		}
	}
	if len(ifaces) > 0 && r.LinkType() != ifaces[0].lt {
		t.Errorf("LinkType = %v, want %v", r.LinkType(), ifaces[0].lt)
	}
}

func TestFormatErrorMessage(t *testing.T) {
	in := (&bb{}).u32(magicMicro).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1).
		u32(1).u32(0).u32(1).u32(1).str("k").
		u32(2).u32(0).u32(10).u32(10).str("short").b
	r, err := NewReader(bytes.NewReader(in), "cut.pcap")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Next()
	const want = "cut.pcap: packet 2 at offset 41: pcap: truncated file"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want prefix %q", err, want)
	}
	if d := r.Stats().Damage; d != err {
		t.Fatalf("Stats().Damage = %v", d)
	}

	_, err = NewReader(strings.NewReader("\x7fELF and more"), "a.out")
	if err == nil || err.Error() != "a.out: header at offset 0: pcap: unknown file format: first bytes 7f 45 4c 46" {
		t.Fatalf("error %q", err)
	}
}

func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{
		{Kind: FormatPcap}: "pcap",
		{Kind: FormatPcap, BigEndian: true, Nanosecond: true, Compressed: true}: "pcap (big-endian, ns, gzip)",
		{Kind: FormatPcapng, Compressed: true}:                                  "pcapng (gzip)",
		{}:                                                                      "unknown",
	} {
		if got := f.String(); got != want {
			t.Errorf("%+v: %q, want %q", f, got, want)
		}
	}
}

func TestOddities(t *testing.T) {
	year := uint32(366 * 24 * 3600)
	in := (&bb{}).u32(magicMicro).u16(2).u16(4).u32(0).u32(0).u32(4).u32(1).
		u32(100).u32(0).u32(5).u32(3).str("12345").   // caplen > len, > snaplen
		u32(99).u32(0).u32(1).u32(1).str("a").        // backwards
		u32(99 + year).u32(0).u32(1).u32(1).str("b"). // a year later
		u32(98).u32(0).u32(1).u32(1).str("c").b       // backwards a year
	r, err := NewReader(bytes.NewReader(in), "odd")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	want := Oddities{CaptureOverLength: 1, OverSnaplen: 1, TimeBackwards: 2, TimeJumps: 2}
	if got := r.Stats().Oddities; got != want {
		t.Fatalf("oddities %+v, want %+v", got, want)
	}
	if r.Stats().Packets != 4 || r.Stats().Damaged {
		t.Fatalf("stats %+v", r.Stats())
	}
}

func gz(tb testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzip(t *testing.T) {
	for _, tc := range readCases[:13] {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(gz(t, tc.in)), "x.gz")
			if err != nil {
				t.Fatal(err)
			}
			f := tc.format
			f.Compressed = true
			checkRead(t, r, f, tc.ifaces, tc.recs, tc.wantErr)
		})
	}
	plain := pcapFile(t, 50, 100)
	z := gz(t, plain)
	t.Run("cut gzip", func(t *testing.T) {
		r, err := NewReader(bytes.NewReader(z[:len(z)/2]), "cut.gz")
		if err != nil {
			t.Fatal(err)
		}
		n, err := drain(r)
		if !errors.Is(err, ErrTruncated) || n == 0 || n >= 50 {
			t.Fatalf("read %d packets, err %v; want some packets then ErrTruncated", n, err)
		}
	})
	t.Run("corrupt gzip checksum", func(t *testing.T) {
		c := bytes.Clone(z)
		c[len(c)-6] ^= 0xff // CRC-32 in the trailer
		r, err := NewReader(bytes.NewReader(c), "bad.gz")
		if err != nil {
			t.Fatal(err)
		}
		n, err := drain(r)
		if !errors.Is(err, ErrCompressed) || n != 50 {
			t.Fatalf("read %d packets, err %v; want all 50 then ErrCompressed", n, err)
		}
	})
	t.Run("gzip of garbage", func(t *testing.T) {
		_, err := NewReader(bytes.NewReader(gz(t, []byte("hello world"))), "junk.gz")
		if !errors.Is(err, ErrUnknownFormat) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("gzip magic only", func(t *testing.T) {
		_, err := NewReader(bytes.NewReader([]byte{0x1f, 0x8b, 8}), "junk.gz")
		if !errors.Is(err, ErrCompressed) {
			t.Fatalf("err %v", err)
		}
	})
}

// drain reads to the end, returning the packet count and the final error
// (nil for a clean io.EOF).
func drain(r *Reader) (int, error) {
	n := 0
	for {
		_, _, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// TestStdinStyle reads through a plain io.Reader that returns one byte per
// call, as a pipe may, with no Seek or ReadAt to lean on.
func TestStdinStyle(t *testing.T) {
	for _, in := range [][]byte{pcapFile(t, 20, 300), pcapngFile(t, 20, 300), gz(t, pcapngFile(t, 20, 300))} {
		r, err := NewReader(iotest.OneByteReader(bytes.NewReader(in)), "stdin")
		if err != nil {
			t.Fatal(err)
		}
		n, err := drain(r)
		if err != nil || n != 20 {
			t.Fatalf("%d packets, err %v", n, err)
		}
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/a.pcapng.gz"
	if err := writeFile(path, gz(t, pcapngFile(t, 10, 64))); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := drain(r); n != 10 || err != nil {
		t.Fatalf("%d, %v", n, err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Next(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after Close: %v", err)
	}
	if _, err := Open(dir + "/missing.pcap"); err == nil || !strings.Contains(err.Error(), "missing.pcap") {
		t.Fatalf("missing file error %v does not name the file", err)
	}
	bad := dir + "/notes.txt"
	writeFile(bad, []byte("hello there"))
	if _, err := Open(bad); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v", err)
	}
}

// TestTruncateEveryOffset cuts small files at every byte: never a panic,
// the count of good packets never decreases as the cut moves right, the
// good packets are intact, and the end is io.EOF or ErrTruncated.
func TestTruncateEveryOffset(t *testing.T) {
	files := map[string][]byte{
		"pcap": pcapFile(t, 4, 7),
		"pcapng": cat(shb(false), block(false, 4, []byte{0, 0, 0, 0}), idb(false, LinkTypeEthernet, 0, opt(false, optIfName, []byte("lo"))),
			epb(false, 0, 1, 5, "hello"), block(false, blockSPB, (&bb{}).u32(3).str("spb").b),
			shb(true), idb(true, LinkTypeRaw, 0), epb(true, 0, 2, 2, "be"), block(true, 5, make([]byte, 12)), epb(true, 0, 3, 1, "!")),
	}
	for name, full := range files {
		t.Run(name, func(t *testing.T) {
			ref, err := NewReader(bytes.NewReader(full), name)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for {
				data, _, err := ref.Next()
				if err != nil {
					break
				}
				want = append(want, string(data))
			}
			prev := 0
			for n := 0; n <= len(full); n++ {
				r, err := NewReader(bytes.NewReader(full[:n]), name)
				if err != nil {
					if !errors.Is(err, ErrTruncated) {
						t.Fatalf("cut %d: open: %v", n, err)
					}
					if prev != 0 {
						t.Fatalf("cut %d: open failed after packets were readable", n)
					}
					continue
				}
				good := 0
				for {
					data, _, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						if !errors.Is(err, ErrTruncated) {
							t.Fatalf("cut %d: %v, want ErrTruncated", n, err)
						}
						break
					}
					if good >= len(want) || string(data) != want[good] {
						t.Fatalf("cut %d: packet %d = %q", n, good+1, data)
					}
					good++
				}
				if good < prev {
					t.Fatalf("cut %d: %d packets, fewer than %d at the previous cut", n, good, prev)
				}
				prev = good
			}
			if prev != len(want) {
				t.Fatalf("full file gave %d packets, want %d", prev, len(want))
			}
		})
	}
}

// Next allocates nothing per record, read ahead or not (AllocsPerRun
// counts the read-ahead goroutine's allocations too).
func TestNextAllocs(t *testing.T) {
	for name, in := range map[string][]byte{
		"pcap":      pcapFile(t, 3000, 200),
		"pcapng":    pcapngFile(t, 3000, 200),
		"pcapng.gz": gz(t, pcapngFile(t, 3000, 200)),
	} {
		for _, ahead := range []bool{false, true} {
			r, err := NewReader(bytes.NewReader(in), name)
			if err != nil {
				t.Fatal(err)
			}
			if ahead {
				defer r.ReadAhead()()
			}
			for range 1000 { // through the first blocks: they are made once
				r.Next()
			}
			n := testing.AllocsPerRun(1000, func() {
				if _, _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			})
			if n != 0 {
				t.Errorf("%s (read ahead %v): Next allocates %v per record", name, ahead, n)
			}
		}
	}
}

// benchRead reads in whole per op; MB/s counts decompressed bytes.
func benchRead(b *testing.B, in []byte, size int, want int) {
	b.SetBytes(int64(size))
	b.ReportAllocs()
	packets := 0
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(in), "bench")
		if err != nil {
			b.Fatal(err)
		}
		n, err := drain(r)
		if err != nil || n != want {
			b.Fatalf("%d, %v", n, err)
		}
		packets += n
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "packets/s")
}

// The file is read whole per op: NewReader's buffers are the only
// allocations, so allocs/op stays flat however many packets there are.
func BenchmarkReadPcap(b *testing.B) {
	in := pcapFile(b, 10000, 200)
	benchRead(b, in, len(in), 10000)
}

func BenchmarkReadPcapng(b *testing.B) {
	in := pcapngFile(b, 10000, 200)
	benchRead(b, in, len(in), 10000)
}

func BenchmarkReadPcapngGzip(b *testing.B) {
	in := pcapngFile(b, 10000, 200)
	benchRead(b, gz(b, in), len(in), 10000)
}

// BenchmarkNext measures one record with a reused Reader (a fresh one at
// each end of file, amortised over 10000 records).
func BenchmarkNext(b *testing.B) {
	in := pcapFile(b, 10000, 200)
	b.SetBytes(216)
	b.ReportAllocs()
	r, _ := NewReader(bytes.NewReader(in), "bench")
	for b.Loop() {
		if _, _, err := r.Next(); err == io.EOF {
			r, _ = NewReader(bytes.NewReader(in), "bench")
		}
	}
}

// OnWait is called before reads from a pipe, never for a regular file:
// only a pipe's reads can wait for data nobody has sent.
func TestOnWaitPipeOnly(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{LinkType: LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.WritePacket(Packet{Timestamp: time.Unix(int64(i), 0), CaptureLength: 60, Length: 60}, make([]byte, 60)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "f.pcap")
	if err := os.WriteFile(name, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.OnWait(func() { t.Error("called for a regular file") }) {
		t.Error("a regular file reported as able to wait")
	}
	pr := feedPipe(t, buf.Bytes())
	r, err := NewReader(pr, "pipe")
	if err != nil {
		t.Fatal(err)
	}
	waits := 0
	if !r.OnWait(func() { waits++ }) {
		t.Fatal("a pipe reported as never waiting")
	}
	n := 0
	for {
		if _, _, err := r.Next(); err != nil {
			break
		}
		n++
	}
	if n != 3 || waits == 0 {
		t.Errorf("%d records, %d waits; want 3 and at least one (the read that finds the end)", n, waits)
	}
}

// statReader wraps a file as a byte counter does, saying what it wraps.
type statReader struct{ f *os.File }

func (s statReader) Read(p []byte) (int, error) { return s.f.Read(p) }
func (s statReader) Stat() (os.FileInfo, error) { return s.f.Stat() }

// TestOnWaitWrappedPipe: a pipe behind a wrapper that can Stat (the
// command's byte counter around a named FIFO) waits like a bare one, so
// a consumer hands on its batch before each read instead of holding the
// packets read so far until more arrive.
func TestOnWaitWrappedPipe(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{LinkType: LinkTypeEthernet})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WritePacket(Packet{Timestamp: time.Unix(1, 0), CaptureLength: 60, Length: 60}, make([]byte, 60)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	pr := feedPipe(t, buf.Bytes())
	r, err := NewReader(statReader{pr}, "fifo")
	if err != nil {
		t.Fatal(err)
	}
	if !r.OnWait(func() {}) {
		t.Fatal("a wrapped pipe reported as never waiting")
	}
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
}

// feedPipe returns the read end of a pipe a goroutine writes b into and
// then closes; the test's cleanup closes the read end and waits for it.
func feedPipe(t *testing.T, b []byte) *os.File {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.Write(b)
		pw.Close()
	}()
	t.Cleanup(func() {
		pr.Close() // a writer still blocked gets an error
		<-done
	})
	return pr
}

// TestNextInto: NextInto gives what Next gives, record by record and
// error by error, writing every field of a Packet that held another
// record's values (a caller reuses one in place), and zeroes it on an
// error. Every cut of a pcap and a pcapng file, so the damage paths are
// walked too.
func TestNextInto(t *testing.T) {
	for name, full := range map[string][]byte{
		"pcap":   pcapFile(t, 5, 9),
		"pcapng": pcapngFile(t, 5, 9),
	} {
		for n := 0; n <= len(full); n++ {
			a, errA := NewReader(bytes.NewReader(full[:n]), name)
			b, errB := NewReader(bytes.NewReader(full[:n]), name)
			if (errA == nil) != (errB == nil) {
				t.Fatalf("%s cut %d: open %v and %v", name, n, errA, errB)
			}
			if errA != nil {
				continue
			}
			dirty := Packet{Timestamp: time.Unix(1, 2), CaptureLength: 99, Length: 98, InterfaceIndex: 7, LinkType: LinkTypeRaw, Number: 97, Offset: 96}
			for k := 0; ; k++ {
				wantData, want, wantErr := a.Next()
				p := dirty
				data, err := b.NextInto(&p)
				if !bytes.Equal(data, wantData) || p != want || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
					t.Fatalf("%s cut %d record %d: NextInto %q %+v %v, Next %q %+v %v", name, n, k, data, p, err, wantData, want, wantErr)
				}
				if err != nil {
					if p != (Packet{}) {
						t.Fatalf("%s cut %d: the Packet after %v is %+v, want zero", name, n, err, p)
					}
					break
				}
				dirty = p
			}
		}
	}
}
