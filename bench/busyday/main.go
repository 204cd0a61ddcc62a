// Command busyday writes the captures of bench/busy-day.sh: a day's
// traffic compressed in time, to measure how much memory voiptool holds
// while reading it.
//
//	calls.pcap  CALLS calls (INVITE ... BYE) with RTP both ways,
//	            internal/pcapgen.WriteLarge, one starting every 50 ms
//	hostile.pcap over the same span, in time order:
//	  - TCP short connections: SYN, a REGISTER, its 200 OK, FINs, each
//	    from its own client port (the stream table and its tombstones)
//	  - stalled TCP connections, each sending STALLED_BYTES of a header
//	    that never ends and never closing (the reassembly budget)
//	  - a Call-ID flood: INVITEs over UDP, each with a new Call-ID, never
//	    answered (the call store's caps)
//	  - junk: UDP datagrams of random bytes to 5060 and to random ports
//
// Output is deterministic for given flags.
package main

import (
	"bufio"
	"container/heap"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/voiptool/voiptool/internal/pcapgen"
)

func main() {
	out := flag.String("out", ".", "directory for calls.pcap and hostile.pcap")
	calls := flag.Int("calls", 20000, "calls with RTP")
	rtp := flag.Int("rtp", 10, "RTP packets per call and direction")
	short := flag.Int("tcp", 20000, "short TCP connections, one REGISTER each")
	stalled := flag.Int("stalled", 1000, "TCP connections holding a header that never ends")
	stalledBytes := flag.Int("stalled-bytes", 200<<10, "bytes each stalled connection sends")
	flood := flag.Int("flood", 100000, "unanswered INVITEs, each with its own Call-ID")
	junk := flag.Int("junk", 20000, "UDP datagrams of random bytes")
	flag.Parse()
	if err := run(*out, *calls, *rtp, *short, *stalled, *stalledBytes, *flood, *junk); err != nil {
		fmt.Fprintln(os.Stderr, "busyday:", err)
		os.Exit(1)
	}
}

func run(dir string, calls, rtp, short, stalled, stalledBytes, flood, junk int) error {
	f, err := os.Create(filepath.Join(dir, "calls.pcap"))
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := pcapgen.WriteLarge(bw, calls, rtp); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}

	span := time.Duration(max(calls, 1)) * 50 * time.Millisecond
	srcs := &merge{}
	for _, g := range []source{
		newShort(short, span),
		newStalled(stalled, stalledBytes, span),
		newFlood(flood, span),
		newJunk(junk, span),
	} {
		if t, b, ok := g.next(); ok {
			heap.Push(srcs, item{t, b, g})
		}
	}
	h, err := os.Create(filepath.Join(dir, "hostile.pcap"))
	if err != nil {
		return err
	}
	hw := bufio.NewWriterSize(h, 1<<20)
	pw := pcapgo.NewWriter(hw)
	if err := pw.WriteFileHeader(pcapgen.Snaplen, layers.LinkTypeEthernet); err != nil {
		return err
	}
	for srcs.Len() > 0 {
		it := heap.Pop(srcs).(item)
		ci := gopacket.CaptureInfo{Timestamp: it.t, CaptureLength: len(it.b), Length: len(it.b)}
		if err := pw.WritePacket(ci, it.b); err != nil {
			return err
		}
		if t, b, ok := it.src.next(); ok {
			heap.Push(srcs, item{t, b, it.src})
		}
	}
	if err := hw.Flush(); err != nil {
		return err
	}
	return h.Close()
}

// source yields frames in time order.
type source interface {
	next() (time.Time, []byte, bool)
}

type item struct {
	t   time.Time
	b   []byte
	src source
}

// merge is a min-heap of the sources' next frames.
type merge []item

func (m merge) Len() int           { return len(m) }
func (m merge) Less(i, j int) bool { return m[i].t.Before(m[j].t) }
func (m merge) Swap(i, j int)      { m[i], m[j] = m[j], m[i] }
func (m *merge) Push(x any)        { *m = append(*m, x.(item)) }
func (m *merge) Pop() any {
	old := *m
	it := old[len(old)-1]
	*m = old[:len(old)-1]
	return it
}

var registrar = netip.MustParseAddrPort("192.0.2.10:5060")

// frame is one generated frame with its time.
type frame struct {
	t time.Time
	b []byte
}

// seqSource yields the frames of item 0, then item 1, ...: items start
// far enough apart that their frames never interleave.
type seqSource struct {
	n, i int
	gen  func(i int) []frame
	cur  []frame
}

func (s *seqSource) next() (time.Time, []byte, bool) {
	for len(s.cur) == 0 {
		if s.i >= s.n {
			return time.Time{}, nil, false
		}
		s.cur = s.gen(s.i)
		s.i++
	}
	f := s.cur[0]
	s.cur = s.cur[1:]
	return f.t, f.b, true
}

func clientAddr(net byte, i int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, net, byte(i >> 8), byte(i)})
}

func tcp(t time.Time, src, dst netip.AddrPort, seq, ack uint32, flags pcapgen.TCPFlags, payload []byte, toServer bool) frame {
	return frame{t, pcapgen.Ethernet(pcapgen.TCP(src, dst, uint16(seq), pcapgen.Segment{Seq: seq, Ack: ack, Flags: flags, Payload: payload}), toServer)}
}

