package pcapgen

import (
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// tcpConn writes the records of one TCP connection with explicit
// sequence numbers.
type tcpConn struct {
	cl, sv     netip.AddrPort
	cseq, sseq uint32 // next sequence number of each side
	recs       []Record
	id         uint16
}

func newTCP(cl, sv netip.AddrPort, ciss, siss uint32) *tcpConn {
	return &tcpConn{cl: cl, sv: sv, cseq: ciss, sseq: siss, id: 0x6000}
}

func (c *tcpConn) raw(t time.Time, fromClient bool, seq uint32, flags TCPFlags, payload []byte) {
	src, dst, ack := c.cl, c.sv, c.sseq
	if !fromClient {
		src, dst, ack = c.sv, c.cl, c.cseq
	}
	c.id++
	ip := TCP(src, dst, c.id, Segment{Seq: seq, Ack: ack, Flags: flags, Payload: payload})
	c.recs = append(c.recs, Record{Time: t, Data: Ethernet(ip, fromClient)})
}

// handshake emits SYN, SYN-ACK, ACK (RFC 9293 3.5); SYN takes one
// sequence number.
func (c *tcpConn) handshake(t time.Time) {
	c.raw(t, true, c.cseq, FlagSYN, nil)
	c.cseq++
	c.raw(t.Add(timeUS(500)), false, c.sseq, FlagSYN|FlagACK, nil)
	c.sseq++
	c.raw(t.Add(timeUS(900)), true, c.cseq, FlagACK, nil)
}

// send emits one data segment and advances the sender's sequence.
func (c *tcpConn) send(t time.Time, fromClient bool, payload []byte) {
	if fromClient {
		c.raw(t, true, c.cseq, FlagPSH|FlagACK, payload)
		c.cseq += uint32(len(payload))
	} else {
		c.raw(t, false, c.sseq, FlagPSH|FlagACK, payload)
		c.sseq += uint32(len(payload))
	}
}

func (c *tcpConn) ack(t time.Time, fromClient bool) {
	seq := c.cseq
	if !fromClient {
		seq = c.sseq
	}
	c.raw(t, fromClient, seq, FlagACK, nil)
}

func (c *tcpConn) finish(w *Expect) []Record {
	w.TCP += len(c.recs)
	w.Packets += len(c.recs)
	return c.recs
}

// tcpMsgs is a TCP call's SIP messages: INVITE, 100, 180, 200, ACK, BYE, 200.
func tcpMsgs(id, transport string, cl, sv netip.Addr) (inv, trying, ringing, ok, ack, bye, byeOK []byte, d DialogExpect) {
	a, p := alice(cl), pbx(sv)
	c := &call{id: id, a: a, b: p, domain: domain, transport: transport, aTag: "tc" + branchID(id, "a")[:6], bTag: "tc" + branchID(id, "b")[:6]}
	i := c.req("INVITE", true, false, 1, "i", SDP{User: "alice", SessID: 9001, Version: 9001, Addr: cl, Port: 40000}.Bytes())
	b := c.req("BYE", true, true, 2, "b", nil)
	return i.Bytes(), c.resp(i, 100, "Trying", "", nil).Bytes(), c.resp(i, 180, "Ringing", c.bTag, nil).Bytes(),
		c.resp(i, 200, "OK", c.bTag, SDP{User: "root", SessID: 9002, Version: 9002, Addr: sv, Port: 20000}.Bytes()).Bytes(),
		c.req("ACK", true, true, 1, "a", nil).Bytes(), b.Bytes(), c.resp(b, 200, "OK", "", nil).Bytes(),
		DialogExpect{CallID: id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1, Messages: 7}
}

var (
	tcpClient = netip.AddrPortFrom(addrAlice, 50123)
	tcpServer = netip.AddrPortFrom(addrPBX, 5060)
)

func tcpScenario(name, desc, notes string, w Expect, recs []Record) Scenario {
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Calls = 0
	for _, d := range w.Dialogs {
		if d.Method == "INVITE" {
			w.Calls++
		}
	}
	w.Notes = notes
	return Scenario{Name: name, File: name + ".pcap", Description: desc, Want: w,
		data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: -1}
}

func buildTCPMulti() Scenario {
	inv, tr, rg, ok, ack, bye, byeOK, d := tcpMsgs("tcp-multi-0001@voiptool.test", "TCP", addrAlice, addrPBX)
	c := newTCP(tcpClient, tcpServer, 1000000, 2000000)
	c.handshake(at(0))
	c.send(at(10), true, inv)
	c.ack(at(11), false)
	c.send(at(300), false, append(append(append([]byte{}, tr...), rg...), ok...))
	c.send(at(310), true, ack)
	c.send(at(2000), true, bye)
	c.send(at(2010), false, byeOK)
	c.ack(at(2011), true)
	w := Expect{SIP: 7, Dialogs: []DialogExpect{d}}
	recs := c.finish(&w)
	return tcpScenario("tcp-multi-message", "SIP over TCP: 100 Trying, 180 Ringing and 200 OK (SDP) in one segment",
		"segment 5 (server, seq 2000001) holds 3 whole SIP messages framed by Content-Length", w, recs)
}

func buildTCPSplit() Scenario {
	inv, _, _, ok, ack, bye, byeOK, d := tcpMsgs("tcp-split-0001@voiptool.test", "TCP", addrAlice, addrPBX)
	d.Messages = 5
	c := newTCP(tcpClient, tcpServer, 3000000, 4000000)
	c.handshake(at(0))
	// Split points: inside the request line, inside the Via header name,
	// right after a CRLF, inside Content-Length's value, inside the blank
	// line before the body and inside the body.
	body := len(inv) - len(SDP{User: "alice", SessID: 9001, Version: 9001, Addr: addrAlice, Port: 40000}.Bytes())
	cuts := []int{5, 40, indexAfter(inv, "\r\nCall-ID"), indexAfter(inv, "Content-Length: ") + 1, body - 2, body + 30}
	prev := 0
	for i, cut := range append(cuts, len(inv)) {
		c.send(at(10+i), true, inv[prev:cut])
		prev = cut
	}
	c.ack(at(17), false)
	c.send(at(300), false, ok)
	c.send(at(310), true, ack)
	c.send(at(2000), true, bye)
	c.send(at(2010), false, byeOK)
	c.ack(at(2011), true)
	w := Expect{SIP: 5, Dialogs: []DialogExpect{d}}
	recs := c.finish(&w)
	return tcpScenario("tcp-split-message", "SIP over TCP: one INVITE spread over 7 segments (6 cuts: request line, header name, line start, Content-Length value, blank line, body)",
		"INVITE = client segments 1..7 after the handshake; then 200 OK, ACK, BYE, 200 whole", w, recs)
}

func indexAfter(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i + len(s)
		}
	}
	return len(b) / 2
}

