package extract

import (
	"context"
	"errors"
	"github.com/voiptool/voiptool/internal/testpeer"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// corpus names a shared-corpus file (the test skips without it).
func corpus(t *testing.T, name string) string { return testpeer.CorpusFile(t, name) }

func runFiles(t *testing.T, e *engine.Engine, files ...string) {
	t.Helper()
	if _, err := e.Run(context.Background(), testpeer.Sources(t, files...), func(err error) { t.Logf("warning: %v", err) }); err != nil {
		t.Fatal(err)
	}
}

// TestSavePcap saves one call with and without media and re-reads the
// result: every SIP message of the call, and with media every RTP
// packet of its streams, and nothing else.
func TestSavePcap(t *testing.T) {
	f := corpus(t, "sip-udp-g711a-bidir-183-earlymedia.pcap")
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	c := e.Calls(sipflow.Filter{}, 0, -1)[0]
	rtp := 0
	for _, s := range e.Streams(c.CallID) {
		rtp += s.Packets
	}
	for _, tc := range []struct {
		media bool
		want  int
	}{{false, c.Messages}, {true, c.Messages + rtp}} {
		out := filepath.Join(t.TempDir(), "call.pcapng")
		n, err := Pcap(context.Background(), e, []string{c.CallID}, out, Options{Files: []string{f}, Media: tc.media})
		if err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("media=%v: wrote %d packets, want %d", tc.media, n, tc.want)
		}
		// Read it back through the whole chain: the same call again.
		e2 := engine.New(engine.Options{})
		runFiles(t, e2, out)
		got := e2.Calls(sipflow.Filter{}, 0, -1)
		if len(got) != 1 || got[0].CallID != c.CallID || got[0].Messages != c.Messages {
			t.Errorf("media=%v: re-read calls %+v", tc.media, got)
		}
		r, err := pcap.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for {
			_, _, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			k++
		}
		r.Close()
		if k != n {
			t.Errorf("file holds %d records, SavePcap said %d", k, n)
		}
	}
	// From stdin the messages are framed from the store: one frame each.
	if n, err := Pcap(context.Background(), e, []string{c.CallID}, filepath.Join(t.TempDir(), "x"), Options{Files: []string{"-"}, Media: false}); err != nil || n != c.Messages {
		t.Errorf("saving from stdin: %d packets, err = %v; want %d, nil", n, err, c.Messages)
	}
}

// TestSaveByOffset checks both ways of saving signalling: by offset from
// a plain file, and by decoding again from a gzip file (offsets there
// count decompressed bytes), with the same packets either way.
func TestSaveByOffset(t *testing.T) {
	var got []int
	for _, name := range []string{"basic-call.pcap", "gzip-basic.pcap.gz"} {
		f := filepath.Join("..", "..", "testdata", "pcaps", name)
		e := engine.New(engine.Options{})
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
		out := filepath.Join(t.TempDir(), "sip.pcapng")
		_, err := pcapByOffsetFile([]string{f}, metas, out)
		if gz := strings.HasSuffix(name, ".gz"); gz != errors.Is(err, errRescan) {
			t.Errorf("%s: by offset: err = %v", name, err)
		}
		n, err := Pcap(context.Background(), e, ids, out, Options{Files: []string{f}, Media: false})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got = append(got, n)
	}
	if got[0] != got[1] || got[0] == 0 {
		t.Errorf("packets saved by offset %d, by decoding %d", got[0], got[1])
	}
}

// TestSaveOneOfSequentialCalls: eight calls reuse the same media ports;
// saving one with media writes its own RTP only.
func TestSaveOneOfSequentialCalls(t *testing.T) {
	f := corpus(t, "sip-udp-g726-8-sequential-calls-dynamic-pt.pcap")
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	c := e.Calls(sipflow.Filter{}, 0, 1)[0]
	n, err := Pcap(context.Background(), e, []string{c.CallID}, filepath.Join(t.TempDir(), "one.pcapng"), Options{Files: []string{f}, Media: true})
	if err != nil {
		t.Fatal(err)
	}
	// MANIFEST: 6 SIP messages and 425 RTP packets per call.
	if n != c.Messages+425 {
		t.Errorf("saved %d packets, want %d SIP + 425 RTP of this call only", n, c.Messages)
	}
	// Without files the messages are framed from the store; the media
	// is not kept, and said so.
	n, err = Pcap(context.Background(), e, []string{c.CallID}, filepath.Join(t.TempDir(), "x"), Options{Files: nil, Media: true})
	if n != c.Messages || !errors.Is(err, ErrMediaNotKept) {
		t.Errorf("saving without files: %d packets, %v; want %d, ErrMediaNotKept", n, err, c.Messages)
	}
}

// pcapByOffsetFile runs pcapByOffset into a new file at out.
func pcapByOffsetFile(files []string, metas []sipflow.Meta, out string) (int, error) {
	fh, err := os.Create(out)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	return pcapByOffset(context.Background(), files, openOS, nil, metas, nil, fh)
}

// Secrets given in Options are written before the saved packets, by
// both paths (by offset for SIP only, by rescan with media).
func TestSaveCarriesSecrets(t *testing.T) {
	f := corpus(t, "sip-udp-g726-8-sequential-calls-dynamic-pt.pcap")
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	c := e.Calls(sipflow.Filter{}, 0, 1)[0]
	sec := []pcap.Secrets{{Type: pcap.SecretsTLSKeyLog, Data: []byte("CLIENT_RANDOM 00 11\n")}}
	for _, media := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "one.pcapng")
		if _, err := Pcap(context.Background(), e, []string{c.CallID}, out, Options{Files: []string{f}, Media: media, Secrets: sec}); err != nil {
			t.Fatal(err)
		}
		r, err := pcap.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		got := r.Secrets()
		r.Close()
		if len(got) != 1 || string(got[0].Data) != string(sec[0].Data) {
			t.Errorf("media %v: secrets %+v", media, got)
		}
	}
}
