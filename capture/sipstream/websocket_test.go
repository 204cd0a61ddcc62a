package sipstream

import (
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/wsframe"
)

var key = [4]byte{0x37, 0xfa, 0x21, 0x3d}

func TestWebSocket(t *testing.T) {
	reg := sipMsg("REGISTER", 1, 0)                                                     // < 126 bytes? no: 16-bit length
	small := "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n" // 7-bit length
	inv := sipMsg("INVITE", 2, 70000)                                                   // 64-bit length
	resp := sipResp(200, 1)
	if len(small) > 125 || len(reg) <= 125 { // 125: the largest 7-bit length
		t.Fatalf("fixture sizes %d %d", len(small), len(reg))
	}

	a := New(Options{})
	c := newTx(cli, srv, 100)
	s := newTx(srv, cli, 900)

	var cs []byte
	cs = append(cs, wsFrame(true, opText, true, key, []byte(small), 0)...)
	cs = append(cs, wsFrame(true, opBinary, true, key, []byte(reg), 0)...)
	// Fragmented INVITE: text, ping, continuation, continuation(FIN).
	cs = append(cs, wsFrame(false, opText, true, key, []byte(inv[:100]), 0)...)
	cs = append(cs, wsFrame(true, opPing, true, key, []byte("hi"), 0)...)
	cs = append(cs, wsFrame(false, opContinue, true, key, []byte(inv[100:69000]), 0)...)
	cs = append(cs, wsFrame(true, opContinue, true, key, []byte(inv[69000:]), 0)...)
	// 64-bit length on the whole message, unfragmented.
	cs = append(cs, wsFrame(true, opText, true, key, []byte(inv), 64)...)
	cs = append(cs, wsFrame(true, opClose, true, key, []byte{0x03, 0xe8}, 0)...)

	var ss []byte
	ss = append(ss, wsFrame(true, opText, false, key, []byte(resp), 0)...)
	ss = append(ss, wsFrame(true, opPong, false, key, nil, 0)...)
	ss = append(ss, wsFrame(true, opText, false, key, []byte(resp), 16)...)
	ss = append(ss, wsFrame(true, opText, false, key, []byte("\r\n\r\n"), 0)...)

	col := run(a, c.syn(), s.syn(), c.data(wsRequest), s.data(wsResponse))
	// Client bytes in awkward pieces: 1-byte segments around headers.
	stream := string(cs)
	for i := 0; i < len(stream); {
		n := 1
		if i > 200 {
			n = 1460
		}
		n = min(n, len(stream)-i)
		a.Add(c.data(stream[i:i+n]), col.emit)
		i += n
	}
	a.Add(s.data(string(ss)), col.emit)
	wantPayloads(t, col, small, reg, inv, inv, resp, resp)
	for _, m := range col.msgs {
		if !m.ws {
			t.Fatalf("message not flagged WebSocket")
		}
	}
	st := a.Stats()
	if st.WebSocketStreams != 2 || st.WebSocketMessages != 6 || st.Messages != 6 ||
		st.WebSocketControlFrames != 3 || st.WebSocketFrames != 12 || st.KeepAlives != 1 ||
		st.NonSIPStreams != 0 || st.WebSocketProtocolErrors != 0 {
		t.Fatalf("stats %+v", st)
	}
	// Refs of the fragmented INVITE span its first and last frames.
	if col.msgs[2].first >= col.msgs[2].last {
		t.Fatalf("refs %d..%d", col.msgs[2].first, col.msgs[2].last)
	}
}

