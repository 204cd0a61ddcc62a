package sipstream

import (
	"testing"
)

// steadyStream returns an assembler already past its first messages (so
// buffers have grown) and a segment factory that keeps feeding it.
func steadyStream(payload string) (*Assembler, *tx) {
	a := New(Options{})
	x := newTx(cli, srv, 1)
	c := &collector{}
	a.Add(x.syn(), c.emit)
	for range 4 {
		a.Add(x.data(payload), c.emit)
	}
	return a, x
}

func TestAllocsSteadyState(t *testing.T) {
	one := sipMsg("INVITE", 1, 200)
	several := sipMsg("ACK", 1, 0) + "\r\n\r\n" + sipResp(200, 1) + sipMsg("BYE", 2, 10)
	ws := string(wsFrame(true, opText, true, key, []byte(one), 0))
	cases := []struct {
		name, payload string
		setup         string
		want          int
	}{
		{"one message per segment", one, "", 1},
		{"several messages per segment", several, "", 3},
		{"masked websocket frame", ws, wsRequest, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			x := newTx(cli, srv, 1)
			n := 0
			emit := func(*Message) { n++ }
			a.Add(x.syn(), emit)
			if tc.setup != "" {
				a.Add(x.data(tc.setup), emit)
			}
			seg := x.data(tc.payload)
			for range 4 {
				a.Add(seg, emit)
				seg.Seq += uint32(len(seg.Payload))
				// The assembler unmasks its own copy; the caller's frame
				// must be untouched for the next round.
				seg.Payload = []byte(tc.payload)
			}
			n = 0
			allocs := testing.AllocsPerRun(200, func() {
				a.Add(seg, emit)
				seg.Seq += uint32(len(seg.Payload))
			})
			if allocs != 0 {
				t.Fatalf("allocs per segment = %v", allocs)
			}
			if n != 201*tc.want {
				t.Fatalf("emitted %d, want %d", n, 201*tc.want)
			}
		})
	}
}

func TestCallerPayloadNotModified(t *testing.T) {
	m := sipMsg("INVITE", 1, 10)
	frame := wsFrame(true, opText, true, key, []byte(m), 0)
	orig := string(frame)
	a := New(Options{})
	x := newTx(cli, srv, 1)
	c := run(a, x.syn(), x.data(wsRequest))
	seg := x.data(string(frame))
	seg.Payload = frame
	a.Add(seg, c.emit)
	wantPayloads(t, c, m)
	if string(frame) != orig {
		t.Fatal("caller's payload was modified")
	}
}

func benchSegments(b *testing.B, payload string, setup string, fresh bool) {
	a := New(Options{})
	x := newTx(cli, srv, 1)
	n := 0
	emit := func(*Message) { n++ }
	a.Add(x.syn(), emit)
	if setup != "" {
		a.Add(x.data(setup), emit)
	}
	seg := x.data(payload)
	frame := []byte(payload)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if fresh && i%64 == 0 {
			// A new connection every 64 segments: stream set-up cost.
			a.Add(&Segment{Src: cli, Dst: srv, RST: true}, emit)
			seg.Seq = uint32(i)
			a.Add(&Segment{Src: cli, Dst: srv, Seq: seg.Seq - 1, SYN: true}, emit)
			if setup != "" {
				seg.Payload = []byte(setup)
				a.Add(seg, emit)
				seg.Seq += uint32(len(setup))
			}
		}
		seg.Payload = frame
		a.Add(seg, emit)
		seg.Seq += uint32(len(frame))
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkOneMessagePerSegment(b *testing.B) {
	benchSegments(b, sipMsg("INVITE", 1, 300), "", false)
}

func BenchmarkOneMessagePerSegmentNewStreams(b *testing.B) {
	benchSegments(b, sipMsg("INVITE", 1, 300), "", true)
}

func BenchmarkSeveralMessagesPerSegment(b *testing.B) {
	benchSegments(b, sipMsg("ACK", 1, 0)+sipResp(200, 1)+sipMsg("BYE", 2, 10)+"\r\n\r\n", "", false)
}

func BenchmarkSplitMessage(b *testing.B) {
	// Three segments per message, as with a large INVITE over a small MSS.
	m := sipMsg("INVITE", 1, 2000)
	a := New(Options{})
	x := newTx(cli, srv, 1)
	n := 0
	emit := func(*Message) { n++ }
	a.Add(x.syn(), emit)
	segs := []*Segment{x.data(m[:700]), x.data(m[700:1400]), x.data(m[1400:])}
	b.SetBytes(int64(len(m)))
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range segs {
			a.Add(s, emit)
			s.Seq += uint32(len(m))
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
}

func BenchmarkWebSocketMasked(b *testing.B) {
	m := sipMsg("INVITE", 1, 300)
	benchSegments(b, string(wsFrame(true, opText, true, key, []byte(m), 0)), wsRequest, false)
}
