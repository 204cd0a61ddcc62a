package pcapgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// tally is what the independent decoder (gopacket + the small parsers in
// this file) finds in a file.
type tally struct {
	packets, udp, tcp, sctp, frags, sip, rtp, rtcp, hep, tlsStreams int
}

var sipMethods = []string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "INFO", "UPDATE", "PRACK", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE"}

func isSIP(p []byte) bool {
	if bytes.HasPrefix(p, []byte("SIP/2.0 ")) {
		return true
	}
	for _, m := range sipMethods {
		if bytes.HasPrefix(p, []byte(m+" sip:")) {
			return true
		}
	}
	return false
}

// sipMessages counts whole SIP messages in a byte stream framed by
// Content-Length (RFC 3261 18.3), skipping CRLF keep-alives. It returns
// an error if the stream ends inside a message.
func sipMessages(b []byte) (int, error) {
	n := 0
	for {
		for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
			b = b[1:]
		}
		if len(b) == 0 {
			return n, nil
		}
		if !isSIP(b) {
			return n, fmt.Errorf("stream does not start with SIP: %q", b[:min(len(b), 20)])
		}
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			return n, fmt.Errorf("headers not terminated")
		}
		cl := -1
		for _, line := range strings.Split(string(b[:end]), "\r\n") {
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				cl, _ = strconv.Atoi(v)
			}
		}
		if cl < 0 || end+4+cl > len(b) {
			return n, fmt.Errorf("bad Content-Length %d", cl)
		}
		b = b[end+4+cl:]
		n++
	}
}

type flowKey struct{ src, dst string }

type segment struct {
	seq  uint32
	data []byte
}

// reassemble places segments at their offset from the ISN (uint32
// arithmetic handles the wrap); overlaps must agree byte for byte.
func reassemble(isn uint32, segs []segment) ([]byte, error) {
	var out []byte
	have := []bool{}
	for _, s := range segs {
		off := int(s.seq - isn - 1)
		if need := off + len(s.data); need > len(out) {
			out = append(out, make([]byte, need-len(out))...)
			have = append(have, make([]bool, need-len(have))...)
		}
		for i, c := range s.data {
			if have[off+i] && out[off+i] != c {
				return nil, fmt.Errorf("retransmission disagrees at offset %d", off+i)
			}
			out[off+i], have[off+i] = c, true
		}
	}
	if i := slices.Index(have, false); i >= 0 {
		return nil, fmt.Errorf("hole at offset %d", i)
	}
	return out, nil
}

// wsMessages unwraps an HTTP-upgraded WebSocket byte stream into its
// text messages (RFC 6455 5.2-5.4), dropping control frames.
func wsMessages(b []byte) ([][]byte, error) {
	end := bytes.Index(b, []byte("\r\n\r\n"))
	if end < 0 {
		return nil, fmt.Errorf("no HTTP header")
	}
	b = b[end+4:]
	var msgs [][]byte
	var cur []byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("short frame")
		}
		fin, op := b[0]&0x80 != 0, b[0]&0x0f
		masked := b[1]&0x80 != 0
		n, h := int(b[1]&0x7f), 2
		if n == 126 {
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		}
		var key []byte
		if masked {
			key = b[h : h+4]
			h += 4
		}
		p := slices.Clone(b[h : h+n])
		for i := range p {
			if masked {
				p[i] ^= key[i%4]
			}
		}
		b = b[h+n:]
		if op >= 8 {
			continue // control frame, may sit inside a fragmented message
		}
		cur = append(cur, p...)
		if fin {
			msgs = append(msgs, cur)
			cur = nil
		}
	}
	return msgs, nil
}

func decodeLink(lt layers.LinkType) gopacket.Decoder {
	switch lt {
	case 12:
		return layers.LayerTypeIPv4 // DLT_RAW as some BSDs number it
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	}
	return lt
}

