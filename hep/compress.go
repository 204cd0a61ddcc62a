package hep

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
)

// MaxInflatedSize bounds Decompress output so a small compressed chunk (at
// most 64 KiB on the wire) cannot expand into a memory bomb. Real SIP
// messages are far below it.
const MaxInflatedSize = 1 << 20

// Compression selects the container Compress writes into chunk 0x0010.
type Compression uint8

const (
	// Zlib (RFC 1950) is what the hep-wireshark compressed sample carries
	// ("78 9c"), so it is the default.
	Zlib Compression = iota
	// Gzip (RFC 1952).
	Gzip
)

// Decompress appends the inflated payload to dst and returns it. It accepts
// gzip (RFC 1952, magic 1f 8b), zlib (RFC 1950, valid CMF/FLG check) and raw
// deflate (RFC 1951) for anything else. If p is not Compressed it appends
// Payload unchanged. Output is capped at MaxInflatedSize (ErrInflateTooLarge,
// with dst holding the first MaxInflatedSize bytes). It allocates the
// decompressor; it is not meant for a zero-allocation path.
func (p *Packet) Decompress(dst []byte) ([]byte, error) {
	if !p.Compressed {
		return append(dst, p.Payload...), nil
	}
	b := p.Payload
	var r io.Reader
	var err error
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		r, err = gzip.NewReader(bytes.NewReader(b))
	case len(b) >= 2 && b[0]&0x0f == 8 && (uint16(b[0])<<8|uint16(b[1]))%31 == 0:
		r, err = zlib.NewReader(bytes.NewReader(b))
	default:
		r = flate.NewReader(bytes.NewReader(b))
	}
	if err != nil {
		return dst, fmt.Errorf("hep: decompress payload: %w", err)
	}
	start := len(dst)
	lr := io.LimitReader(r, MaxInflatedSize+1)
	buf := bytes.NewBuffer(dst)
	if _, err := buf.ReadFrom(lr); err != nil {
		return buf.Bytes(), fmt.Errorf("hep: decompress payload: %w", err)
	}
	out := buf.Bytes()
	if len(out)-start > MaxInflatedSize {
		return out[:start+MaxInflatedSize], fmt.Errorf("%w: more than %d bytes", ErrInflateTooLarge, MaxInflatedSize)
	}
	return out, nil
}

// Compress replaces Payload with its compressed form, built in dst[:0]
// (pass nil to allocate; dst must not overlap Payload), and sets
// Compressed, so Marshal writes chunk 0x0010. It does nothing if p is
// already Compressed. Payload aliases dst's backing array afterwards when it
// was large enough.
func (p *Packet) Compress(dst []byte, c Compression) error {
	if p.Compressed {
		return nil
	}
	buf := bytes.NewBuffer(dst[:0])
	var w io.WriteCloser
	switch c {
	case Gzip:
		w = gzip.NewWriter(buf)
	default:
		w = zlib.NewWriter(buf)
	}
	if _, err := w.Write(p.Payload); err != nil {
		return fmt.Errorf("hep: compress payload: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("hep: compress payload: %w", err)
	}
	p.Payload = buf.Bytes()
	p.Compressed = true
	if p.bit(ChunkPayload) {
		p.present &^= 1 << ChunkPayload
		p.present |= 1 << ChunkCompressedPayload
	}
	return nil
}
