package sipstream

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// maxFuzzInput keeps inputs below every size bound (MaxStreamBuffer, the
// HTTP header bound, the non-SIP scan limit) so that how the bytes are cut
// into segments cannot change what is delivered.
const maxFuzzInput = 8000

// feedSplit feeds data as one stream cut, reordered and duplicated
// according to seed; seed 0 feeds it as a single segment.
func feedSplit(t testing.TB, data []byte, seed uint64, syn bool) ([]string, Stats) {
	t.Helper()
	a := New(Options{})
	x := newTx(cli, srv, uint32(seed>>32)^0xfffff000) // near the wrap
	var col collector
	if syn {
		a.Add(x.syn(), col.emit)
	}
	if seed == 0 {
		if len(data) > 0 {
			a.Add(x.data(string(data)), col.emit)
		}
	} else {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var segs []*Segment
		for i := 0; i < len(data); {
			n := min(1+r.IntN(64+len(data)/16), len(data)-i)
			segs = append(segs, x.data(string(data[i:i+n])))
			i += n
		}
		// Without a SYN the first segment seen defines the stream start,
		// so it is never reordered.
		start := 0
		if !syn {
			start = 1
		}
		for i := start; i < len(segs); i++ {
			if j := i + 1 + r.IntN(3); j < len(segs) && r.IntN(4) == 0 {
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		for k := 0; k < 3 && len(segs) > 0; k++ {
			i := r.IntN(len(segs))
			segs = append(segs[:i+1], segs[i:]...)
		}
		if len(segs) > maxOutOfOrderSegments/2 {
			// Keep reordering within the hold bound: deliver in order.
			segs = segs[:0]
			x = newTx(cli, srv, uint32(seed>>32)^0xfffff000)
			if syn {
				x.syn()
			}
			for i := 0; i < len(data); i += 97 {
				segs = append(segs, x.data(string(data[i:min(i+97, len(data))])))
			}
		}
		for _, s := range segs {
			a.Add(s, col.emit)
			checkHeld(t, a)
		}
	}
	a.Flush(col.emit)
	if a.held != 0 {
		t.Fatalf("%d bytes held after Flush", a.held)
	}
	return col.payloads(), a.Stats()
}

func FuzzFraming(f *testing.F) {
	f.Add([]byte(sipMsg("INVITE", 1, 30)+"\r\n\r\n"+sipResp(200, 1)), uint64(1), true)
	f.Add([]byte("OPTIONS sip:a@b SIP/2.0\nCall-ID: x\nCSeq: 1 OPTIONS\nl:3\n\nabc"), uint64(7), true)
	f.Add([]byte("bbbbACK sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 ACK\r\n\r\n"), uint64(3), false)
	f.Add([]byte("MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 99999999999\r\n\r\nx"), uint64(9), true)
	f.Add([]byte("\x16\x03\x01\x00\x05hello"), uint64(2), true)
	f.Add([]byte(wsRequest+string(wsFrame(false, opText, true, key, []byte("BYE sip:"), 0))+
		string(wsFrame(true, opContinue, true, key, []byte("a@b SIP/2.0\r\n\r\n"), 0))), uint64(5), true)
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, syn bool) {
		if len(data) > maxFuzzInput {
			return
		}
		want, st := feedSplit(t, data, 0, syn)
		got, _ := feedSplit(t, data, seed|1, syn)
		if len(got) != len(want) {
			t.Fatalf("split gave %d messages, unsplit %d\n got %q\nwant %q", len(got), len(want), got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("message %d differs:\n got %q\nwant %q", i, got[i], want[i])
			}
		}
		// Plain-TCP messages are ordered, non-overlapping pieces of the
		// input that start with a start line.
		pos := 0
		for _, m := range want {
			if startLine([]byte(m)) != stYes {
				t.Fatalf("emitted without a start line: %q", m)
			}
			if st.WebSocketStreams > 0 {
				break // WebSocket payloads are unmasked, not substrings
			}
			i := bytes.Index(data[pos:], []byte(m))
			if i < 0 {
				t.Fatalf("message %q not found in order in the input", m)
			}
			pos += i + len(m)
		}
	})
}