// examine decodes every record of s with gopacket and tallies it.
func examine(t *testing.T, s Scenario, recs []rec) tally {
	t.Helper()
	var n tally
	n.packets = len(recs)
	streams := map[flowKey][]segment{}
	isn := map[flowKey]uint32{}
	var order []flowKey
	frags := map[uint32][]gopacket.Packet{}
	for i, r := range recs {
		pkt := gopacket.NewPacket(r.data, decodeLink(r.link), gopacket.Default)
		// ERSPAN III has no gopacket decoder: strip the 12-byte header
		// ourselves and decode the mirrored Ethernet frame.
		if gre, ok := pkt.Layer(layers.LayerTypeGRE).(*layers.GRE); ok && gre.Protocol == EtherTypeERSPAN3 {
			pkt = gopacket.NewPacket(gre.LayerPayload()[12:], layers.LayerTypeEthernet, gopacket.Default)
		}
		if el := pkt.ErrorLayer(); el != nil {
			t.Errorf("%s record %d: gopacket: %v", s.File, i, el.Error())
			continue
		}
		var last gopacket.Layer
		for _, l := range pkt.Layers() {
			switch l.LayerType() {
			case layers.LayerTypeUDP, layers.LayerTypeTCP, layers.LayerTypeSCTP, gopacket.LayerTypeFragment, layers.LayerTypeIPv6Fragment:
				last = l
			}
		}
		switch l := last.(type) {
		case *layers.IPv6Fragment:
			n.frags++
			n.udp++
			frags[l.Identification] = append(frags[l.Identification], pkt)
		case *gopacket.Fragment:
			if f, ok := pkt.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
				n.frags++
				n.udp++
				frags[f.Identification] = append(frags[f.Identification], pkt)
				break
			}
			n.frags++
			n.udp++
			ip := pkt.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			frags[uint32(ip.Id)] = append(frags[uint32(ip.Id)], pkt)
		case *layers.UDP:
			n.udp++
			n.classifyUDP(t, s, i, l.Payload)
		case *layers.TCP:
			n.tcp++
			k := flowKey{pkt.NetworkLayer().NetworkFlow().Src().String() + ":" + l.SrcPort.String(),
				pkt.NetworkLayer().NetworkFlow().Dst().String() + ":" + l.DstPort.String()}
			if l.SYN {
				isn[k] = l.Seq
				if !l.ACK {
					order = append(order, k) // the client's SYN names the connection
				}
			} else if len(l.Payload) > 0 {
				streams[k] = append(streams[k], segment{l.Seq, slices.Clone(l.Payload)})
			}
		case *layers.SCTP:
			n.sctp++
			for _, c := range pkt.Layers() {
				if d, ok := c.(*layers.SCTPData); ok && isSIP(d.Payload) {
					n.sip++
				}
			}
		default:
			t.Errorf("%s record %d: no transport layer: %v", s.File, i, pkt)
		}
	}
	for id, fr := range frags {
		n.sip += reassembleFrags(t, s, id, fr)
	}
	for _, k := range order {
		kr := flowKey{k.dst, k.src}
		for _, dir := range []flowKey{k, kr} {
			b, err := reassemble(isn[dir], streams[dir])
			if err != nil {
				t.Errorf("%s %v: %v", s.File, dir, err)
				continue
			}
			switch {
			case len(b) > 0 && b[0] == TLSHandshake:
				if dir == k {
					n.tlsStreams++
				}
			case bytes.HasPrefix(b, []byte("GET ")) || bytes.HasPrefix(b, []byte("HTTP/1.1")):
				msgs, err := wsMessages(b)
				if err != nil {
					t.Errorf("%s %v: websocket: %v", s.File, dir, err)
				}
				for _, m := range msgs {
					c, err := sipMessages(m)
					if err != nil || c != 1 {
						t.Errorf("%s: websocket message holds %d SIP messages (%v)", s.File, c, err)
					}
					n.sip += c
				}
			default:
				c, err := sipMessages(b)
				if err != nil {
					t.Errorf("%s %v: %v", s.File, dir, err)
				}
				n.sip += c
			}
		}
	}
	return n
}

func (n *tally) classifyUDP(t *testing.T, s Scenario, i int, p []byte) {
	switch {
	case isSIP(p):
		c, err := sipMessages(p)
		if err != nil || c != 1 {
			t.Errorf("%s record %d: UDP datagram holds %d SIP messages (%v)", s.File, i, c, err)
		}
		n.sip++
	case bytes.HasPrefix(p, []byte("HEP3")):
		n.hep++
		payload, err := hepPayload(p)
		if err != nil {
			t.Errorf("%s record %d: %v", s.File, i, err)
		}
		if isSIP(payload) {
			n.sip++
		}
	case len(p) >= 8 && p[0]>>6 == 2 && p[1] >= 200 && p[1] <= 204:
		n.rtcp++
	case len(p) >= 12 && p[0]>>6 == 2:
		n.rtp++
	default:
		t.Errorf("%s record %d: unclassified UDP payload %q", s.File, i, p[:min(len(p), 16)])
	}
}

