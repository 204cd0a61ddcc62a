package capture

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/pcap"
)

// pinSpy is a read-ahead file source that notes which records the
// pipeline could leave in their blocks: a record the consumer is handed
// at the same address was not copied.
type pinSpy struct {
	*pcap.Reader
	mu    sync.Mutex
	inBlk map[int]*byte // record number → where its record lies
	last  int           // number of the record Next returned last
}

func (s *pinSpy) Next() ([]byte, pcap.Packet, error) {
	data, p, err := s.Reader.Next()
	s.last = p.Number
	return data, p, err
}

func (s *pinSpy) BlockOf(data []byte) *pcap.Block {
	blk := s.Reader.BlockOf(data)
	if blk != nil {
		s.mu.Lock()
		s.inBlk[s.last] = &data[0]
		s.mu.Unlock()
	}
	return blk
}

func (s *pinSpy) pinned(num int, rec []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(rec) > 0 && s.inBlk[num] == &rec[0]
}

// Records the pipeline leaves in the read-ahead's blocks are intact
// when the consumer gets them, also when it is slow and batches queue
// up while the reading goes on through many blocks: a pinned block is
// not read into before the consumer is done with its batch. Two files
// (one gzipped) are merged, each with blocks of its own; the records
// and payloads are checked against the frames written, and most
// records must have been left in place.
func TestPipelinePinnedRecords(t *testing.T) {
	frames, pkts := benchCapture(40, 1000) // ~40 000 records, ~35 blocks
	dir := t.TempDir()
	var paths []string
	for i, gz := range []bool{false, true} {
		path := filepath.Join(dir, []string{"a.pcap", "b.pcap.gz"}[i])
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if gz {
			zw := gzip.NewWriter(f)
			writeFrames(t, zw, frames, pkts)
			err = zw.Close()
		} else {
			writeFrames(t, f, frames, pkts)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	var spies []*pinSpy
	var srcs []Source
	for _, p := range paths {
		r, err := pcap.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		s := &pinSpy{Reader: r, inBlk: map[int]*byte{}}
		spies, srcs = append(spies, s), append(srcs, s)
	}
	events, pinned := 0, 0
	_, err := Run(context.Background(), srcs, Options{Pipeline: true}, nil, func(ev *Event) error {
		if events++; events%5000 == 0 {
			time.Sleep(20 * time.Millisecond) // the decoder fills every batch meanwhile
		}
		if ev.Record == nil {
			return nil
		}
		n := ev.Packet.Number
		if !bytes.Equal(ev.Record, frames[n-1]) {
			t.Fatalf("source %d record %d: bytes differ from the frame written", ev.Source, n)
		}
		if off := int(ev.Layers.Payload); len(ev.Payload) > 0 && !bytes.Equal(ev.Payload, frames[n-1][off:off+len(ev.Payload)]) {
			t.Fatalf("source %d record %d: payload differs", ev.Source, n)
		}
		if spies[ev.Source].pinned(n, ev.Record) {
			pinned++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %d left in their blocks", events, pinned)
	if events < 2*len(frames)*9/10 || pinned < events*8/10 {
		t.Errorf("%d events, %d of them left in their blocks", events, pinned)
	}
}

// A batch leaves records read ahead in their blocks (a payload lying in
// its record with them) and copies nothing, allocating nothing once
// warm; reset releases the blocks, so the Reader reads on into them.
func TestPipeBatchPins(t *testing.T) {
	r, err := pcap.NewReader(bytes.NewReader(benchPcap(t)), "pins")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer r.ReadAhead()()
	d := NewDecoder(Options{})
	b := newPipeBatch()
	var data []byte
	var blk *pcap.Block
	emit := func(ev *Event) {
		ev.Record = data
		b.add(ev, false, blk)
	}
	fill := func() {
		b.reset()
		for !b.full() {
			var p pcap.Packet
			if data, p, err = r.Next(); err != nil {
				t.Fatal(err)
			}
			blk = r.BlockOf(data)
			if err := d.Decode(data, p, emit); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 20 {
		fill()
	}
	if n := testing.AllocsPerRun(20, fill); n != 0 {
		t.Errorf("filling a batch of pinned records allocates %.1f times", n)
	}
	if len(b.buf) != 0 || b.npin == 0 || b.npin > 2 {
		t.Errorf("%d bytes copied, %d blocks pinned", len(b.buf), b.npin)
	}
	for i := range b.evs {
		it := &b.evs[i]
		if off := int(it.Layers.Payload); len(it.Payload) > 0 && &it.Payload[0] != &it.Record[off] {
			t.Fatalf("event %d: the payload is not its record's", i)
		}
	}
	if it := &b.evs[len(b.evs)-1]; &it.Record[0] != &data[0] {
		t.Error("the last record was not left in its block")
	}
}
