package anon

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/sipflow"
)

// parserIdentifiers collects the identifiers sipflow itself finds in a
// message: the oracle of the differential fuzz test is the parser, not the
// rewriter's own record.
func parserIdentifiers(msg *sipflow.Message) (*leak.Set, [][2]int) {
	s := leak.NewSet(0)
	var ranges [][2]int
	mark := func(b []byte) {
		if off := sipflow.Offset(msg.Raw, b); off >= 0 {
			ranges = append(ranges, [2]int{off, off + len(b)})
		}
	}
	user := func(u []byte) {
		mark(u)
		if IsNumber(string(u)) {
			s.Add(leak.Number, string(u))
		} else if len(u) > 0 && bytes.IndexByte(u, ';') < 0 && bytes.IndexByte(u, '%') < 0 {
			s.Add(leak.User, string(u))
		}
	}
	host := func(h []byte) {
		mark(h)
		if a, err := parseAddr(h); err == nil {
			s.Add(leak.IP, a)
		} else if looksLikeDomain(h) {
			s.Add(leak.Host, string(h))
		}
	}
	uri := func(u *sipflow.URI) {
		switch string(bytes.ToLower(u.Scheme)) {
		case "sip", "sips":
			user(u.User)
			host(u.Host)
		case "tel":
			user(u.User)
		}
	}
	na := func(n *sipflow.NameAddr) {
		uri(&n.URI)
		if len(n.Tag) > 0 {
			mark(n.Tag)
			s.Add(leak.Tag, string(n.Tag))
		}
	}
	if msg.Request {
		uri(&msg.RequestURI)
	}
	na(&msg.From)
	na(&msg.To)
	for i := range msg.Contact {
		na(&msg.Contact[i])
	}
	if msg.HasPAI {
		na(&msg.PAI)
	}
	if len(msg.CallID) > 0 {
		mark(msg.CallID)
		s.Add(leak.CallID, string(msg.CallID))
	}
	for _, x := range msg.XCallID {
		mark(x)
		s.Add(leak.CallID, string(x))
	}
	for i := range msg.Via {
		host(msg.Via[i].Host)
		host(msg.Via[i].Received)
	}
	if msg.HasSDP {
		host(msg.SDP.Origin.Addr)
		host(msg.SDP.Conn.Addr)
		for i := range msg.SDP.Media {
			host(msg.SDP.Media[i].Conn.Addr)
		}
	}
	return s, ranges
}

// keptElsewhere reports whether match (the bytes of a hit) also occurs in
// the input outside every identifier field: then the output may carry it
// as kept protocol text (a CSeq of 12345, a port) and the hit proves nothing.
func keptElsewhere(in []byte, ranges [][2]int, match []byte) bool {
	lin, lm := bytes.ToLower(in), bytes.ToLower(match)
	for i := 0; i+len(lm) <= len(lin); i++ {
		if !bytes.Equal(lin[i:i+len(lm)], lm) {
			continue
		}
		inside := false
		for _, r := range ranges {
			if i < r[1] && i+len(lm) > r[0] {
				inside = true
				break
			}
		}
		if !inside {
			return true
		}
	}
	return false
}

func parseAddr(h []byte) (string, error) {
	a, err := netip.ParseAddr(string(h))
	if err != nil {
		return "", err
	}
	return a.String(), nil
}

func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, c := range headerCases {
		seeds = append(seeds, buildMsg(c.start, c.headers, "", ""))
	}
	seeds = append(seeds, buildMsg("", nil, "application/sdp", sdpBody))
	seeds = append(seeds, []byte("SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\nf: <sip:a1234@x.example.com>;tag=abcdef1\r\nt: <sip:b1234@y.example.com>;tag=xyz7890\r\ni: cid123456@10.0.0.1\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n"))
	if b, err := os.ReadFile(filepath.Join("testdata", "invite.sip")); err == nil {
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzRewriteSIP: whatever the input, the rewriter does not crash; when
// the input parses the output parses, with no warning the input did not
// have, and with Content-Length equal to its body when the input's was; and
// no identifier sipflow saw in the input is found in the output by the leak
// checker (the differential oracle).
func FuzzRewriteSIP(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	key, _ := KeyFromString("fuzz")
	f.Fuzz(func(t *testing.T, in []byte) {
		m := NewMapper(key, Options{})
		var a sipflow.Message
		inErr := a.Unmarshal(in)
		out, err := m.RewriteSIP(in)
		if inErr != nil {
			if err == nil {
				t.Fatal("rewrote a message the parser refused")
			}
			return
		}
		if err != nil {
			t.Fatalf("parser accepted, rewriter refused: %v", err)
		}
		var b sipflow.Message
		if err := b.Unmarshal(out); err != nil {
			t.Fatalf("output no longer parses: %v\n%q", err, out)
		}
		if extra := b.Warnings &^ a.Warnings; extra != 0 {
			t.Fatalf("new warnings %q\nin  %q\nout %q", extra, in, out)
		}
		if a.ContentLength >= 0 && a.ContentLength == len(a.Body) && b.ContentLength != len(b.Body) {
			t.Fatalf("Content-Length %d, body %d\n%q", b.ContentLength, len(b.Body), out)
		}
		ids, ranges := parserIdentifiers(&a)
		c := leak.NewChecker(ids)
		for _, h := range c.Scan(0, out, nil) {
			// the same bytes outside identifiers in the input (a port, a
			// CSeq number) are kept on purpose: not a leak
			if keptElsewhere(in, ranges, out[h.Offset:h.Offset+int64(h.Len)]) {
				continue
			}
			t.Fatalf("leak: %v %q (%v) at %d\nin  %q\nout %q", h.Category, h.Ident, h.Encoding, h.Offset, in, out)
		}
	})
}

// FuzzRewriteMedia: RTP and RTCP rewriting never crash, never change a
// packet's length, and an RTCP compound that pion/rtcp parsed before
// parses after with the same packet count.
func FuzzRewriteMedia(f *testing.F) {
	f.Add(rtpPacket(0, bytes.Repeat([]byte{1}, 160), true, true), "")
	f.Add(rtpPacket(101, []byte{5, 0x8a, 0, 160}, false, false), "telephone-event")
	f.Add([]byte{0x81, 202, 0, 6, 0xde, 0xad, 0xbe, 0xef, 1, 10, 'a', 'l', 'i', 'c', 'e', '@', '1', '0', '.', '1', 0, 0, 0, 0, 0, 0, 0, 0}, "")
	f.Add([]byte{0x81, 203, 0, 3, 0, 0, 0, 1, 5, 'a', 'l', 'i', 'c', 'e', 0, 0}, "PCMA")
	key, _ := KeyFromString("fuzz")
	f.Fuzz(func(t *testing.T, p []byte, codec string) {
		m := NewMapper(key, Options{})
		q := append([]byte(nil), p...)
		m.RewriteRTP(q, RTPSilence, codec)
		if len(q) != len(p) {
			t.Fatal("RTP length changed")
		}
		before, errBefore := rtcpUnmarshal(p)
		r := append([]byte(nil), p...)
		err := m.RewriteRTCP(r)
		if len(r) != len(p) {
			t.Fatal("RTCP length changed")
		}
		if errBefore == nil && err == nil {
			after, errAfter := rtcpUnmarshal(r)
			if errAfter != nil || after != before {
				t.Fatalf("RTCP parsed before (%d packets), not after: %v", before, errAfter)
			}
		}
	})
}
