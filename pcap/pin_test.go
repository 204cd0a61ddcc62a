package pcap

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// offsetIn returns where data starts in b's buffer, or -1 if it does
// not lie there whole.
func offsetIn(b *Block, data []byte) int {
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b.buf)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	if p < base || p+uintptr(len(data)) > base+uintptr(len(b.buf)) {
		return -1
	}
	return int(p - base)
}

// heldRec is a record kept past Next through its block's pin.
type heldRec struct {
	data, want []byte
	blk        *Block
	until      int // released after this record number
}

func pinnedBlocks(ra *readAhead) int {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	return ra.pinned
}

// Records kept through their blocks' pins stay intact however long they
// are held, while the Reader reads on through blocks of every kind
// (whole reads, short ones appended to the current block, gunzipped),
// records straddling blocks included (those lie in the room in front of
// the later block's data, and BlockOf names that block). Retain refuses
// beyond maxPinned blocks, and the blocks made stay within
// aheadBlocks+maxPinned.
func TestPinKeepsRecords(t *testing.T) {
	for _, ng := range []bool{false, true} {
		in, recs := blocksFile(t, ng)
		inputs := map[string]func() io.Reader{
			"whole":  func() io.Reader { return bytes.NewReader(in) },
			"chunks": func() io.Reader { return &chunkReader{b: in, rng: rand.New(rand.NewPCG(5, 6))} },
			"gzip":   func() io.Reader { return bytes.NewReader(gz(t, in)) },
		}
		for name, open := range inputs {
			t.Run(map[bool]string{false: "pcap", true: "pcapng"}[ng]+"/"+name, func(t *testing.T) {
				r, err := NewReader(open(), "pins")
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				defer r.ReadAhead()()
				rng := rand.New(rand.NewPCG(7, 8))
				var held []heldRec
				check := func(h heldRec) {
					if !bytes.Equal(h.data, h.want) {
						t.Fatalf("a held record changed before its block was released")
					}
				}
				blocks := map[*Block]bool{}
				pinned, refused, straddled := 0, 0, 0
				for i, want := range recs {
					data, _, err := r.Next()
					if err != nil {
						t.Fatalf("record %d: %v", i+1, err)
					}
					if !bytes.Equal(data, want.data) {
						t.Fatalf("record %d differs", i+1)
					}
					if blk := r.BlockOf(data); blk != nil {
						off := offsetIn(blk, data)
						if off < 0 {
							t.Fatalf("record %d does not lie in the block BlockOf names", i+1)
						}
						blocks[blk] = true
						if blk.Retain() {
							pinned++
							if off < aheadRoom {
								straddled++
							}
							// ~2.7 KB a record: most are held across a
							// few blocks, some across many (refusals).
							hold := rng.IntN(300)
							if i%40 == 0 {
								hold = rng.IntN(2000)
							}
							held = append(held, heldRec{data: data, want: want.data, blk: blk, until: i + hold})
						} else {
							refused++
						}
						if n := pinnedBlocks(r.ra); n > maxPinned {
							t.Fatalf("%d blocks pinned", n)
						}
					} else if len(data) > 0 && i > 500 {
						t.Fatalf("record %d (%d bytes), far into the file, lies in no block", i+1, len(data))
					}
					k := 0
					for _, h := range held {
						if h.until <= i {
							check(h)
							h.blk.Release()
							continue
						}
						held[k] = h
						k++
					}
					held = held[:k]
				}
				for _, h := range held {
					check(h)
					h.blk.Release()
				}
				if n := pinnedBlocks(r.ra); n != 0 {
					t.Errorf("%d blocks pinned after every release", n)
				}
				if len(blocks) > aheadBlocks+maxPinned {
					t.Errorf("%d blocks made, want at most %d", len(blocks), aheadBlocks+maxPinned)
				}
				t.Logf("%d records pinned, %d refused, %d straddling pinned, of %d; %d blocks", pinned, refused, straddled, len(recs), len(blocks))
				if pinned < len(recs)/3 || refused == 0 || straddled == 0 {
					t.Errorf("%d records pinned, %d refused, %d straddling pinned, of %d", pinned, refused, straddled, len(recs))
				}
			})
		}
	}
}

