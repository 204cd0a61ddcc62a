package heptransport

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/pion/rtcp"
	"github.com/voiptool/voiptool/hep"
)

// FuzzNextFrame feeds arbitrary bytes as a TCP stream, in two reads split
// at an arbitrary point, and checks the framer's contract: it always makes
// progress, whole frames are exactly hep.FrameLen long and start with the
// magic, and splitting the input does not change the frames found.
func FuzzNextFrame(f *testing.F) {
	p := sipPacket(1)
	one, _ := p.Marshal()
	f.Add(one, uint16(3))
	f.Add(append(append([]byte("HEP3\x03\x0a"), one...), one...), uint16(6))
	f.Add(append([]byte("\x02\x10\x02\x11junkHEP"), one...), uint16(9))
	f.Add([]byte("HEP3\x00\x02HEP3\x00\x06"), uint16(1))
	f.Add([]byte("xxHEP"), uint16(4))
	f.Fuzz(func(t *testing.T, stream []byte, split uint16) {
		whole1 := cutAll(t, stream)
		cut := int(split) % (len(stream) + 1)
		// Two reads: the framer sees stream[:cut] first, then everything.
		var got [][]byte
		buf := append([]byte(nil), stream[:cut]...)
		start := 0
		for _, more := range [][]byte{nil, stream[cut:]} {
			buf = append(buf, more...)
			for i := 0; i <= len(buf); i++ {
				n, kind := nextFrame(buf[start:])
				if kind == needMore {
					break
				}
				if n <= 0 || n > len(buf)-start {
					t.Fatalf("kind %v consumed %d of %d", kind, n, len(buf)-start)
				}
				if kind == whole {
					got = append(got, buf[start:start+n])
				}
				start += n
			}
		}
		if len(got) != len(whole1) {
			t.Fatalf("split at %d: %d frames, unsplit %d", cut, len(got), len(whole1))
		}
		for i := range got {
			if !bytes.Equal(got[i], whole1[i]) {
				t.Fatalf("frame %d differs when split", i)
			}
		}
	})
}

// cutAll frames a complete stream and checks every whole frame.
func cutAll(t *testing.T, stream []byte) [][]byte {
	var out [][]byte
	for bound := len(stream); bound >= 0 && len(stream) > 0; bound-- { // each step consumes at least 1 byte
		n, kind := nextFrame(stream)
		if kind == needMore {
			break
		}
		if n <= 0 || n > len(stream) {
			t.Fatalf("kind %v consumed %d of %d", kind, n, len(stream))
		}
		if kind == whole {
			fl, err := hep.FrameLen(stream)
			if err != nil || fl != n || !bytes.HasPrefix(stream, magic3) {
				t.Fatalf("whole frame of %d, FrameLen %d %v", n, fl, err)
			}
			out = append(out, stream[:n])
		}
		stream = stream[n:]
	}
	return out
}

// FuzzRTCPJSON: any bytes either fail with ErrBadRTCP or give valid JSON
// with the fields HOMER reads.
func FuzzRTCPJSON(f *testing.F) {
	sr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.SenderReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 2, Jitter: 3}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1}}}})
	xr, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ExtendedReport{SenderSSRC: 1, Reports: []rtcp.ReportBlock{&rtcp.VoIPMetricsReportBlock{SSRC: 2}}}})
	bye, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{1}}})
	f.Add(sr)
	f.Add(xr)
	f.Add(bye)
	f.Add([]byte{0x80, 0xc9, 0, 1, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		js, err := RTCPJSON(raw)
		if err != nil {
			if !errors.Is(err, ErrBadRTCP) {
				t.Fatalf("error %v does not wrap ErrBadRTCP", err)
			}
			return
		}
		var m struct {
			Type         *int              `json:"type"`
			ReportBlocks []json.RawMessage `json:"report_blocks"`
			XR           map[string]int    `json:"report_blocks_xr"`
		}
		if err := json.Unmarshal(js, &m); err != nil || m.Type == nil || m.ReportBlocks == nil || m.XR == nil {
			t.Fatalf("bad JSON %s: %v", js, err)
		}
	})
}
