package pcap

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"testing/iotest"
	"time"
)

// blockRec is one record of blocksFile: where its header starts and what
// its data holds.
type blockRec struct {
	off  int64
	data []byte
}

// blocksFile is a classic pcap (or pcapng with a 2 MiB block to skip in
// the middle) of several MiB whose records range from empty to
// MaxRecordLength, so records straddle the Reader's blocks at every
// block size it grows through, and some are bigger than its first block.
func blocksFile(tb testing.TB, ng bool) ([]byte, []blockRec) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var out []byte
	if ng {
		out = cat(shb(false), idb(false, LinkTypeEthernet, 0))
	} else {
		out = (&bb{}).u32(magicMicro).u16(2).u16(4).u32(0).u32(0).u32(MaxRecordLength).u32(1).b
	}
	var recs []blockRec
	for i := 0; len(out) < 6<<20; i++ {
		size := 60 + rng.IntN(1400)
		switch {
		case i%97 == 0:
			size = rng.IntN(MaxRecordLength + 1)
		case i%501 == 0:
			size = MaxRecordLength
		case i%333 == 0:
			size = 0
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		if ng && i == 3000 {
			out = append(out, block(false, 0x40000bad, make([]byte, 2<<20))...) // custom: skipped
		}
		recs = append(recs, blockRec{off: int64(len(out)), data: data})
		if ng {
			out = append(out, epb(false, 0, uint64(1_600_000_000+i)*1_000_000, uint32(size), string(data))...)
			continue
		}
		w := &bb{b: out}
		w.u32(uint32(1_600_000_000 + i)).u32(0).u32(uint32(size)).u32(uint32(size)).raw(data...)
		out = w.b
	}
	return out, recs
}

// chunkReader returns what it has in chunks of random size, as a pipe
// hands over what has arrived.
type chunkReader struct {
	b   []byte
	rng *rand.Rand
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1+c.rng.IntN(70000))], c.b)
	c.b = c.b[n:]
	return n, nil
}

// The Reader returns records as slices of its blocks: every record is
// intact when Next returns it, whatever the sizes of the input's reads
// and wherever the block boundaries fall, with the right offset, number
// and timestamp; Stats.Bytes counts the whole file.
func TestBlockBoundaries(t *testing.T) {
	for _, ng := range []bool{false, true} {
		in, recs := blocksFile(t, ng)
		inputs := map[string]func() io.Reader{
			"whole":   func() io.Reader { return bytes.NewReader(in) },
			"half":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(in)) },
			"dataerr": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(in)) },
			"chunks":  func() io.Reader { return &chunkReader{b: in, rng: rand.New(rand.NewPCG(3, 4))} },
			"gzip":    func() io.Reader { return bytes.NewReader(gz(t, in)) },
		}
		if !ng && !testing.Short() { // a channel hand-over a byte: slow under -race
			inputs["onebyte"] = func() io.Reader { return iotest.OneByteReader(bytes.NewReader(in)) }
		}
		for name, open := range inputs {
			for _, ahead := range []bool{false, true} {
				kind := "pcap"
				if ng {
					kind = "pcapng"
				}
				if ahead {
					kind += "/ahead"
				}
				t.Run(kind+"/"+name, func(t *testing.T) {
					readBlocks(t, open(), ahead, in, recs)
				})
			}
		}
	}
}

// readBlocks reads in through r and checks every record; with ahead it
// reads ahead, stops the read-ahead a third of the way through (the rest
// is read on the caller's goroutine) or, for a pcapng, at the end.
func readBlocks(t *testing.T, rd io.Reader, ahead bool, in []byte, recs []blockRec) {
	r, err := NewReader(rd, "blocks")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := func() {}
	if ahead {
		stop = r.ReadAhead()
		defer stop()
	}
	for i, want := range recs {
		if i == len(recs)/3 && r.Format().Kind == FormatPcap {
			stop()
		}
		data, p, err := r.Next()
		if err != nil {
			t.Fatalf("record %d: %v", i+1, err)
		}
		if !bytes.Equal(data, want.data) || p.Number != i+1 || p.Offset != want.off ||
			!p.Timestamp.Equal(time.Unix(int64(1_600_000_000+i), 0)) {
			t.Fatalf("record %d: %d bytes (want %d, equal %v), number %d, offset %d (want %d), %v",
				i+1, len(data), len(want.data), bytes.Equal(data, want.data), p.Number, p.Offset, want.off, p.Timestamp)
		}
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last record: %v", err)
	}
	if st := r.Stats(); st.Bytes != int64(len(in)) || st.Packets != len(recs) || st.Damaged {
		t.Fatalf("stats %+v, want %d bytes", st, len(in))
	}
}

// Damage deep in a file, several blocks in, names the record and its
// header's offset; Stats.Bytes counts what was read of the cut record.
func TestBlockDamageOffset(t *testing.T) {
	in, recs := blocksFile(t, false)
	k := len(recs) - 10
	for i, cut := range []int64{recs[k].off + 5, recs[k].off + 16, recs[k].off + 16 + int64(len(recs[k].data))/2} {
		if cut == recs[k].off+16+int64(len(recs[k].data)) {
			continue // the record is whole
		}
		r, err := NewReader(iotest.HalfReader(bytes.NewReader(in[:cut])), "cut")
		if err != nil {
			t.Fatal(err)
		}
		if i != 1 { // the middle cut is read on the caller's goroutine
			defer r.ReadAhead()()
		}
		n := 0
		for {
			_, _, err = r.Next()
			if err != nil {
				break
			}
			n++
		}
		var fe *FormatError
		if !errors.As(err, &fe) || !errors.Is(err, ErrTruncated) || n != k || fe.Packet != k+1 || fe.Offset != recs[k].off {
			t.Fatalf("cut at %d: %d records, then %v; want %d records and record %d at %d", cut, n, err, k, k+1, recs[k].off)
		}
		if st := r.Stats(); st.Bytes != cut {
			t.Fatalf("cut at %d: Bytes %d", cut, st.Bytes)
		}
	}
}

// Close ends the read-ahead's goroutine that nobody stopped; a pipe,
// whose reads may wait (OnWait), is never read ahead.
func TestReadAheadCloseAndPipe(t *testing.T) {
	in, _ := blocksFile(t, false)
	r, err := NewReader(bytes.NewReader(in), "close")
	if err != nil {
		t.Fatal(err)
	}
	r.ReadAhead()
	if _, _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	done := r.ra.done
	r.Close()
	select {
	case <-done:
	default:
		t.Fatal("the read-ahead goroutine outlived Close")
	}
	if _, _, err := r.Next(); err != ErrClosed {
		t.Fatalf("Next after Close: %v", err)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	go func() {
		pw.Write(in[:1<<20])
		pw.Close()
	}()
	p, err := NewReader(pr, "pipe")
	if err != nil {
		t.Fatal(err)
	}
	waits := 0
	p.OnWait(func() { waits++ })
	p.ReadAhead()()
	if p.ra != nil {
		t.Fatal("a pipe is read ahead")
	}
	for {
		if _, _, err := p.Next(); err != nil {
			break
		}
	}
	if waits == 0 {
		t.Fatal("OnWait not called for the pipe")
	}
}
