package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voiptool/voiptool/sipflow"
)

// Snapshot is the pipeline's cumulative state at one moment, read at
// every scrape. Counters must never go down while a process runs.
type Snapshot struct {
	// Packets and bytes by protocol: records read, and classified
	// payloads per kind.
	Records, RecordBytes          uint64
	SIP, RTP, RTCP, HEP, Other    uint64
	SIPBytes, RTPBytes, RTCPBytes uint64

	// Drops by stage.
	DropKernel    uint64 // the kernel's ring was full (AF_PACKET)
	DropInterface uint64 // the NIC/driver dropped (rx_dropped)
	DropQueue     uint64 // our queue between capture and decoder was full
	DropRecorder  uint64 // the recorder could not keep up or write
	DropDecoder   uint64 // records the decoder could not use (errors, unsupported links)
	// Reordered: live records decoded after a later one of another
	// source (past the merge window): not lost, but out of time order.
	Reordered uint64

	// Tables: what bounded tables evicted or refused, by table.
	Evicted map[string]uint64

	// Calls: current count per state (a gauge), and all calls seen.
	CallsByState map[string]int
	CallsTotal   uint64 // dialogs seen: held, evicted and cleared
	// Streams: active now, and all seen.
	StreamsActive int
	StreamsTotal  uint64

	// HEP forwarding.
	HEPSent, HEPDropped uint64
	HEPQueued           int

	// Recorder.
	RecordedPackets, RecordedBytes, RecordedFiles uint64
}

// CallStates are the call states exported from the start, as the call
// store names them; others that a Snapshot names are exported too.
var callStates = CallStates()

// CallStates lists the states of INVITE dialogs (sipflow's names, "CALL
// SETUP" to "TIMEOUT"), for Snapshot.CallsByState and zero series.
func CallStates() []string {
	var out []string
	for st := sipflow.StateSetup; st.String() != "UNKNOWN" && st != sipflow.StatePending; st++ {
		out = append(out, st.String())
	}
	return out
}

// methods are the SIP methods with a series of their own (RFC 3261,
// 3262, 3265, 3311, 3428, 3515, 3903, 6086, 2976); anything else from
// the wire counts as "other", so a scanner cannot grow the label set.
var methods = []string{"INVITE", "ACK", "BYE", "CANCEL", "REGISTER", "OPTIONS", "PRACK", "SUBSCRIBE", "NOTIFY", "PUBLISH", "INFO", "REFER", "MESSAGE", "UPDATE", "other"}

// codes are the response codes with a series of their own from the
// start; other codes get one when first seen, up to maxCodes, then fold
// into their class ("4xx").
var codes = []int{100, 180, 181, 183, 200, 202, 301, 302, 401, 403, 404, 407, 408, 480, 481, 486, 487, 488, 491, 500, 502, 503, 504, 603}

const maxCodes = 64

// stages are the drop stages.
var stages = []string{"kernel", "interface", "queue", "recorder", "decoder"}

// Metrics is the exporter. Observe methods may be called from any one
// goroutine at a time per method family (the engine's writer); Serve
// and scrapes run concurrently with them.
type Metrics struct {
	reg  *prometheus.Registry
	pull func() Snapshot

	requests  *prometheus.CounterVec
	responses *prometheus.CounterVec
	reqBy     [16]prometheus.Counter // by index in methods
	respBy    map[int]prometheus.Counter
	setup     prometheus.Histogram
	pdd       prometheus.Histogram
	loss      prometheus.Histogram
	jitter    prometheus.Histogram
	mos       prometheus.Histogram
}

