package session

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/metrics"
	"github.com/voiptool/voiptool/internal/recorder"
	"github.com/voiptool/voiptool/pcap"
)

const basicCall = "../../testdata/pcaps/basic-call.pcap"

func open(t *testing.T, path string) capture.Source {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func count(t *testing.T, path string) (n int) {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		_, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
}

// sipRecords counts the records of a capture that carry SIP, by our
// decoder, each record once.
func sipRecords(t *testing.T, path string) int {
	t.Helper()
	seen := map[int]bool{}
	_, err := capture.Run(context.Background(), []capture.Source{open(t, path)}, capture.Options{}, nil, func(ev *capture.Event) error {
		if ev.Kind == capture.KindSIP {
			seen[ev.Packet.Number] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(seen)
}

func TestRecordModes(t *testing.T) {
	all := count(t, basicCall)
	sip := sipRecords(t, basicCall)
	for _, tt := range []struct {
		mode RecordMode
		want int
	}{{RecordAll, all}, {RecordSIP, sip}} {
		out := filepath.Join(t.TempDir(), "out.pcapng")
		rec, err := recorder.New(recorder.Options{Path: out})
		if err != nil {
			t.Fatal(err)
		}
		s := New(engine.Options{}, Options{Recorder: rec, Record: tt.mode})
		res, err := s.Run(context.Background(), []capture.Source{open(t, basicCall)})
		if err != nil {
			t.Fatal(err)
		}
		if got := count(t, out); got != tt.want || res.Recorder.Packets != uint64(tt.want) || res.Stopped != StopEnd {
			t.Errorf("mode %d: file holds %d records (recorder says %d, stopped %q), want %d", tt.mode, got, res.Recorder.Packets, res.Stopped, tt.want)
		}
	}
	if sip >= all {
		t.Fatalf("test capture should hold non-SIP records too (%d SIP of %d)", sip, all)
	}
}

// blockingLive is a live source that never delivers: a quiet interface.
type blockingLive struct{}

func (blockingLive) Next() ([]byte, pcap.Packet, error) { select {} }
func (blockingLive) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	<-ctx.Done()
	return nil, pcap.Packet{}, ctx.Err()
}

// A quiet live capture stops at --duration, prints its status line, and
// closes the recorder into a valid (empty) file.
func TestDurationStatusAndValidOutput(t *testing.T) {
	out := filepath.Join(t.TempDir(), "quiet.pcap")
	rec, err := recorder.New(recorder.Options{Path: out})
	if err != nil {
		t.Fatal(err)
	}
	var status bytes.Buffer
	s := New(engine.Options{}, Options{Recorder: rec, StatusEvery: 20 * time.Millisecond, Status: &status, Duration: 150 * time.Millisecond})
	res, err := s.Run(context.Background(), []capture.Source{blockingLive{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopDuration {
		t.Errorf("stopped: %q", res.Stopped)
	}
	if !strings.Contains(status.String(), "drops kernel 0, queue 0, recorder 0") {
		t.Errorf("status lines: %q", status.String())
	}
	// Nothing arrived, so nothing was written and no empty file left.
	if res.Recorder.Files != 0 {
		t.Errorf("recorder %+v", res.Recorder)
	}
}

func TestMaxRecordsStops(t *testing.T) {
	s := New(engine.Options{}, Options{MaxRecords: 1})
	res, err := s.Run(context.Background(), []capture.Source{blockingLive{}, open(t, basicCall)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopCount || res.Status.Records < 1 {
		t.Errorf("stopped %q after %d records", res.Stopped, res.Status.Records)
	}
}

func TestSignalStopsAndMetrics(t *testing.T) {
	m := metrics.New(nil)
	var s *Session
	s = New(engine.Options{}, Options{Metrics: m})
	ctx, cancel := context.WithCancel(context.Background())
	total := int64(count(t, basicCall))
	go func() {
		// The file has been read to its end; the live source stays
		// quiet, so only the signal ends the run.
		for int64(s.Engine().Status().Decoder.Packets) < total { // published once the merge waits on the quiet source
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	res, err := s.Run(ctx, []capture.Source{open(t, basicCall), blockingLive{}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stopped != StopSignal {
		t.Errorf("stopped %q", res.Stopped)
	}
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `voiptool_sip_requests_total{method="INVITE"} 1`) ||
		!strings.Contains(string(body), `voiptool_call_setup_seconds_count 1`) {
		t.Errorf("metrics after the basic call:\n%s", grep(string(body), "voiptool_sip_requests_total", "setup_seconds_count"))
	}
	snap := s.Snapshot()
	if snap.SIP == 0 || snap.CallsByState["COMPLETED"] != 1 {
		t.Errorf("snapshot %+v", snap)
	}
}

func grep(s string, subs ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, sub := range subs {
			if strings.Contains(l, sub) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}

// droppingLive delivers a packet every 50 ms while its kernel says it
// dropped some: an overloaded interface.
type droppingLive struct{ frame []byte }

func (d droppingLive) Next() ([]byte, pcap.Packet, error) { return d.NextContext(context.Background()) }
func (d droppingLive) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	select {
	case <-ctx.Done():
		return nil, pcap.Packet{}, ctx.Err()
	case <-time.After(50 * time.Millisecond):
	}
	return d.frame, pcap.Packet{Timestamp: time.Now(), CaptureLength: len(d.frame), Length: len(d.frame), LinkType: pcap.LinkTypeEthernet}, nil
}
func (droppingLive) KernelStats() (capture.KernelStats, error) {
	return capture.KernelStats{Received: 100, Dropped: 3}, nil
}

// A capture that drops says so once, at once, not at the next status.
func TestLossyCaptureWarnsOnce(t *testing.T) {
	var status bytes.Buffer
	s := New(engine.Options{}, Options{Status: &status, Duration: 2500 * time.Millisecond})
	if _, err := s.Run(context.Background(), []capture.Source{droppingLive{frame: make([]byte, 60)}}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(status.String(), "WARNING: the capture is dropping packets (kernel 3"); n != 1 {
		t.Errorf("warned %d times:\n%s", n, status.String())
	}
}