func buildTCPOutOfOrder() Scenario {
	inv, _, _, ok, ack, bye, byeOK, d := tcpMsgs("tcp-ooo-0001@voiptool.test", "TCP", addrAlice, addrPBX)
	d.Messages = 5
	c := newTCP(tcpClient, tcpServer, 5000000, 6000000)
	c.handshake(at(0))
	// INVITE in three segments sent 1, 3, 2, then 2 again (exact
	// retransmission).
	s := c.cseq
	n1, n2 := 300, 700
	c.raw(at(10), true, s, FlagPSH|FlagACK, inv[:n1])
	c.raw(at(11), true, s+uint32(n2), FlagPSH|FlagACK, inv[n2:])
	c.raw(at(12), true, s+uint32(n1), FlagPSH|FlagACK, inv[n1:n2])
	c.raw(at(212), true, s+uint32(n1), FlagPSH|FlagACK, inv[n1:n2])
	c.cseq += uint32(len(inv))
	c.ack(at(213), false)
	// 200 OK in two segments, then a partial retransmission overlapping
	// the end of the first and the start of the second.
	s = c.sseq
	h := len(ok) / 2
	c.raw(at(300), false, s, FlagPSH|FlagACK, ok[:h])
	c.raw(at(301), false, s+uint32(h), FlagPSH|FlagACK, ok[h:])
	c.raw(at(500), false, s+uint32(h-100), FlagPSH|FlagACK, ok[h-100:h+100])
	c.sseq += uint32(len(ok))
	c.send(at(510), true, ack)
	// RFC 5626 3.5.1 keep-alive: client CRLFCRLF ping, server CRLF pong.
	c.send(at(1000), true, []byte("\r\n\r\n"))
	c.send(at(1001), false, []byte("\r\n"))
	c.send(at(2000), true, bye)
	c.send(at(2010), false, byeOK)
	c.ack(at(2011), true)
	w := Expect{SIP: 5, Dialogs: []DialogExpect{d}}
	recs := c.finish(&w)
	return tcpScenario("tcp-out-of-order-retrans", "SIP over TCP with reordered segments, an exact and a partial retransmission, and CRLF keep-alives",
		"INVITE segments [0,300) [700,end) [300,700) then [300,700) again; 200 OK halves then bytes [h-100,h+100) again; CRLFCRLF ping/CRLF pong are not SIP messages", w, recs)
}

