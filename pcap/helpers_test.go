package pcap

import (
	"encoding/binary"
	"os"
	"testing"
)

// bb builds annotated test bytes in one byte order.
type bb struct {
	big bool
	b   []byte
}

func (w *bb) order() binary.AppendByteOrder {
	if w.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}
func (w *bb) u16(v uint16) *bb  { w.b = w.order().AppendUint16(w.b, v); return w }
func (w *bb) u32(v uint32) *bb  { w.b = w.order().AppendUint32(w.b, v); return w }
func (w *bb) raw(v ...byte) *bb { w.b = append(w.b, v...); return w }
func (w *bb) str(s string) *bb  { w.b = append(w.b, s...); return w }

// block frames a pcapng body: type, total length, body padded to 4, length.
func block(big bool, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	w := &bb{big: big}
	w.u32(typ).u32(n).raw(body...).u32(n)
	return w.b
}

// shb is a Section Header Block, version 1.0, section length unknown.
func shb(big bool) []byte {
	w := &bb{big: big}
	w.u32(byteOrderMagic).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff)
	return block(big, blockSHB, w.b)
}

// opt is one pcapng option, value padded to 4.
func opt(big bool, code uint16, v []byte) []byte {
	w := &bb{big: big}
	w.u16(code).u16(uint16(len(v))).raw(v...)
	for len(w.b)%4 != 0 {
		w.b = append(w.b, 0)
	}
	return w.b
}

// idb is an Interface Description Block with the given options (an
// end-of-options is appended when any are given).
func idb(big bool, lt LinkType, snap uint32, opts ...[]byte) []byte {
	w := &bb{big: big}
	w.u16(uint16(lt)).u16(0).u32(snap)
	for _, o := range opts {
		w.raw(o...)
	}
	if len(opts) > 0 {
		w.u32(0)
	}
	return block(big, blockIDB, w.b)
}

// epb is an Enhanced Packet Block.
func epb(big bool, iface uint32, ts uint64, wire uint32, data string) []byte {
	w := &bb{big: big}
	w.u32(iface).u32(uint32(ts >> 32)).u32(uint32(ts)).u32(uint32(len(data))).u32(wire).str(data)
	return block(big, blockEPB, w.b)
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// pcapFile is a little-endian µs classic pcap of n Ethernet records of
// size bytes each, one second apart.
func pcapFile(tb testing.TB, n, size int) []byte {
	tb.Helper()
	w := &bb{}
	w.u32(magicMicro).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1)
	for i := range n {
		w.u32(uint32(1_000_000 + i)).u32(uint32(i % 1_000_000)).u32(uint32(size)).u32(uint32(size))
		for j := range size {
			w.raw(byte(i + j))
		}
	}
	return w.b
}

// pcapngFile is a little-endian pcapng with two interfaces and n EPBs of
// size bytes alternating between them, with an NRB and ISB mixed in.
func pcapngFile(tb testing.TB, n, size int) []byte {
	tb.Helper()
	out := cat(shb(false), idb(false, LinkTypeEthernet, 0, opt(false, optIfTSResol, []byte{9})), idb(false, LinkTypeLinuxSLL, 0))
	data := make([]byte, size)
	for i := range n {
		if i%100 == 50 {
			out = append(out, block(false, 4, []byte{0, 0, 0, 0})...) // NRB, end of records
			out = append(out, block(false, 5, make([]byte, 12))...)   // ISB
		}
		for j := range data {
			data[j] = byte(i + j)
		}
		ts := uint64(1_600_000_000+i) * 1_000_000_000 // interface 0: ns
		if i%2 == 1 {
			ts /= 1000 // interface 1: default µs
		}
		out = append(out, epb(false, uint32(i%2), ts, uint32(size), string(data))...)
	}
	return out
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