// New builds the exporter; pull is called at every scrape.
func New(pull func() Snapshot) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), pull: pull, respBy: map[int]prometheus.Counter{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "voiptool_sip_requests_total", Help: "SIP requests seen, by method (unknown methods as other).",
	}, []string{"method"})
	m.responses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "voiptool_sip_responses_total", Help: "SIP responses seen, by status code.",
	}, []string{"code"})
	for i, meth := range methods {
		m.reqBy[i] = m.requests.WithLabelValues(meth)
	}
	for _, c := range codes {
		m.respBy[c] = m.responses.WithLabelValues(strconv.Itoa(c))
	}
	sec := []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30}
	m.setup = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "voiptool_call_setup_seconds", Help: "INVITE to 200 OK of answered calls.", Buckets: sec,
	})
	m.pdd = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "voiptool_call_pdd_seconds", Help: "Post-dial delay: INVITE to the first 18x (or final response).", Buckets: sec,
	})
	m.loss = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "voiptool_rtp_loss_ratio", Help: "Per-stream packet loss (0..1), real loss (distinct sequence numbers never received).",
		Buckets: []float64{0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5},
	})
	m.jitter = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "voiptool_rtp_jitter_seconds", Help: "Per-stream mean RFC 3550 interarrival jitter.",
		Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2},
	})
	m.mos = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "voiptool_rtp_mos", Help: "Per-stream E-model MOS (ITU-T G.107).",
		Buckets: []float64{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.4},
	})
	m.reg.MustRegister(m.requests, m.responses, m.setup, m.pdd, m.loss, m.jitter, m.mos, snapshotCollector{m})
	return m
}

// ObserveRequest counts a SIP request by method.
func (m *Metrics) ObserveRequest(method string) {
	for i, meth := range methods[:len(methods)-1] {
		if meth == method {
			m.reqBy[i].Inc()
			return
		}
	}
	m.reqBy[len(methods)-1].Inc()
}

// ObserveResponse counts a SIP response by code; codes outside 100..699
// are not SIP and are counted as "other".
func (m *Metrics) ObserveResponse(code int) {
	if c, ok := m.respBy[code]; ok {
		c.Inc()
		return
	}
	label := "other"
	if code >= 100 && code <= 699 {
		if len(m.respBy) < maxCodes {
			c := m.responses.WithLabelValues(strconv.Itoa(code))
			m.respBy[code] = c
			c.Inc()
			return
		}
		label = strconv.Itoa(code/100) + "xx"
	}
	m.responses.WithLabelValues(label).Inc()
}

// ObserveSetup records an answered call's setup time and PDD (pass a
// negative duration for one that is unknown).
func (m *Metrics) ObserveSetup(setup, pdd time.Duration) {
	if setup >= 0 {
		m.setup.Observe(setup.Seconds())
	}
	if pdd >= 0 {
		m.pdd.Observe(pdd.Seconds())
	}
}

// ObserveStream records a finished stream's figures: loss as a ratio,
// jitter in seconds, and MOS (0 when not computed: not observed).
func (m *Metrics) ObserveStream(loss, jitter, mos float64) {
	m.loss.Observe(loss)
	m.jitter.Observe(jitter)
	if mos > 0 {
		m.mos.Observe(mos)
	}
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Serve listens on addr and serves /metrics until ctx is done, then
// shuts the server down and returns. A listen error returns at once.
func (m *Metrics) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return m.ServeListener(ctx, ln)
}

