package sipstream

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/internal/wsframe"
)

var (
	cli = netip.MustParseAddrPort("10.0.0.1:40000")
	srv = netip.MustParseAddrPort("10.0.0.2:5060")
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

// got is a retained copy of an emitted message.
type got struct {
	src, dst    netip.AddrPort
	payload     string
	first, last uint64
	ws          bool
	t           time.Time
}

type collector struct{ msgs []got }

func (c *collector) emit(m *Message) {
	c.msgs = append(c.msgs, got{m.Src, m.Dst, string(m.Payload), m.FirstRef, m.LastRef, m.WebSocket, m.Time})
}

func (c *collector) payloads() []string {
	out := make([]string, len(c.msgs))
	for i, m := range c.msgs {
		out[i] = m.payload
	}
	return out
}

// sipMsg builds a request with a body of n bytes.
func sipMsg(method string, cseq, n int) string {
	body := strings.Repeat("b", n)
	return fmt.Sprintf("%s sip:bob@example.com SIP/2.0\r\n"+
		"Via: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK%d\r\n"+
		"From: <sip:alice@example.com>;tag=1\r\n"+
		"To: <sip:bob@example.com>\r\n"+
		"Call-ID: call-%d@example.com\r\n"+
		"CSeq: %d %s\r\n"+
		"Content-Length: %d\r\n\r\n%s", method, cseq, cseq, cseq, method, n, body)
}

func sipResp(code, cseq int) string {
	return fmt.Sprintf("SIP/2.0 %d OK\r\n"+
		"Via: SIP/2.0/TCP 10.0.0.1:40000;branch=z9hG4bK%d\r\n"+
		"Call-ID: call-%d@example.com\r\n"+
		"CSeq: %d INVITE\r\n"+
		"l: 0\r\n\r\n", code, cseq, cseq, cseq)
}

// tx builds segments of one direction, tracking the sequence number.
type tx struct {
	src, dst netip.AddrPort
	seq      uint32
	ref      uint64
	t        time.Time
}

func newTx(src, dst netip.AddrPort, isn uint32) *tx {
	return &tx{src: src, dst: dst, seq: isn, t: t0}
}

func (x *tx) syn() *Segment {
	x.ref++
	s := &Segment{Src: x.src, Dst: x.dst, Seq: x.seq, SYN: true, Time: x.t, Ref: x.ref}
	x.seq++
	return s
}

// data returns the next in-order segment carrying p.
func (x *tx) data(p string) *Segment {
	x.ref++
	x.t = x.t.Add(time.Millisecond)
	s := &Segment{Src: x.src, Dst: x.dst, Seq: x.seq, Payload: []byte(p), Time: x.t, Ref: x.ref}
	x.seq += uint32(len(p))
	return s
}

func (x *tx) fin() *Segment {
	x.ref++
	x.t = x.t.Add(time.Millisecond)
	return &Segment{Src: x.src, Dst: x.dst, Seq: x.seq, FIN: true, Time: x.t, Ref: x.ref}
}

// chunks splits s at the given offsets into in-order segments.
func (x *tx) chunks(s string, cuts ...int) []*Segment {
	var out []*Segment
	prev := 0
	for _, c := range cuts {
		out = append(out, x.data(s[prev:c]))
		prev = c
	}
	return append(out, x.data(s[prev:]))
}

func run(a *Assembler, segs ...*Segment) *collector {
	c := &collector{}
	for _, s := range segs {
		a.Add(s, c.emit)
	}
	return c
}

func wantPayloads(t *testing.T, c *collector, want ...string) {
	t.Helper()
	got := c.payloads()
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d:\n%q", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("message %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

// wsFrame encodes one frame; lenMode 0 picks the minimal length encoding
// (wsframe.Append), 16 or 64 forces that extended length, which a
// receiver must accept too.
func wsFrame(fin bool, op byte, mask bool, key [4]byte, payload []byte, lenMode int) []byte {
	b0 := op
	if fin {
		b0 |= wsframe.FIN
	}
	if lenMode == 0 {
		return wsframe.Append(nil, b0, mask, key, payload)
	}
	var m byte
	if mask {
		m = 0x80
	}
	b := []byte{b0}
	if lenMode == 64 {
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(len(payload)))
	} else {
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	}
	if !mask {
		return append(b, payload...)
	}
	b = append(b, key[:]...)
	n := len(b)
	b = append(b, payload...)
	wsframe.Mask(b[n:], key)
	return b
}

const wsRequest = "GET /ws HTTP/1.1\r\nHost: sip.example.com\r\nUPGRADE: WebSocket\r\nconnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"

const wsResponse = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
