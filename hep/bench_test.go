package hep

import "testing"

// benchPacket is a typical HEP3 SIP packet from the shared corpus, or a
// synthetic one of similar shape when the corpus is absent.
func benchPacket(b *testing.B) []byte {
	b.Helper()
	p := fullPacket()
	p.Extra = nil
	p.Payload = make([]byte, 700)
	copy(p.Payload, "INVITE sip:bob@example.com SIP/2.0\r\n")
	out, err := p.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkUnmarshal(b *testing.B) {
	in := benchPacket(b)
	b.Run("reused", func(b *testing.B) {
		var p Packet
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if err := p.Unmarshal(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("corpus-sip", func(b *testing.B) {
		in := corpusPayloads(b, corpusPlain)[0]
		var p Packet
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if err := p.Unmarshal(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			p := new(Packet)
			if err := p.Unmarshal(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMarshal(b *testing.B) {
	var p Packet
	if err := p.Unmarshal(benchPacket(b)); err != nil {
		b.Fatal(err)
	}
	b.Run("MarshalTo", func(b *testing.B) {
		buf := make([]byte, p.MarshalSize())
		b.ReportAllocs()
		b.SetBytes(int64(len(buf)))
		for b.Loop() {
			if _, err := p.MarshalTo(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecompress(b *testing.B) {
	var p Packet
	if err := p.Unmarshal(corpusPayloads(b, corpusCompressed)[0]); err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = p.Decompress(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