// FuzzWebSocket frames msg (fragmented, masked, with a ping between
// fragments), appends arbitrary trailing bytes, and checks that the message
// comes back exactly, however the stream is segmented.
func FuzzWebSocket(f *testing.F) {
	f.Add([]byte(sipMsg("INVITE", 1, 200)), uint32(0x01020304), uint8(50), uint64(3), []byte{})
	f.Add([]byte(sipResp(180, 2)), uint32(0), uint8(0), uint64(8), []byte{0x81, 0x7e, 0x00})
	f.Add([]byte("\r\n\r\n"), uint32(5), uint8(1), uint64(1), []byte("\x88\x00"))
	f.Add([]byte("not sip at all"), uint32(9), uint8(3), uint64(2), []byte("\x89\x80\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte, k uint32, frag uint8, seed uint64, trailer []byte) {
		if len(msg)+len(trailer) > maxFuzzInput-1000 {
			return
		}
		var kb [4]byte
		binary.BigEndian.PutUint32(kb[:], k)
		masked := seed&1 == 1
		stream := []byte(wsRequest)
		size := len(msg)
		if frag > 0 {
			size = int(frag)
		}
		first := true
		for i := 0; i < len(msg) || first; {
			n := min(size, len(msg)-i)
			op := byte(opContinue)
			if first {
				op = opText
			}
			fin := i+n == len(msg)
			stream = append(stream, wsFrame(fin, op, masked, kb, msg[i:i+n], 0)...)
			if first && !fin {
				stream = append(stream, wsFrame(true, opPing, masked, kb, []byte("p"), 0)...)
			}
			first = false
			i += n
		}
		stream = append(stream, trailer...)

		want, st := feedSplit(t, stream, 0, true)
		got, _ := feedSplit(t, stream, seed|1, true)
		if len(got) != len(want) {
			t.Fatalf("split gave %d messages, unsplit %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("message %d differs", i)
			}
		}
		allCRLF := len(msg) > 0 && len(bytes.Trim(msg, "\r\n")) == 0
		switch {
		case startLine(msg) == stYes:
			if len(want) == 0 || want[0] != string(msg) {
				t.Fatalf("message lost or altered: %q", want)
			}
		case allCRLF:
			if st.KeepAlives == 0 {
				t.Fatalf("keep-alive not counted")
			}
		default:
			if st.WebSocketNonSIP == 0 {
				t.Fatalf("non-SIP message not counted: %+v", st)
			}
		}
	})
}

// FuzzBudget interleaves a few connections, each cut and reordered by the
// seed, under a global budget smaller than what they hold (TLS sessions'
// partial records included): the running total stays exact, never passes the budget once a segment is in, and the bytes counted as evicted are
// among those counted as discarded.
func FuzzBudget(f *testing.F) {
	f.Add([]byte(sipMsg("INVITE", 1, 900)+partialInvite(2, 700)), uint64(1), uint16(600))
	f.Add([]byte(wsRequest+string(wsFrame(false, opText, true, key, []byte("BYE sip:"), 0))), uint64(4), uint16(50))
	f.Add([]byte("OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 400\r\n\r\n"), uint64(9), uint16(100))
	f.Add([]byte(stalledHello(3000)), uint64(3), uint16(5000)) // TLS records split across segments, held by their sessions
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, budget uint16) {
		if len(data) > maxFuzzInput || budget == 0 {
			return
		}
		a := New(Options{MaxBuffered: int(budget), TLSKeys: tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})})
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var col collector
		const conns = 4
		var segs []*Segment
		for c := range conns {
			x := newTx(netip.AddrPortFrom(cli.Addr(), uint16(40000+c)), srv, uint32(r.Uint64()))
			segs = append(segs, x.syn())
			for i := 0; i < len(data); {
				n := min(1+r.IntN(64+len(data)/8), len(data)-i)
				if r.IntN(8) != 0 { // some segments are lost: holes
					segs = append(segs, x.data(string(data[i:i+n])))
				} else {
					x.data(string(data[i : i+n]))
				}
				i += n
			}
		}
		// Interleave the connections, keeping each one's SYN first.
		for i := conns; i < len(segs); i++ {
			if j := i + 1 + r.IntN(8); j < len(segs) && r.IntN(2) == 0 {
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		for _, s := range segs {
			a.Add(s, col.emit)
			checkHeld(t, a)
			if st := a.Stats(); st.Buffered > int(budget) {
				t.Fatalf("%d bytes held, budget %d", st.Buffered, budget)
			}
		}
		a.Flush(col.emit)
		st := a.Stats()
		if st.Buffered != 0 || st.BudgetEvictedBytes > st.DiscardedBytes {
			t.Fatalf("after Flush: held %d, evicted %d of %d discarded bytes", st.Buffered, st.BudgetEvictedBytes, st.DiscardedBytes)
		}
	})
}
