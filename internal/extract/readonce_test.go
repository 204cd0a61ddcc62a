package extract

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/testpeer"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// countingRaw is the store's RawReader over one capture file, counting
// the messages it re-reads.
type countingRaw struct {
	mu     sync.Mutex
	f      *os.File
	format pcap.Format
	reads  int
}

func newCountingRaw(t *testing.T, name string) *countingRaw {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r, err := pcap.NewReader(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return &countingRaw{f: f, format: r.Format()}
}

func (c *countingRaw) Rereadable(source int) bool { return source == 0 }

func (c *countingRaw) ReadRaw(meta *sipflow.Meta, off, n int, buf []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reads++
	data, err := pcap.ReadRecordAt(c.f, c.format, meta.Record, buf)
	if err != nil {
		return nil, err
	}
	return data[off : off+n], nil
}

// countingFile records the offsets pcapByOffset reads at.
type countingFile struct {
	*os.File
	at map[int64]int
}

func (c *countingFile) ReadAt(p []byte, off int64) (int, error) {
	c.at[off]++
	return c.File.ReadAt(p, off)
}

// Saving calls reads each record once, at its location: not once more
// through the store's re-read of every message (Store.Call), as it did.
func TestSaveReadsEachRecordOnce(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "calls-mixed.pcap")
	raw := newCountingRaw(t, f)
	e := engine.New(engine.Options{Files: []string{f}, Store: sipflow.StoreOptions{Raw: raw}})
	runFiles(t, e, f)
	var ids []string
	var metas []sipflow.Meta
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		ids = append(ids, c.CallID)
		d, _ := e.Call(c.CallID)
		for _, m := range d.Messages {
			metas = append(metas, m.Meta)
		}
	}
	if raw.reads == 0 || len(ids) < 2 {
		t.Fatalf("%d calls, %d messages re-read by the store: the fixture does not exercise re-reading", len(ids), raw.reads)
	}
	raw.reads = 0
	files := map[string]*countingFile{}
	open := func(name string) (recordFile, error) {
		fh, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		cf := &countingFile{File: fh, at: map[int64]int{}}
		files[name] = cf
		return cf, nil
	}
	n, err := savePcap(context.Background(), e, ids, filepath.Join(t.TempDir(), "all.pcapng"), Options{Files: []string{f}}, open)
	if err != nil {
		t.Fatal(err)
	}
	if raw.reads != 0 {
		t.Errorf("the store re-read %d messages while saving: every record is read twice", raw.reads)
	}
	// pcapByOffset: each record's header and data once, nothing else.
	records := map[int64]bool{}
	for _, m := range metas {
		records[m.Record.Offset] = true
	}
	if n != len(records) {
		t.Errorf("saved %d records, the calls' messages lie in %d", n, len(records))
	}
	cf := files[f]
	if cf == nil {
		t.Fatal("the capture was not opened to be read by offset")
	}
	for off := range records {
		if cf.at[off] != 1 || cf.at[off+16] != 1 { // pcap record header, then data
			t.Errorf("record at %d: header read %d times, data %d times", off, cf.at[off], cf.at[off+16])
		}
	}
	if len(cf.at) != 2*len(records) {
		t.Errorf("%d offsets read for %d records", len(cf.at), len(records))
	}
}

// BenchmarkSavePcap saves every call of a capture, SIP only, with the
// store re-reading messages from the file (as cmd runs it).
func BenchmarkSavePcap(b *testing.B) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "calls-mixed.pcap")
	e := engine.New(engine.Options{Files: []string{f}})
	if _, err := e.Run(context.Background(), testpeer.Sources(b, f), nil); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		ids = append(ids, c.CallID)
	}
	out := filepath.Join(b.TempDir(), "all.pcapng")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Pcap(context.Background(), e, ids, out, Options{Files: []string{f}}); err != nil {
			b.Fatal(err)
		}
	}
}