func TestWebSocketErrors(t *testing.T) {
	m := sipMsg("MESSAGE", 1, 20)
	cases := []struct {
		name   string
		frames [][]byte
		want   []string
		check  func(Stats) bool
	}{
		{"non-SIP text", [][]byte{wsFrame(true, opText, true, key, []byte("hello world, not sip\r\n"), 0), wsFrame(true, opText, true, key, []byte(m), 0)},
			[]string{m}, func(s Stats) bool { return s.WebSocketNonSIP == 1 }},
		{"compressed", [][]byte{append([]byte{0xc1}, wsFrame(true, opText, false, key, []byte("xx"), 0)[1:]...), wsFrame(true, opText, false, key, []byte(m), 0)},
			[]string{m}, func(s Stats) bool { return s.WebSocketCompressed == 1 }},
		{"new message mid-fragment", [][]byte{wsFrame(false, opText, true, key, []byte(m[:10]), 0), wsFrame(true, opText, true, key, []byte(m), 0)},
			[]string{m}, func(s Stats) bool { return s.WebSocketProtocolErrors == 1 }},
		{"orphan continuation", [][]byte{wsFrame(true, opContinue, true, key, []byte(m), 0), wsFrame(true, opText, true, key, []byte(m), 0)},
			[]string{m}, func(s Stats) bool { return s.WebSocketProtocolErrors == 1 }},
		{"bad opcode resyncs", [][]byte{{0x83, 0x02, 'x', 'y'}, wsFrame(true, opText, true, key, []byte(m), 0)},
			[]string{m}, func(s Stats) bool { return s.WebSocketProtocolErrors == 1 && s.Resyncs == 1 }},
		{"fragmented control", [][]byte{wsFrame(false, opPing, false, key, nil, 0), wsFrame(true, opText, false, key, []byte(m), 0)},
			[]string{m}, func(s Stats) bool { return s.WebSocketProtocolErrors == 1 }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{})
			x := newTx(cli, srv, 1)
			col := run(a, x.syn(), x.data(wsRequest))
			for _, f := range tc.frames {
				a.Add(x.data(string(f)), col.emit)
			}
			wantPayloads(t, col, tc.want...)
			if st := a.Stats(); !tc.check(st) {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestWebSocketMidStreamAndGap(t *testing.T) {
	m1, m2, m3 := sipMsg("INVITE", 1, 300), sipMsg("ACK", 1, 0), sipMsg("BYE", 1, 0)
	f1 := string(wsFrame(true, opText, true, key, []byte(m1), 0))
	f2 := string(wsFrame(true, opText, true, key, []byte(m2), 0))
	f3 := string(wsFrame(true, opText, true, key, []byte(m3), 0))
	a := New(Options{})
	x := newTx(cli, srv, 1)
	// No SYN, no upgrade seen: recognised from the frame itself.
	col := run(a, x.data(f1))
	lost := x.data(f2[:50])
	_ = lost
	col2 := run(a, x.data(f2[50:]+f3))
	a.Flush(col2.emit)
	wantPayloads(t, col, m1)
	wantPayloads(t, col2, m3)
	if st := a.Stats(); st.WebSocketStreams != 1 || st.Gaps != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWebSocketNotUpgraded(t *testing.T) {
	for _, first := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n",
		"HTTP/1.1 400 Bad Request\r\nUpgrade: websocket\r\n\r\n",
		"GET / HTTP/1.1\r\n" + strings.Repeat("X-Pad: y\r\n", 1000),
	} {
		a := New(Options{})
		x := newTx(cli, srv, 1)
		col := run(a, x.syn(), x.data(first), x.data(string(wsFrame(true, opText, false, key, []byte(sipMsg("BYE", 1, 0)), 0))))
		if len(col.msgs) != 0 || a.Stats().NonSIPStreams != 1 {
			t.Fatalf("%q: msgs %d stats %+v", first[:20], len(col.msgs), a.Stats())
		}
	}
}

func TestUnmask(t *testing.T) {
	p := []byte("0123456789abcdefXYZ")
	q := append([]byte(nil), p...)
	wsframe.Mask(q, key)
	for i := range p {
		if q[i] != p[i]^key[i%4] {
			t.Fatalf("byte %d", i)
		}
	}
}