// ServeListener is Serve on a listener the caller opened.
func (m *Metrics) ServeListener(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("metrics: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// snapshotCollector turns a Snapshot into const metrics at scrape time.
type snapshotCollector struct{ m *Metrics }

var (
	descPackets   = prometheus.NewDesc("voiptool_packets_total", "Classified payloads by protocol (records for proto=\"record\").", []string{"proto"}, nil)
	descBytes     = prometheus.NewDesc("voiptool_bytes_total", "Bytes by protocol (record bytes for proto=\"record\").", []string{"proto"}, nil)
	descDrops     = prometheus.NewDesc("voiptool_drops_total", "Packets lost, by stage.", []string{"stage"}, nil)
	descEvicted   = prometheus.NewDesc("voiptool_evicted_total", "Entries evicted or refused by bounded tables, by table.", []string{"table"}, nil)
	descCalls     = prometheus.NewDesc("voiptool_calls", "Calls held now, by state.", []string{"state"}, nil)
	descCallsTot  = prometheus.NewDesc("voiptool_dialogs_total", "Dialogs seen (every Call-ID, INVITE or not), evicted and cleared ones included.", nil, nil)
	descStreams   = prometheus.NewDesc("voiptool_rtp_streams_active", "RTP streams held now.", nil, nil)
	descStreamTot = prometheus.NewDesc("voiptool_rtp_streams_total", "RTP streams seen.", nil, nil)
	descHEPSent   = prometheus.NewDesc("voiptool_hep_forwarded_total", "HEP packets handed to collectors.", nil, nil)
	descHEPDrop   = prometheus.NewDesc("voiptool_hep_dropped_total", "HEP packets dropped (queue full, refused).", nil, nil)
	descReordered = prometheus.NewDesc("voiptool_reordered_total", "Live records decoded out of time order (they reached the merge of several sources after its window).", nil, nil)
	descHEPQueue  = prometheus.NewDesc("voiptool_hep_queued", "HEP packets waiting to be sent.", nil, nil)
	descRecPkts   = prometheus.NewDesc("voiptool_recorder_packets_total", "Records written by the recorder.", nil, nil)
	descRecBytes  = prometheus.NewDesc("voiptool_recorder_bytes_total", "Record bytes written by the recorder.", nil, nil)
	descRecFiles  = prometheus.NewDesc("voiptool_recorder_files_total", "Files the recorder completed.", nil, nil)
)

// evictionTables are exported from the start.
var evictionTables = []string{"calls", "streams", "tcp", "fragments", "media", "flows"}

func (c snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPackets, descBytes, descDrops, descEvicted, descCalls, descCallsTot, descStreams, descStreamTot, descHEPSent, descHEPDrop, descReordered, descHEPQueue, descRecPkts, descRecBytes, descRecFiles} {
		ch <- d
	}
}

func (c snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	var s Snapshot
	if c.m.pull != nil {
		s = c.m.pull()
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for _, p := range []struct {
		proto string
		n, b  uint64
	}{{"record", s.Records, s.RecordBytes}, {"sip", s.SIP, s.SIPBytes}, {"rtp", s.RTP, s.RTPBytes}, {"rtcp", s.RTCP, s.RTCPBytes}, {"hep", s.HEP, 0}, {"other", s.Other, 0}} {
		counter(descPackets, p.n, p.proto)
		if p.proto != "hep" && p.proto != "other" {
			counter(descBytes, p.b, p.proto)
		}
	}
	for i, v := range []uint64{s.DropKernel, s.DropInterface, s.DropQueue, s.DropRecorder, s.DropDecoder} {
		counter(descDrops, v, stages[i])
	}
	for _, t := range evictionTables {
		counter(descEvicted, s.Evicted[t], t)
	}
	for t, v := range s.Evicted {
		if !contains(evictionTables, t) {
			counter(descEvicted, v, t)
		}
	}
	for _, st := range callStates {
		gauge(descCalls, s.CallsByState[st], st)
	}
	for st, v := range s.CallsByState {
		if !contains(callStates, st) {
			gauge(descCalls, v, st)
		}
	}
	counter(descCallsTot, s.CallsTotal)
	gauge(descStreams, s.StreamsActive)
	counter(descStreamTot, s.StreamsTotal)
	counter(descHEPSent, s.HEPSent)
	counter(descHEPDrop, s.HEPDropped)
	counter(descReordered, s.Reordered)
	gauge(descHEPQueue, s.HEPQueued)
	counter(descRecPkts, s.RecordedPackets)
	counter(descRecBytes, s.RecordedBytes)
	counter(descRecFiles, s.RecordedFiles)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
