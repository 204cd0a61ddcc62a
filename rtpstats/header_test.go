package rtpstats

import (
	"errors"
	"io"
	"testing"
)

func TestHeaderUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Header
		wantErr error
	}{
		{
			name: "minimal PCMU",
			in: []byte{0x80 /*V=2*/, 0x00 /*PT 0*/, 0x12, 0x34 /*seq*/, 0, 0, 0x01, 0x40 /*ts*/, 0xde, 0xad, 0xbe, 0xef, /*ssrc*/
				0xff, 0xfe},
			want: Header{Fixed: Fixed{PayloadType: 0, SequenceNumber: 0x1234, Timestamp: 320, SSRC: 0xdeadbeef}, Payload: []byte{0xff, 0xfe}},
		},
		{
			name: "marker, 2 CSRC, extension, padding 3",
			in: []byte{0xb2 /*V=2 P X CC=2*/, 0xe5 /*M PT 101*/, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
				0, 0, 0, 9 /*csrc*/, 0, 0, 0, 10, /*csrc*/
				0xbe, 0xde, 0, 1 /*ext: profile, 1 word*/, 1, 2, 3, 4,
				0xaa /*payload*/, 0, 0, 3 /*padding*/},
			want: Header{Fixed: Fixed{Marker: true, PayloadType: 101, SequenceNumber: 1, Timestamp: 2, SSRC: 3, CSRCCount: 2, Extension: true, PaddingSize: 3},
				CSRC: [15]uint32{9, 10}, ExtensionProfile: 0xbede, ExtensionPayload: []byte{1, 2, 3, 4}, Payload: []byte{0xaa}},
		},
		{name: "11 bytes", in: make([]byte, 11), wantErr: ErrTruncated},
		{name: "version 1", in: []byte{0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, wantErr: ErrBadVersion},
		{name: "CC=3 but one CSRC", in: []byte{0x83, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, wantErr: ErrTruncated},
		{name: "extension header cut", in: []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde}, wantErr: ErrTruncated},
		{name: "extension longer than packet", in: []byte{0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 2, 1, 2, 3, 4}, wantErr: ErrTruncated},
		{name: "padding count 0", in: []byte{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0}, wantErr: ErrBadPadding},
		{name: "padding beyond payload", in: []byte{0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 3}, wantErr: ErrBadPadding},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Header
			err := h.Unmarshal(tc.in)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if !h.Equal(&tc.want) {
				t.Fatalf("got %+v\nwant %+v", h, tc.want)
			}
			out, err := h.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != string(tc.in) {
				t.Fatalf("re-encode\n got % x\nwant % x", out, tc.in)
			}
		})
	}
}

func TestHeaderMarshalErrors(t *testing.T) {
	h := Header{Payload: []byte{1, 2, 3}}
	if _, err := h.MarshalTo(make([]byte, 14)); !errors.Is(err, io.ErrShortBuffer) {
		t.Errorf("short buffer: %v", err)
	}
	h = Header{Fixed: Fixed{Extension: true}, ExtensionPayload: []byte{1, 2, 3}}
	if _, err := h.Marshal(); !errors.Is(err, ErrBadExtension) {
		t.Errorf("ext not multiple of 4: %v", err)
	}
	h = Header{Fixed: Fixed{CSRCCount: 16}}
	if _, err := h.Marshal(); !errors.Is(err, ErrTooManyCSRC) {
		t.Errorf("16 CSRC: %v", err)
	}
}

func TestHeaderUnmarshalAllocs(t *testing.T) {
	b := []byte{0x90, 0x08, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xbe, 0xde, 0, 1, 1, 2, 3, 4, 9, 9, 9}
	var h Header
	if n := testing.AllocsPerRun(200, func() { _ = h.Unmarshal(b) }); n != 0 {
		t.Fatalf("Unmarshal allocs = %v", n)
	}
}

func BenchmarkHeaderUnmarshal(b *testing.B) {
	pkt := rtpBytes(b, synth{seq: 1, ts: 2, pt: 8})
	b.Run("reused", func(b *testing.B) {
		b.ReportAllocs()
		var h Header
		for i := 0; i < b.N; i++ {
			_ = h.Unmarshal(pkt)
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var h Header
			_ = h.Unmarshal(pkt)
		}
	})
}
