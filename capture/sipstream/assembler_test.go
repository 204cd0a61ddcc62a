package sipstream

import (
	"fmt"

	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestInOrder(t *testing.T) {
	a := New(Options{})
	x := newTx(cli, srv, 1000)
	m1, m2, m3 := sipMsg("INVITE", 1, 10), sipMsg("ACK", 2, 0), sipMsg("BYE", 3, 0)
	c := run(a, x.syn(), x.data(m1), x.data(m2), x.data(m3))
	wantPayloads(t, c, m1, m2, m3)
	for i, m := range c.msgs {
		if m.first != uint64(i+2) || m.last != uint64(i+2) {
			t.Errorf("msg %d refs = %d..%d, want %d", i, m.first, m.last, i+2)
		}
		if m.src != cli || m.dst != srv || m.ws {
			t.Errorf("msg %d addressing %v->%v ws=%v", i, m.src, m.dst, m.ws)
		}
		if !m.t.Equal(t0.Add(time.Duration(i+1) * time.Millisecond)) {
			t.Errorf("msg %d time %v", i, m.t)
		}
	}
	st := a.Stats()
	if st.Messages != 3 || st.Streams != 1 || st.ActiveStreams != 1 || st.DiscardedBytes != 0 ||
		st.Bytes != uint64(len(m1+m2+m3)) || st.RetransmittedBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSeveralPerSegmentWithKeepAlives(t *testing.T) {
	a := New(Options{})
	x := newTx(cli, srv, 1)
	m1, m2, m3 := sipMsg("REGISTER", 1, 0), sipResp(200, 1), sipMsg("OPTIONS", 2, 5)
	c := run(a, x.syn(), x.data("\r\n\r\n"+m1+m2+"\r\n"+m3+"\r\n\r\n"))
	wantPayloads(t, c, m1, m2, m3)
	if st := a.Stats(); st.KeepAlives != 3 || st.Messages != 3 {
		t.Fatalf("stats %+v", st)
	}
	// A keep-alive run split across segments counts once.
	c = run(a, x.data(m1), x.data("\r\n"), x.data("\r\n"+m1))
	wantPayloads(t, c, m1, m1)
	if st := a.Stats(); st.KeepAlives != 4 {
		t.Fatalf("keep-alives %d, want 4", st.KeepAlives)
	}
}

func TestSplitAtNastyBoundaries(t *testing.T) {
	m := sipMsg("INVITE", 7, 40)
	cl := strings.Index(m, "Content-Length")
	hdrEnd := strings.Index(m, "\r\n\r\n")
	cases := []struct {
		name string
		cuts []int
	}{
		{"in start line, name, CRLFCRLF, body", []int{3, cl + 5, hdrEnd + 1, hdrEnd + 3, hdrEnd + 10}},
		{"CR|LF CR|LF", []int{hdrEnd + 1, hdrEnd + 2, hdrEnd + 3, hdrEnd + 4, len(m) - 1}},
		{"inside value digits", []int{1, cl + 15, cl + 16, cl + 17, hdrEnd + 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			x := newTx(cli, srv, 77)
			c := run(a, append([]*Segment{x.syn()}, x.chunks(m+m, tc.cuts...)...)...)
			wantPayloads(t, c, m, m)
			if c.msgs[0].first != 2 || c.msgs[0].last != uint64(len(tc.cuts)+2) {
				t.Fatalf("refs %d..%d", c.msgs[0].first, c.msgs[0].last)
			}
		})
	}
	// Every single split point.
	for cut := 1; cut < len(m); cut++ {
		a := New(Options{})
		x := newTx(cli, srv, 77)
		c := run(a, x.syn(), x.data(m[:cut]), x.data(m[cut:]+m))
		wantPayloads(t, c, m, m)
	}
}

func TestOutOfOrder(t *testing.T) {
	a := New(Options{})
	x := newTx(cli, srv, 5)
	m1, m2 := sipMsg("INVITE", 1, 30), sipMsg("ACK", 2, 0)
	syn := x.syn()
	segs := x.chunks(m1+m2, 50, 100, len(m1)+20)
	c := run(a, syn, segs[2], segs[3], segs[0])
	if len(c.msgs) != 0 {
		t.Fatalf("emitted before the hole filled: %q", c.payloads())
	}
	c = run(a, segs[1])
	wantPayloads(t, c, m1, m2)
	if c.msgs[0].first != segs[0].Ref || c.msgs[0].last != segs[2].Ref || c.msgs[1].last != segs[3].Ref {
		t.Fatalf("refs %+v", c.msgs)
	}
	// segs[1] completed both, but the held segments carry later capture
	// timestamps (built in stream order), and Time never precedes the
	// message's own last byte.
	if !c.msgs[0].t.Equal(segs[2].Time) || !c.msgs[1].t.Equal(segs[3].Time) {
		t.Fatalf("times %v %v", c.msgs[0].t, c.msgs[1].t)
	}
	// A hole filled later in packet time stamps with the filler's time.
	y := newTx(cli, srv, 5)
	b := New(Options{})
	ysyn := y.syn()
	ys := y.chunks(m2, 20)
	ys[0].Time = ys[1].Time.Add(time.Second)
	c = run(b, ysyn, ys[1], ys[0])
	if len(c.msgs) != 1 || !c.msgs[0].t.Equal(ys[0].Time) {
		t.Fatalf("filled-hole time %+v", c.msgs)
	}
	if st := a.Stats(); st.OutOfOrderSegments != 2 || st.Gaps != 0 || st.Messages != 2 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetransmissions(t *testing.T) {
	m1, m2 := sipMsg("INVITE", 1, 30), sipMsg("BYE", 2, 0)
	t.Run("exact", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 5)
		syn := x.syn()
		s := x.chunks(m1+m2, 60)
		c := run(a, syn, s[0], s[0], s[1], s[1])
		wantPayloads(t, c, m1, m2)
		st := a.Stats()
		if st.RetransmittedSegments != 2 || st.RetransmittedBytes != uint64(len(s[0].Payload)+len(s[1].Payload)) {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("overlapping partial", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 5)
		all := m1 + m2
		syn := x.syn()
		first := x.data(all[:60])
		// A resegmented retransmission: bytes 40..120 then the rest.
		over := &Segment{Src: cli, Dst: srv, Seq: first.Seq + 40, Payload: []byte(all[40:120]), Time: t0, Ref: 99}
		rest := &Segment{Src: cli, Dst: srv, Seq: first.Seq + 120, Payload: []byte(all[120:]), Time: t0, Ref: 100}
		c := run(a, syn, first, over, rest)
		wantPayloads(t, c, m1, m2)
		if st := a.Stats(); st.RetransmittedBytes != 20 || st.RetransmittedSegments != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("overlapping out of order", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 5)
		all := m1 + m2
		syn := x.syn()
		base := x.seq
		mk := func(from, to int) *Segment {
			return &Segment{Src: cli, Dst: srv, Seq: base + uint32(from), Payload: []byte(all[from:to]), Time: t0}
		}
		c := run(a, syn, mk(100, 150), mk(120, len(all)), mk(100, 150), mk(0, 110))
		wantPayloads(t, c, m1, m2)
		if st := a.Stats(); st.RetransmittedBytes != 50+10+30 {
			t.Fatalf("retransmitted bytes %d", st.RetransmittedBytes)
		}
	})
	t.Run("duplicate after delivery", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 5)
		syn := x.syn()
		s1 := x.data(m1)
		s2 := x.data(m2)
		c := run(a, syn, s1, s2, s1, s2)
		wantPayloads(t, c, m1, m2)
		if st := a.Stats(); st.RetransmittedSegments != 2 || st.Messages != 2 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestSequenceWrap(t *testing.T) {
	m := sipMsg("INVITE", 1, 100)
	for _, isn := range []uint32{math.MaxUint32, math.MaxUint32 - 49, math.MaxUint32 - uint32(len(m))} {
		a := New(Options{})
		x := newTx(cli, srv, isn)
		syn := x.syn()
		s := x.chunks(m+m, 30, 90, len(m)+5)
		c := run(a, syn, s[1], s[0], s[3], s[2], s[0])
		wantPayloads(t, c, m, m)
		if st := a.Stats(); st.Gaps != 0 || st.RetransmittedSegments != 1 {
			t.Fatalf("isn %d stats %+v", isn, st)
		}
	}
}

func TestContentLengthForms(t *testing.T) {
	body := "v=0\r\n"
	cases := []struct {
		name, hdr string
		missing   uint64
		bad       uint64
		body      string
	}{
		{"compact", "l: 5", 0, 0, body},
		{"case and spaces", "content-LENGTH \t:   5  ", 0, 0, body},
		{"missing", "", 1, 0, ""},
		{"garbage", "Content-Length: five", 0, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := "MESSAGE sip:x@y SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 MESSAGE\r\n"
			if tc.hdr != "" {
				h += tc.hdr + "\r\n"
			}
			m := h + "\r\n" + tc.body
			next := sipMsg("BYE", 9, 0)
			a := New(Options{})
			x := newTx(cli, srv, 1)
			stream := m + next
			if tc.body == "" {
				stream = m + next
			}
			c := run(a, x.syn(), x.data(stream))
			wantPayloads(t, c, m, next)
			if st := a.Stats(); st.MissingContentLength != tc.missing || st.BadContentLength != tc.bad {
				t.Fatalf("stats %+v", st)
			}
		})
	}
	t.Run("bare LF", func(t *testing.T) {
		m := "OPTIONS sip:x@y SIP/2.0\nCall-ID: 1\nCSeq: 1 OPTIONS\nContent-Length: 3\n\nabc"
		a := New(Options{})
		x := newTx(cli, srv, 1)
		c := run(a, x.syn(), x.data(m[:20]), x.data(m[20:]+m))
		wantPayloads(t, c, m, m)
	})
}

func TestMidStreamStart(t *testing.T) {
	m1, m2, m3 := sipMsg("INVITE", 1, 200), sipMsg("ACK", 2, 0), sipResp(180, 3)
	a := New(Options{})
	x := newTx(cli, srv, 123456)
	// No SYN: the capture starts inside m1's body, which contains a line
	// that looks like a start line but has no header block.
	tail := m1[len(m1)-60:] + "\r\nSIP/2.0 100 Trying\r\n\r\n"
	c := run(a, x.data(tail), x.data(m2), x.data(m3[:10]), x.data(m3[10:]))
	wantPayloads(t, c, m2, m3)
	st := a.Stats()
	if st.DiscardedBytes != uint64(len(tail)) || st.NonSIPStreams != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestGapResync(t *testing.T) {
	m1, m2, m3, m4 := sipMsg("INVITE", 1, 300), sipMsg("ACK", 2, 0), sipMsg("BYE", 3, 0), sipResp(200, 3)
	t.Run("timeout by packet time", func(t *testing.T) {
		a := New(Options{GapTimeout: 2 * time.Second})
		x := newTx(cli, srv, 9)
		syn := x.syn()
		s := x.chunks(m1+m2+m3, 100, 200)
		// s[1] is lost: m1 cannot complete; m2, m3 follow the hole.
		c := run(a, syn, s[0], s[2])
		if len(c.msgs) != 0 {
			t.Fatalf("early %q", c.payloads())
		}
		x.t = x.t.Add(3 * time.Second)
		c = run(a, x.data(m4))
		wantPayloads(t, c, m2, m3, m4)
		st := a.Stats()
		if st.Gaps != 1 || st.GapBytes != 100 || st.Messages != 3 || st.DiscardedBytes != uint64(len(m1)-100) || st.Resyncs != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("out-of-order bound", func(t *testing.T) {
		a := New(Options{MaxOutOfOrder: 400})
		x := newTx(cli, srv, 9)
		syn := x.syn()
		s := x.chunks(m1+m2+m3+m4, 50, len(m1)+10)
		more := x.data(m2)
		c := run(a, syn, s[0], s[2], more)
		wantPayloads(t, c, m3, m4, m2)
		if st := a.Stats(); st.Gaps != 1 || st.OutOfOrderOverflows != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("flush", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 9)
		syn := x.syn()
		s := x.chunks(m1+m2, 100, 200)
		c := run(a, syn, s[0], s[2])
		a.Flush(c.emit)
		wantPayloads(t, c, m2)
		if st := a.Stats(); st.Gaps != 1 || st.ActiveStreams != 0 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestFinRst(t *testing.T) {
	m1, m2 := sipMsg("INVITE", 1, 0), sipMsg("BYE", 2, 0)
	t.Run("FIN", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 9)
		syn := x.syn()
		s1 := x.data(m1)
		partial := x.data(m2[:20])
		fin := x.fin()
		c := run(a, syn, s1, partial, fin, s1, partial)
		wantPayloads(t, c, m1)
		st := a.Stats()
		if st.ClosedStreams != 1 || st.DiscardedBytes != 20 || st.RetransmittedSegments != 2 {
			t.Fatalf("stats %+v", st)
		}
		// The 4-tuple is reused by a new connection.
		y := newTx(cli, srv, 5000)
		c = run(a, y.syn(), y.data(m2))
		wantPayloads(t, c, m2)
		if a.Stats().Streams != 2 {
			t.Fatalf("streams %d", a.Stats().Streams)
		}
	})
	t.Run("FIN with payload", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 9)
		syn := x.syn()
		s := x.data(m1)
		s.FIN = true
		c := run(a, syn, s)
		wantPayloads(t, c, m1)
	})
	t.Run("RST closes both directions", func(t *testing.T) {
		a := New(Options{})
		x := newTx(cli, srv, 9)
		y := newTx(srv, cli, 7000)
		c := run(a, x.syn(), y.syn(), x.data(m1[:30]), y.data(sipResp(100, 1)))
		rst := &Segment{Src: srv, Dst: cli, Seq: y.seq, RST: true, Time: t0}
		c2 := run(a, rst)
		if len(c.msgs) != 1 || len(c2.msgs) != 0 {
			t.Fatalf("msgs %q %q", c.payloads(), c2.payloads())
		}
		if st := a.Stats(); st.ClosedStreams != 2 || st.DiscardedBytes != 30 {
			t.Fatalf("stats %+v", st)
		}
	})
}

func TestIdleExpiry(t *testing.T) {
	m := sipMsg("OPTIONS", 1, 0)
	a := New(Options{IdleTimeout: time.Minute})
	x := newTx(cli, srv, 1)
	y := newTx(srv, cli, 1)
	c := run(a, x.syn(), x.data(m), y.syn(), y.data(m[:10]))
	a.ExpireBefore(t0, c.emit)
	if a.Stats().ActiveStreams != 2 {
		t.Fatalf("expired too early")
	}
	a.ExpireBefore(t0.Add(time.Second), c.emit)
	st := a.Stats()
	if st.ActiveStreams != 0 || st.ExpiredStreams != 2 || st.DiscardedBytes != 10 {
		t.Fatalf("stats %+v", st)
	}
	// Automatic expiry by packet time during Add.
	b := New(Options{IdleTimeout: time.Minute})
	x = newTx(cli, srv, 1)
	run(b, x.syn(), x.data(m[:10]))
	other := newTx(cli, netip.MustParseAddrPort("10.0.0.3:5060"), 1)
	other.t = t0.Add(2 * time.Minute)
	run(b, other.syn())
	if st := b.Stats(); st.ExpiredStreams != 1 || st.ActiveStreams != 1 {
		t.Fatalf("auto-expiry stats %+v", st)
	}
}

func TestNonSIPAndTLS(t *testing.T) {
	cases := []struct {
		name    string
		first   string
		syn     bool
		nonSIP  uint64
		tls     uint64
		midOnly bool
	}{
		{"HTTP GET", "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", true, 1, 0, false},
		{"HTTP response", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", true, 1, 0, false},
		{"SSH", "SSH-2.0-OpenSSH_9.6\r\n", true, 1, 0, false},
		{"binary", "\x00\x01\x02\x03", true, 1, 0, false},
		{"TLS handshake", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", true, 0, 1, false},
		{"TLS appdata mid-stream", "\x17\x03\x03\x00\x20" + strings.Repeat("\xaa", 32), false, 0, 1, false},
		{"mid-stream text never SIP", strings.Repeat("lorem ipsum dolor\r\n", 1000), false, 1, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			x := newTx(cli, srv, 1)
			var segs []*Segment
			if tc.syn {
				segs = append(segs, x.syn())
			}
			segs = append(segs, x.data(tc.first))
			for range 50 {
				segs = append(segs, x.data(strings.Repeat("z", 1000)+sipMsg("INVITE", 1, 0)))
			}
			c := run(a, segs...)
			if len(c.msgs) != 0 {
				t.Fatalf("emitted %q", c.payloads()[0])
			}
			st := a.Stats()
			if st.NonSIPStreams != tc.nonSIP || st.TLSStreams != tc.tls {
				t.Fatalf("stats %+v", st)
			}
			s := a.streams[flowKey{cli, srv}]
			if cap(s.buf) > 64<<10 || len(s.buf) != 0 {
				t.Fatalf("buffer grew: len %d cap %d", len(s.buf), cap(s.buf))
			}
		})
	}
}

func TestOversizedMessageSkipped(t *testing.T) {
	big := sipMsg("MESSAGE", 1, 5000)
	m2 := sipMsg("BYE", 2, 0)
	a := New(Options{MaxStreamBuffer: 2048})
	x := newTx(cli, srv, 1)
	syn := x.syn()
	all := big + m2
	var segs []*Segment
	for i := 0; i < len(all); i += 700 {
		segs = append(segs, x.data(all[i:min(i+700, len(all))]))
	}
	c := run(a, append([]*Segment{syn}, segs...)...)
	wantPayloads(t, c, m2)
	if st := a.Stats(); st.BufferOverflows != 1 || st.DiscardedBytes != uint64(len(big)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestMaxStreams(t *testing.T) {
	a := New(Options{MaxStreams: 1})
	x := newTx(cli, srv, 1)
	y := newTx(srv, cli, 1)
	c := run(a, x.syn(), y.syn(), x.data(sipMsg("INVITE", 1, 0)))
	if len(c.msgs) != 1 || a.Stats().StreamsRefused != 1 {
		t.Fatalf("stats %+v", a.Stats())
	}
}

// TestRandomSegmentation cross-checks arbitrary segmentation, reordering
// and duplication against the unsplit stream.
func TestRandomSegmentation(t *testing.T) {
	var all string
	var want []string
	for i := range 20 {
		m := sipMsg([]string{"INVITE", "ACK", "BYE", "NOTIFY"}[i%4], i, (i*37)%300)
		want = append(want, m)
		all += m
		if i%5 == 0 {
			all += "\r\n\r\n"
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		a := New(Options{})
		x := newTx(cli, srv, r.Uint32())
		syn := x.syn()
		var segs []*Segment
		for i := 0; i < len(all); {
			n := 1 + r.IntN(200)
			if iter%3 == 0 {
				n = 1 + r.IntN(8)
			}
			n = min(n, len(all)-i)
			segs = append(segs, x.data(all[i:i+n]))
			i += n
		}
		// Local reordering and duplication, within the hold bounds.
		for i := range segs {
			if j := i + r.IntN(4); j < len(segs) && r.IntN(3) == 0 {
				segs[i], segs[j] = segs[j], segs[i]
			}
		}
		for range 5 {
			k := r.IntN(len(segs))
			segs = append(segs[:k+1], segs[k:]...)
		}
		c := run(a, append([]*Segment{syn}, segs...)...)
		wantPayloads(t, c, want...)
	}
}

// TestOutOfOrderArenaBounded keeps a hole open for the whole stream (each
// arriving segment fills one hole and opens another), so the held-segment
// arena never empties and must be compacted rather than grow.
func TestOutOfOrderArenaBounded(t *testing.T) {
	var all string
	var want []string
	for i := range 40 {
		m := sipMsg("NOTIFY", i, 150)
		want = append(want, m)
		all += m
	}
	a := New(Options{MaxOutOfOrder: 1000})
	x := newTx(cli, srv, 3)
	syn := x.syn()
	var segs []*Segment
	for i := 0; i < len(all); i += 100 {
		segs = append(segs, x.data(all[i:min(i+100, len(all))]))
	}
	order := []int{0, 2, 4}
	for k := 1; k+5 < len(segs); k += 2 {
		order = append(order, k, k+5)
	}
	c := run(a, syn)
	done := map[int]bool{}
	for _, i := range order {
		if !done[i] {
			done[i] = true
			a.Add(segs[i], c.emit)
		}
	}
	for i := range segs {
		if !done[i] {
			a.Add(segs[i], c.emit)
		}
	}
	wantPayloads(t, c, want...)
	s := a.streams[flowKey{cli, srv}]
	if st := a.Stats(); st.Gaps != 0 || cap(s.oooBuf) > 4096 {
		t.Fatalf("gaps %d, arena cap %d", st.Gaps, cap(s.oooBuf))
	}
}

// TestResyncLineStartAcrossSegments: after garbage, an extension method is
// accepted only at a line start, and whether the LF before it arrived in
// an earlier segment must not matter.
func TestResyncLineStartAcrossSegments(t *testing.T) {
	ext := "FOOBAR sip:x@y SIP/2.0\r\nCall-ID: 9\r\nCSeq: 1 FOOBAR\r\nContent-Length: 0\r\n\r\n"
	m0 := sipMsg("BYE", 1, 0)
	for _, cut := range []int{0, 5, 8, 9, 10} {
		cut += len(m0)
		stream := m0 + "garbage!\n" + ext + "junkFOOBAR sip:x@y SIP/2.0\r\nCall-ID: 9\r\nCSeq: 1 FOOBAR\r\n\r\n"
		a := New(Options{})
		x := newTx(cli, srv, 1)
		segs := []*Segment{x.syn()}
		if cut > 0 {
			segs = append(segs, x.data(stream[:cut]))
		}
		segs = append(segs, x.data(stream[cut:]))
		c := run(a, segs...)
		a.Flush(c.emit)
		wantPayloads(t, c, m0, ext)
		if st := a.Stats(); st.Resyncs != 2 || st.NonSIPStreams != 0 {
			t.Fatalf("cut %d: stats %+v", cut, st)
		}
	}
}

func TestFinBeforeMissingData(t *testing.T) {
	m1, m2 := sipMsg("INVITE", 1, 0), sipMsg("BYE", 2, 0)
	a := New(Options{GapTimeout: time.Second})
	x := newTx(cli, srv, 9)
	syn := x.syn()
	s1, s2 := x.data(m1), x.data(m2)
	fin := x.fin()
	c := run(a, syn, s1, fin, s2)
	wantPayloads(t, c, m1, m2)
	if st := a.Stats(); st.ClosedStreams != 1 || st.RetransmittedSegments != 0 || st.Gaps != 0 {
		t.Fatalf("stats %+v", st)
	}
	// The missing data never comes: the direction closes by packet time.
	b := New(Options{GapTimeout: time.Second})
	y := newTx(cli, srv, 9)
	syn = y.syn()
	s1 = y.data(m1)
	y.data(m2)
	fin = y.fin()
	c = run(b, syn, s1, fin)
	z := newTx(srv, cli, 1)
	z.t = t0.Add(3 * time.Second)
	run(b, z.syn())
	if st := b.Stats(); st.ClosedStreams != 1 || len(c.msgs) != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFlushOrder: streams flushed together come out oldest first, whatever
// the map order.
func TestFlushOrder(t *testing.T) {
	for range 20 {
		a := New(Options{})
		var segs []*Segment
		var want []string
		for i := range 8 {
			x := newTx(netip.AddrPortFrom(cli.Addr(), uint16(1000+i)), srv, 1)
			x.t = t0.Add(time.Duration(8-i) * time.Millisecond)
			m := sipMsg("OPTIONS", i, 0)
			want = append(want, m)
			// Held behind a hole, so only the flush can deliver it.
			syn := x.syn()
			x.data("junk")
			segs = append(segs, syn, x.data(m))
		}
		c := run(a, segs...)
		a.Flush(c.emit)
		for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
			want[i], want[j] = want[j], want[i]
		}
		wantPayloads(t, c, want...)
	}
}

// TestOversizedThenValid: a message larger than the stream buffer (a
// 1 MB header line, 10 000 Via headers, a 347 KB body) is dropped and
// counted, and the valid messages after it on the same connection are
// all delivered.
func TestOversizedThenValid(t *testing.T) {
	hugeLine := "MESSAGE sip:b@x SIP/2.0\r\nX-Huge: " + strings.Repeat("a", 1<<20) + "\r\nCall-ID: big\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n"
	var vias strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&vias, "Via: SIP/2.0/TCP 10.0.%d.%d:5060;branch=z9hG4bK%d\r\n", i/250, i%250, i)
	}
	manyVias := "OPTIONS sip:b@x SIP/2.0\r\n" + vias.String() + "Call-ID: vias\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	bigBody := sipMsg("MESSAGE", 1, 347*1024)
	for name, big := range map[string]string{"1 MB header line": hugeLine, "10 000 Via": manyVias, "347 KB body": bigBody} {
		// 1 400-byte segments as on Ethernet, 65 000 as loopback's TSO
		// hands them to a capture.
		for _, mss := range []int{1400, 65000} {
			t.Run(fmt.Sprintf("%s/mss %d", name, mss), func(t *testing.T) {
				a := New(Options{})
				x := newTx(cli, srv, 1)
				m1, m2, m3 := sipMsg("INVITE", 2, 100), sipMsg("ACK", 3, 0), sipMsg("BYE", 4, 0)
				all := m1 + big + m2 + m3
				segs := []*Segment{x.syn()}
				for i := 0; i < len(all); i += mss {
					segs = append(segs, x.data(all[i:min(i+mss, len(all))]))
				}
				c := run(a, segs...)
				wantPayloads(t, c, m1, m2, m3)
				st := a.Stats()
				if st.BufferOverflows == 0 {
					t.Errorf("oversized message not counted: %+v", st)
				}
			})
		}
	}
}