// When the read-ahead stops with blocks pinned, the block Next was in
// included, the Reader reads on on the caller's goroutine without
// touching them (the unread bytes move to a block of their own), and
// pins released after that, or after Close, are harmless.
func TestPinAcrossStop(t *testing.T) {
	in, recs := blocksFile(t, false)
	r, err := NewReader(bytes.NewReader(in), "stop")
	if err != nil {
		t.Fatal(err)
	}
	stop := r.ReadAhead()
	var held []heldRec
	releaseOldest := func() {
		old := held[0].blk
		k := 0
		for _, h := range held {
			if h.blk == old {
				if !bytes.Equal(h.data, h.want) {
					t.Fatal("a held record changed before its block was released")
				}
				old.Release()
				continue
			}
			held[k] = h
			k++
		}
		held = held[:k]
	}
	curPinned, after := false, 0
	for i, want := range recs {
		if i == len(recs)/3 {
			if !curPinned {
				t.Fatal("the block Next reads from is not pinned when the read-ahead stops")
			}
			stop()
		}
		data, _, err := r.Next()
		if err != nil || !bytes.Equal(data, want.data) {
			t.Fatalf("record %d: %v, equal %v", i+1, err, bytes.Equal(data, want.data))
		}
		blk := r.BlockOf(data)
		if blk == nil {
			if i >= len(recs)/3 {
				after++
			}
			curPinned = false
			continue
		}
		for !blk.Retain() {
			releaseOldest() // the current block is pinned last: never released here
		}
		curPinned = true
		held = append(held, heldRec{data: data, want: want.data, blk: blk})
	}
	if after == 0 {
		t.Fatal("the Reader never left its read-ahead")
	}
	ra := r.ra
	if ra != nil {
		t.Fatal("still reading ahead at the end")
	}
	r.Close()
	for _, h := range held {
		if !bytes.Equal(h.data, h.want) {
			t.Fatal("a held record changed after the read-ahead stopped")
		}
		h.blk.Release()
	}
	if len(held) == 0 || pinnedBlocks(held[0].blk.ra) != 0 {
		t.Errorf("%d records held; pins left after every release", len(held))
	}
}

// Retain refuses a block Next has moved off (it may be read into again)
// and beyond maxPinned blocks; releasing more than was retained panics.
func TestPinRefusals(t *testing.T) {
	r, err := NewReader(bytes.NewReader(pcapFile(t, 40000, 200)), "refuse")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer r.ReadAhead()()
	var first, prev *Block
	var pins []*Block
	for {
		data, _, err := r.Next()
		if err != nil {
			t.Fatalf("%d blocks pinned, then %v", len(pins), err)
		}
		blk := r.BlockOf(data)
		if blk == nil || blk == prev {
			continue
		}
		// By address: a copy is not in the block, a part of a record
		// is, up to the block's last byte and no further.
		end := len(blk.buf)
		if r.BlockOf(bytes.Clone(data)) != nil || r.BlockOf(data[100:150]) != blk ||
			r.BlockOf(blk.buf[end-1:]) != blk || r.BlockOf(blk.buf[1:]) != blk || r.BlockOf(append(blk.buf[1:end:end], 0)) != nil {
			t.Fatal("BlockOf names a block for a copy, or none for a part of one")
		}
		if first == nil {
			first = blk
		} else if first.Retain() {
			t.Fatal("Retain pinned a block Next has moved off")
		}
		prev = blk
		if !blk.Retain() {
			break
		}
		pins = append(pins, blk)
	}
	if len(pins) != maxPinned {
		t.Errorf("Retain refused after %d blocks, want %d", len(pins), maxPinned)
	}
	for _, b := range pins {
		b.Release()
	}
	defer func() {
		if recover() == nil {
			t.Error("a second Release did not panic")
		}
	}()
	pins[0].Release()
}

// Reading ahead with every record pinned for a while allocates nothing
// per record once the spare blocks are made: released blocks are read
// into again.
func TestPinAllocs(t *testing.T) {
	r, err := NewReader(bytes.NewReader(pcapFile(t, 60000, 200)), "allocs")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer r.ReadAhead()()
	var ring [1500]*Block // ~1.3 blocks of records
	i := 0
	step := func() {
		data, _, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if old := ring[i%len(ring)]; old != nil {
			old.Release()
			ring[i%len(ring)] = nil
		}
		if blk := r.BlockOf(data); blk != nil && blk.Retain() {
			ring[i%len(ring)] = blk
		}
		i++
	}
	for range 10000 {
		step()
	}
	if n := testing.AllocsPerRun(5000, step); n != 0 {
		t.Errorf("%v allocations per record", n)
	}
	held := 0
	for _, b := range ring {
		if b != nil {
			held++
		}
	}
	if held < len(ring)/2 {
		t.Errorf("only %d of the last %d records pinned", held, len(ring))
	}
}
