package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// serve runs the exporter on a loopback port the way its owner does.
func serve(t *testing.T, m *Metrics) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return "http://" + ln.Addr().String() + "/metrics"
}

func has(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, "\n"+l+"\n") {
			t.Errorf("missing series line %q", l)
		}
	}
}

// Every series with a known label set exists at zero before anything
// happens: an absent series cannot fire an alert.
func TestZeroSeriesFromStart(t *testing.T) {
	url := serve(t, New(nil))
	body := scrape(t, url)
	has(t, body,
		`voiptool_drops_total{stage="kernel"} 0`,
		`voiptool_drops_total{stage="queue"} 0`,
		`voiptool_drops_total{stage="recorder"} 0`,
		`voiptool_drops_total{stage="interface"} 0`,
		`voiptool_packets_total{proto="sip"} 0`,
		`voiptool_packets_total{proto="rtp"} 0`,
		`voiptool_bytes_total{proto="rtp"} 0`,
		`voiptool_sip_requests_total{method="INVITE"} 0`,
		`voiptool_sip_requests_total{method="other"} 0`,
		`voiptool_sip_responses_total{code="486"} 0`,
		`voiptool_calls{state="TIMEOUT"} 0`,
		`voiptool_calls{state="CALL SETUP"} 0`, // the store's own name, not a second spelling
		`voiptool_calls{state="IN CALL"} 0`,
		`voiptool_evicted_total{table="calls"} 0`,
		`voiptool_call_setup_seconds_count 0`,
		`voiptool_rtp_mos_count 0`,
		`voiptool_hep_dropped_total 0`,
		`voiptool_reordered_total 0`,
		`voiptool_recorder_files_total 0`,
	)
}

func TestValuesFromSnapshotAndObservations(t *testing.T) {
	var calls atomic.Uint64
	m := New(func() Snapshot {
		return Snapshot{
			SIP: 7, RTP: 1000, RTPBytes: 172000, DropKernel: 3, DropQueue: 2, Reordered: 6,
			CallsByState:  map[string]int{"IN CALL": 2, "COMPLETED": 5},
			CallsTotal:    calls.Add(1), // counters are read at scrape time
			Evicted:       map[string]uint64{"calls": 4},
			StreamsActive: 3, HEPQueued: 9, RecordedFiles: 2,
		}
	})
	m.ObserveRequest("INVITE")
	m.ObserveRequest("INVITE")
	m.ObserveRequest("X-SCAN-\x1b]0;evil") // from the wire: folded, never a label
	m.ObserveResponse(200)
	m.ObserveResponse(299)
	m.ObserveResponse(99999)
	m.ObserveSetup(1500*time.Millisecond, 300*time.Millisecond)
	m.ObserveStream(0.02, 0.004, 4.1)
	body := scrape(t, serve(t, m))
	has(t, body,
		`voiptool_packets_total{proto="sip"} 7`,
		`voiptool_bytes_total{proto="rtp"} 172000`,
		`voiptool_drops_total{stage="kernel"} 3`,
		`voiptool_drops_total{stage="queue"} 2`,
		`voiptool_reordered_total 6`,
		`voiptool_calls{state="IN CALL"} 2`,
		`voiptool_calls{state="COMPLETED"} 5`,
		`voiptool_dialogs_total 1`,
		`voiptool_evicted_total{table="calls"} 4`,
		`voiptool_rtp_streams_active 3`,
		`voiptool_hep_queued 9`,
		`voiptool_sip_requests_total{method="INVITE"} 2`,
		`voiptool_sip_requests_total{method="other"} 1`,
		`voiptool_sip_responses_total{code="200"} 1`,
		`voiptool_sip_responses_total{code="299"} 1`,
		`voiptool_sip_responses_total{code="other"} 1`,
		`voiptool_call_setup_seconds_count 1`,
		`voiptool_call_pdd_seconds_bucket{le="0.5"} 1`,
		`voiptool_rtp_loss_ratio_bucket{le="0.02"} 1`,
		`voiptool_rtp_mos_count 1`,
	)
	if strings.Contains(body, "evil") {
		t.Error("text from the wire reached a label")
	}
}

// Response codes from the wire cannot grow the label set without bound.
func TestCodeLabelsBounded(t *testing.T) {
	m := New(nil)
	for c := 100; c <= 699; c++ {
		m.ObserveResponse(c)
	}
	body := scrape(t, serve(t, m))
	n := strings.Count(body, "voiptool_sip_responses_total{")
	if n > maxCodes+6 {
		t.Errorf("%d response series for 600 distinct codes, want at most %d", n, maxCodes+6)
	}
	has(t, body, `voiptool_sip_responses_total{code="6xx"} 99`) // 600..699 but 603, which has its own
}

func TestServeReportsListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := New(nil).Serve(context.Background(), ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "metrics:") {
		t.Errorf("listen on a taken port: %v", err)
	}
}
