package anon

import (
	"encoding/binary"
	"errors"
	"io"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/pcap"
)

// keptFieldHits moves out of rep.Hits the raw-byte hits (an address's 4
// or 16 bytes in network order) that lie wholly inside numeric fields the
// anonymiser keeps on purpose — RTP sequence numbers, timestamps and
// SSRCs, RTCP reports, IP identification and checksums, UDP and TCP ports,
// sequence numbers and checksums — and returns them. Such fields carry
// every 32-bit value sooner or later: in a capture of millions of RTP
// packets a timestamp and an SSRC side by side spell some address of
// the capture by coincidence (10.0.0.1 is 0a 00 00 01: timestamp 2560
// followed by SSRC 0x0001xxxx). Hits in addresses, payloads, or anywhere
// the decoder placed no kept field stay leaks. The output is decoded once
// more, only when there are raw-byte hits at all.
func keptFieldHits(path string, rep *leak.FileReport, o capture.Options) ([]leak.Hit, error) {
	byFrame := map[int][]int{}
	for i, h := range rep.Hits {
		if h.Encoding == leak.RawBytes && h.Frame > 0 {
			byFrame[h.Frame] = append(byFrame[h.Frame], i)
		}
	}
	if len(byFrame) == 0 {
		return nil, nil
	}
	r, err := pcap.Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	hdr := int64(16) // the record header before the data (see leak.ScanFile)
	if r.Format().Kind == pcap.FormatPcapng {
		hdr = 28
	}
	kept := map[int]bool{} // hit index → in a kept field
	dec := capture.NewDecoder(o)
	var (
		spans [][2]int // kept byte ranges of the record being decoded
		cur   []byte
	)
	emit := func(ev *capture.Event) {
		if ev.Packet.Number == 0 || len(byFrame[ev.Packet.Number]) == 0 {
			return
		}
		spans = appendKept(spans, cur, ev)
	}
	for {
		data, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			break // damage: what was read is judged, the rest stays a leak
		}
		idx := byFrame[p.Number]
		spans, cur = spans[:0], data
		dec.Decode(data, p, emit)
		for _, i := range idx {
			h := rep.Hits[i]
			start := int(h.Offset - p.Offset - hdr)
			if start >= 0 && covered(spans, start, start+h.Len) {
				kept[i] = true
			}
		}
	}
	var out []leak.Hit
	rest := rep.Hits[:0]
	for i, h := range rep.Hits {
		if kept[i] {
			out = append(out, h)
		} else {
			rest = append(rest, h)
		}
	}
	rep.Hits = rest
	return out, nil
}

// appendKept adds the kept numeric fields of ev's record: the non-address
// parts of its IP, UDP and TCP headers, and the RTP fixed header (with its
// CSRCs) or the whole RTCP compound packet (SDES text is searched as text,
// never as raw bytes).
func appendKept(spans [][2]int, rec []byte, ev *capture.Event) [][2]int {
	l := &ev.Layers
	for i := 0; i < l.Len(); i++ {
		h := l.Header(i)
		o := int(h.Off)
		if o < 0 {
			continue
		}
		switch h.Proto {
		case capture.ProtoIPv4:
			spans = append(spans, [2]int{o, o + 12}) // up to the checksum; addresses after
		case capture.ProtoIPv6:
			spans = append(spans, [2]int{o, o + 8})
		case capture.ProtoUDP:
			spans = append(spans, [2]int{o, o + 8})
		case capture.ProtoTCP:
			if o+13 <= len(rec) {
				spans = append(spans, [2]int{o, o + 4*int(rec[o+12]>>4)})
			}
		}
	}
	p := int(l.Payload)
	if p < 0 || p > len(rec) {
		return spans
	}
	switch ev.Kind {
	case capture.KindRTP:
		if p+12 <= len(rec) {
			spans = append(spans, [2]int{p, p + 12 + 4*int(rec[p]&0x0f)})
		}
	case capture.KindRTCP:
		n := len(ev.Payload)
		if p+4 <= len(rec) && binary.BigEndian.Uint16(rec[p+2:]) > 0 {
			spans = append(spans, [2]int{p, p + n})
		}
	}
	return spans
}

// covered reports whether [a, b) lies inside the union of spans
// (adjacent spans join: a hit may run from a UDP checksum into the RTP
// header).
func covered(spans [][2]int, a, b int) bool {
	for a < b {
		next := a
		for _, s := range spans {
			if s[0] <= a && a < s[1] && s[1] > next {
				next = s[1]
			}
		}
		if next == a {
			return false
		}
		a = next
	}
	return true
}