// newShort: connection i opens, registers and closes within 20 ms.
func newShort(n int, span time.Duration) source {
	gap := span / time.Duration(max(n, 1))
	return &seqSource{n: n, gen: func(i int) []frame {
		t := pcapgen.Epoch.Add(time.Duration(i)*gap + gap/3)
		cl := netip.AddrPortFrom(clientAddr(20, i), uint16(10000+i%50000))
		step := min(gap/8, 2*time.Millisecond)
		reg := fmt.Sprintf("REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-r%d\r\n"+
			"From: <sip:u%d@example.com>;tag=r%d\r\nTo: <sip:u%d@example.com>\r\nCall-ID: reg-%d@busy\r\n"+
			"CSeq: 1 REGISTER\r\nContact: <sip:u%d@%s;transport=tcp>\r\nExpires: 3600\r\nContent-Length: 0\r\n\r\n",
			cl, i, i, i, i, i, i, cl)
		ok := fmt.Sprintf("SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bK-r%d\r\n"+
			"From: <sip:u%d@example.com>;tag=r%d\r\nTo: <sip:u%d@example.com>;tag=s%d\r\nCall-ID: reg-%d@busy\r\n"+
			"CSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n", cl, i, i, i, i, i, i)
		c, s := uint32(1000), uint32(9000)
		return []frame{
			tcp(t, cl, registrar, c, 0, pcapgen.FlagSYN, nil, true),
			tcp(t.Add(step), registrar, cl, s, c+1, pcapgen.FlagSYN|pcapgen.FlagACK, nil, false),
			tcp(t.Add(2*step), cl, registrar, c+1, s+1, pcapgen.FlagACK|pcapgen.FlagPSH, []byte(reg), true),
			tcp(t.Add(3*step), registrar, cl, s+1, c+1+uint32(len(reg)), pcapgen.FlagACK|pcapgen.FlagPSH, []byte(ok), false),
			tcp(t.Add(4*step), cl, registrar, c+1+uint32(len(reg)), s+1+uint32(len(ok)), pcapgen.FlagACK|pcapgen.FlagFIN, nil, true),
			tcp(t.Add(5*step), registrar, cl, s+1+uint32(len(ok)), c+2+uint32(len(reg)), pcapgen.FlagACK|pcapgen.FlagFIN, nil, false),
		}
	}}
}

// newStalled: connection i sends size bytes of one header line that never
// ends, in 1 400-byte segments 10 µs apart, and then nothing.
func newStalled(n, size int, span time.Duration) source {
	gap := span / time.Duration(max(n, 1))
	return &seqSource{n: n, gen: func(i int) []frame {
		t := pcapgen.Epoch.Add(time.Duration(i)*gap + gap/2)
		cl := netip.AddrPortFrom(clientAddr(30, i), uint16(20000+i%40000))
		head := fmt.Sprintf("INVITE sip:victim@example.com SIP/2.0\r\nCall-ID: stall-%d@busy\r\nCSeq: 1 INVITE\r\nX-Never-Ends: ", i)
		body := []byte(head + strings.Repeat("A", max(size-len(head), 0)))
		seq := uint32(5000)
		fs := []frame{tcp(t, cl, registrar, seq, 0, pcapgen.FlagSYN, nil, true)}
		seq++
		for off := 0; off < len(body); off += 1400 {
			p := body[off:min(off+1400, len(body))]
			t = t.Add(10 * time.Microsecond)
			fs = append(fs, tcp(t, cl, registrar, seq, 1, pcapgen.FlagACK|pcapgen.FlagPSH, p, true))
			seq += uint32(len(p))
		}
		return fs
	}}
}

// newFlood: INVITE i over UDP with its own Call-ID, never answered.
func newFlood(n int, span time.Duration) source {
	gap := span / time.Duration(max(n, 1))
	return &seqSource{n: n, gen: func(i int) []frame {
		t := pcapgen.Epoch.Add(time.Duration(i)*gap + gap/5)
		cl := netip.AddrPortFrom(clientAddr(40, i), 5060)
		inv := fmt.Sprintf("INVITE sip:%d@example.com SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-f%d\r\n"+
			"From: <sip:flood@example.com>;tag=f%d\r\nTo: <sip:%d@example.com>\r\nCall-ID: flood-%d@busy\r\n"+
			"CSeq: 1 INVITE\r\nContact: <sip:flood@%s>\r\nContent-Length: 0\r\n\r\n", i, cl, i, i, i, i, cl)
		return []frame{{t, pcapgen.Ethernet(pcapgen.UDP(cl, registrar, uint16(i), []byte(inv)), true)}}
	}}
}

// newJunk: datagram i carries 20 to 1 200 random bytes, to 5060 or a
// random high port.
func newJunk(n int, span time.Duration) source {
	gap := span / time.Duration(max(n, 1))
	r := rand.New(rand.NewPCG(1, 2))
	return &seqSource{n: n, gen: func(i int) []frame {
		t := pcapgen.Epoch.Add(time.Duration(i)*gap + gap/7)
		cl := netip.AddrPortFrom(clientAddr(50, i), uint16(1024+r.IntN(60000)))
		dst := registrar
		if i%2 == 1 {
			dst = netip.AddrPortFrom(registrar.Addr(), uint16(1024+r.IntN(60000)))
		}
		b := make([]byte, 20+r.IntN(1180))
		for k := range b {
			b[k] = byte(r.Uint32())
		}
		return []frame{{t, pcapgen.Ethernet(pcapgen.UDP(cl, dst, uint16(i), b), true)}}
	}}
}
