package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/voiptool/voiptool/internal/testpeer"
	"github.com/voiptool/voiptool/sipflow"
)

// engineResult is everything a report reads from an engine after a run:
// the calls with every message (raw bytes re-read from the files), the
// streams, the counters.
func engineResult(t *testing.T, files []string, pipeline bool) string {
	t.Helper()
	o := Options{Files: files}
	o.Capture.Pipeline = pipeline
	e := New(o)
	if _, err := e.Run(context.Background(), testpeer.Sources(t, files...), nil); err != nil {
		t.Fatal(err)
	}
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	var details []sipflow.CallDetail
	for _, c := range calls {
		d, _ := e.Call(c.CallID)
		details = append(details, d)
	}
	st := e.Status()
	b, err := json.Marshal(struct {
		Calls   []sipflow.CallSummary
		Details []sipflow.CallDetail
		Streams any
		Decoder any
		Store   any
		RTP     any
		Engine  any
		TLS     string
	}{calls, details, e.Streams(""), st.Decoder, st.Store, st.RTP, st.Engine, st.TLSReasons})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The pipeline (decoding and SIP parsing on a second goroutine, the
// store given the parsed message) gives exactly the calls, messages,
// streams and counters of the one-goroutine run, on every generated
// capture and every corpus file.
func TestPipelineSameResults(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*.pcap*")
	if dir := filepath.Join(filepath.Dir(testpeer.CorpusFile(t, "MANIFEST.md")), "*.pcap*"); !testing.Short() {
		more, _ := filepath.Glob(dir)
		files = append(files, more...)
	}
	n := 0
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil || fi.Size() > 64<<20 {
			continue
		}
		if filepath.Base(f) == "garbage-not-pcap.bin" {
			continue
		}
		plain := engineResult(t, []string{f}, false)
		piped := engineResult(t, []string{f}, true)
		if plain != piped {
			t.Errorf("%s: results differ with the pipeline\nplain %.1500s\npiped %.1500s", f, plain, piped)
		}
		n++
	}
	t.Logf("%d captures compared", n)
	if n < 40 {
		t.Errorf("compared %d captures", n)
	}
}