func buildTCPSeqWrap() Scenario {
	inv, tr, _, ok, ack, bye, byeOK, d := tcpMsgs("tcp-wrap-0001@voiptool.test", "TCP", addrAlice, addrPBX)
	d.Messages = 6
	// Client ISN 300 bytes before 2^32: the INVITE crosses the wrap.
	c := newTCP(tcpClient, tcpServer, 0xffffffff-300, 0xfffffff0)
	c.handshake(at(0))
	h := 250
	c.send(at(10), true, inv[:h])
	c.send(at(11), true, inv[h:])
	c.ack(at(12), false)
	c.send(at(100), false, tr)
	c.send(at(300), false, ok)
	c.send(at(310), true, ack)
	c.send(at(2000), true, bye)
	c.send(at(2010), false, byeOK)
	c.ack(at(2011), true)
	w := Expect{SIP: 6, Dialogs: []DialogExpect{d}}
	recs := c.finish(&w)
	return tcpScenario("tcp-seq-wrap", "SIP over TCP whose client and server sequence numbers wrap past 2^32 mid-message",
		"client ISN 0xfffffed3 (INVITE's second segment starts past the wrap), server ISN 0xfffffff0 (100 Trying crosses 0)", w, recs)
}

func buildSCTP() Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, "sctp-0001@voiptool.test", "SCTP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, addrAlice, addrPBX, d.CallID)}
	var recs []Record
	tsn := map[netip.Addr]uint32{addrAlice: 100, addrPBX: 900}
	ssn := map[netip.Addr]uint16{}
	for i, e := range ev {
		var ip []byte
		if e.kind == kindSIP {
			ip = SCTP(e.src, e.dst, uint16(0x7000+i), 0x5c7a0001, SCTPData(tsn[e.src.Addr()], 0, ssn[e.src.Addr()], PPIDSIP, e.payload))
			tsn[e.src.Addr()]++
			ssn[e.src.Addr()]++
			w.SCTP++
		} else {
			ip = UDP(e.src, e.dst, uint16(0x7000+i), e.payload)
			w.UDP++
		}
		recs = append(recs, Record{Time: e.t, Data: Ethernet(ip, e.src.Addr() == addrAlice)})
	}
	w.Packets = len(recs)
	countEvents(&w, ev)
	fillDialogs(&w, ev)
	return tcpScenario("sctp-sip", "SIP over SCTP (port 5060, one unfragmented DATA chunk per packet, PPID 0) with RTP over UDP",
		"no INIT handshake in the capture (association already up); verification tag 0x5c7a0001 both ways; TSNs start 100 (client) and 900 (server)", w, recs)
}