// hepPayload walks HEP3 chunks (vendor, type, length incl. header) and
// returns the payload chunk, checking the total length.
func hepPayload(b []byte) ([]byte, error) {
	if len(b) < 6 || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
		return nil, fmt.Errorf("HEP3 total length mismatch")
	}
	var payload []byte
	for off := 6; off < len(b); {
		if off+6 > len(b) {
			return nil, fmt.Errorf("HEP3 chunk header truncated at %d", off)
		}
		typ, l := binary.BigEndian.Uint16(b[off+2:]), int(binary.BigEndian.Uint16(b[off+4:]))
		if l < 6 || off+l > len(b) {
			return nil, fmt.Errorf("HEP3 chunk length %d at %d", l, off)
		}
		if typ == HEPChunkPayload {
			payload = b[off+6 : off+l]
		}
		off += l
	}
	return payload, nil
}

// reassembleFrags joins the fragments of one datagram by offset and
// checks the result is one UDP datagram holding one SIP message.
func reassembleFrags(t *testing.T, s Scenario, id uint32, fr []gopacket.Packet) int {
	type piece struct {
		off  int
		data []byte
	}
	var ps []piece
	for _, p := range fr {
		if f, ok := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
			ps = append(ps, piece{int(f.FragmentOffset) * 8, f.Payload})
		} else {
			ip := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			ps = append(ps, piece{int(ip.FragOffset) * 8, ip.Payload})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].off < ps[j].off })
	var b []byte
	for _, p := range ps {
		if p.off != len(b) {
			t.Errorf("%s: fragment id %#x: gap/overlap at %d", s.File, id, p.off)
			return 0
		}
		b = append(b, p.data...)
	}
	if len(b) < 8 || int(binary.BigEndian.Uint16(b[4:])) != len(b) {
		t.Errorf("%s: fragment id %#x: UDP length mismatch", s.File, id)
		return 0
	}
	c, err := sipMessages(b[8:])
	if err != nil {
		t.Errorf("%s: reassembled datagram: %v", s.File, err)
	}
	return c
}

// TestCrossCheckGopacket reads every committed scenario with pcapgo and
// decodes it with gopacket plus the small parsers above, and requires the
// counts to equal the definition-derived Expect.
func TestCrossCheckGopacket(t *testing.T) {
	for _, s := range Scenarios() {
		t.Run(s.Name, func(t *testing.T) {
			recs, err := readBack(t, s)
			if s.Want.ReadErr {
				if err == nil {
					t.Fatalf("read succeeded, want an error")
				}
				if len(recs) != s.Want.Packets {
					t.Fatalf("read %d records before the error, want %d", len(recs), s.Want.Packets)
				}
				return
			}
			if err != nil {
				t.Fatalf("pcapgo: %v after %d records", err, len(recs))
			}
			if s.Want.LinkType != 0 && uint32(recs[0].link) != s.Want.LinkType {
				t.Errorf("link type %d, want %d", recs[0].link, s.Want.LinkType)
			}
			got := examine(t, s, recs)
			w := s.Want
			want := tally{w.Packets, w.UDP, w.TCP, w.SCTP, w.Fragments, w.SIP, w.RTP, w.RTCP, w.HEP, w.TLSStreams}
			if got != want {
				t.Errorf("gopacket found %+v\n                     want %+v", got, want)
			}
			for i := 1; i < len(recs); i++ {
				if recs[i].ci.Timestamp.Before(recs[i-1].ci.Timestamp) && !strings.HasPrefix(s.Name, "pcapng-two-interfaces") {
					t.Errorf("record %d goes back in time", i)
				}
			}
			if d := recs[0].ci.Timestamp.Sub(Epoch); d < 0 || d > time.Millisecond {
				t.Errorf("first record at %v, want %v", recs[0].ci.Timestamp, Epoch)
			}
		})
	}
}