func buildWebSocket() Scenario {
	id := "ws-0001@voiptool.test"
	cl, sv := netip.AddrPortFrom(addrAlice, 51000), netip.AddrPortFrom(addrPBX, 8088)
	c := &call{id: id, a: party{user: "alice", display: "Alice", sig: cl, ua: "JsSIP 3.10.1"}, b: pbx(addrPBX),
		domain: domain, transport: "WS", aTag: "wsa1", bTag: "wsb2"}
	c.b.sig = sv
	reg := &call{id: "ws-reg-0001@voiptool.test", a: c.a, b: party{user: "alice", display: "Alice", sig: sv, ua: uaPBX},
		domain: domain, transport: "WS", aTag: "wsr1"}
	r := reg.req("REGISTER", true, false, 1, "r", nil, "Expires: 600")
	inv := c.req("INVITE", true, false, 1, "i", SDP{User: "alice", SessID: 31, Version: 31, Addr: addrAlice, Port: 40000}.Bytes())
	ok := c.resp(inv, 200, "OK", c.bTag, SDP{User: "root", SessID: 32, Version: 32, Addr: addrPBX, Port: 20000}.Bytes())
	tc := newTCP(cl, sv, 7000000, 8000000)
	tc.handshake(at(0))
	upgrade := "GET /ws HTTP/1.1\r\nHost: pbx.example.com:8088\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://phone.example.com\r\n" +
		"Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"
	// Accept value for the RFC 6455 1.3 sample key.
	accept := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
	tc.send(at(10), true, []byte(upgrade))
	tc.send(at(20), false, []byte(accept))
	mask := func(n int) *[4]byte { m := [4]byte{byte(0x37 + n), 0xfa, 0x21, byte(0x3d + n)}; return &m }
	tc.send(at(30), true, WSFrame(true, WSText, mask(0), r.Bytes()))
	tc.send(at(40), false, WSFrame(true, WSText, nil, reg.resp(r, 200, "OK", "wsr2", nil, "Expires: 600").Bytes()))
	ib := inv.Bytes()
	// INVITE fragmented in two frames (RFC 6455 5.4), both in one segment
	// with a ping from the server between them... control frames may be
	// injected in the middle of a fragmented message (5.4).
	h := len(ib) / 2
	tc.send(at(1000), true, WSFrame(false, WSText, mask(1), ib[:h]))
	tc.send(at(1001), false, WSFrame(true, WSPing, nil, []byte("ka")))
	tc.send(at(1002), true, append(WSFrame(true, WSPong, mask(2), []byte("ka")), WSFrame(true, WSContinuation, mask(3), ib[h:])...))
	tc.send(at(1200), false, WSFrame(true, WSText, nil, ok.Bytes()))
	tc.send(at(1210), true, WSFrame(true, WSText, mask(4), c.req("ACK", true, true, 1, "a", nil).Bytes()))
	bye := c.req("BYE", true, true, 2, "b", nil)
	tc.send(at(3000), true, WSFrame(true, WSText, mask(5), bye.Bytes()))
	tc.send(at(3010), false, WSFrame(true, WSText, nil, c.resp(bye, 200, "OK", "", nil).Bytes()))
	tc.ack(at(3011), true)
	w := Expect{SIP: 7, Dialogs: []DialogExpect{
		{CallID: reg.id, Method: "REGISTER", FinalCode: 200, ToTags: 1, Messages: 2},
		{CallID: id, Method: "INVITE", FinalCode: 200, State: StateCompleted, ToTags: 1, Messages: 5},
	}}
	recs := tc.finish(&w)
	return tcpScenario("websocket", "SIP over WebSocket (RFC 7118) on TCP 8088: HTTP upgrade, masked client / unmasked server text frames, INVITE fragmented in 2 frames with ping/pong between",
		"masked client frames; the INVITE's continuation frame shares a segment with the pong; ping payload \"ka\"", w, recs)
}

func buildTLS() Scenario {
	rng := rand.New(rand.NewPCG(5061, 2))
	opaque := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	w := Expect{TLSStreams: 2}
	var recs []Record
	for k := range 2 {
		cl := netip.AddrPortFrom(addrAlice, uint16(52000+k))
		sv := netip.AddrPortFrom(addrPBX, 5061)
		tc := newTCP(cl, sv, uint32(9000000+k*1000), uint32(9500000+k*1000))
		base := k * 5000
		tc.handshake(at(base))
		tc.send(at(base+5), true, TLSRecord(TLSHandshake, TLSVersion10, TLSHandshakeMsg(1, helloBody(true, opaque(64)))))
		tc.send(at(base+30), false, append(append(TLSRecord(TLSHandshake, TLSVersion12, TLSHandshakeMsg(2, helloBody(false, opaque(64)))),
			TLSRecord(TLSChangeCipherSpec, TLSVersion12, []byte{1})...),
			TLSRecord(TLSApplicationData, TLSVersion12, opaque(1100))...))
		tc.send(at(base+40), true, append(TLSRecord(TLSChangeCipherSpec, TLSVersion12, []byte{1}),
			TLSRecord(TLSApplicationData, TLSVersion12, opaque(53))...))
		for j := range 4 { // encrypted SIP: INVITE, 200, ACK, BYE sizes
			size := []int{1180, 920, 410, 450}[j]
			tc.send(at(base+100+200*j), j%2 == 0, TLSRecord(TLSApplicationData, TLSVersion12, opaque(size)))
		}
		tc.ack(at(base+1000), true)
		recs = append(recs, tc.finish(&w)...)
	}
	return tcpScenario("tls-sip", "two TLS 1.3-style connections to 5061 (ClientHello, ServerHello+CCS+encrypted, application data): counted, not decoded",
		"2 TCP connections 192.168.1.10:52000/52001 -> 10.0.0.1:5061; no SIP is decodable", w, recs)
}
