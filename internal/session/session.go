package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/metrics"
	"github.com/voiptool/voiptool/internal/recorder"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// RecordMode is what the recorder keeps.
type RecordMode uint8

// Record modes.
const (
	RecordAll   RecordMode = iota // every record captured
	RecordSIP                     // the records that carry SIP
	RecordCalls                   // SIP, and the RTP/RTCP voiptool classified as media
)

// ErrRecordMode is returned by ParseRecordMode.
var ErrRecordMode = errors.New("session: --record takes all, sip or calls")

// ParseRecordMode reads --record.
func ParseRecordMode(s string) (RecordMode, error) {
	switch strings.ToLower(s) {
	case "", "all":
		return RecordAll, nil
	case "sip":
		return RecordSIP, nil
	case "calls":
		return RecordCalls, nil
	}
	return 0, fmt.Errorf("%w (not %q)", ErrRecordMode, s)
}

// Options configure a Session.
type Options struct {
	// Recorder, when set, records while the session runs; Run starts and
	// closes it.
	Recorder *recorder.Recorder
	Record   RecordMode
	// Metrics, when set, is fed and served on MetricsListener while Run
	// goes (the caller opens the listener, so a taken port fails before
	// the capture starts).
	Metrics         *metrics.Metrics
	MetricsListener net.Listener
	// StatusEvery prints a status line to Status this often (0: never).
	StatusEvery time.Duration
	Status      io.Writer
	// Duration stops the run after this long (0: until the input ends or
	// the context is cancelled); MaxRecords after this many records.
	Duration   time.Duration
	MaxRecords int64
	// Warn receives per-record problems.
	Warn func(error)
	// Extra, when set, is called at each status line and each scrape for
	// counters of parts the session does not own (a HEP forwarder).
	Extra func(*metrics.Snapshot)
}

// Session is one capture run; see the package doc.
type Session struct {
	o       Options
	e       *engine.Engine
	states  []string         // call states, for the metrics
	byState []sipflow.Filter // "type=CALL and state=…" per state
	records *sink.Records
	recErr  error
}

// Stop reasons, in Result.Stopped.
const (
	StopEnd      = "end of input"
	StopDuration = "duration reached"
	StopCount    = "record count reached"
	StopSignal   = "interrupted"
)

// Result is what a run did.
type Result struct {
	Status   engine.Status
	Recorder recorder.Stats
	Recorded bool
	Elapsed  time.Duration
	Stopped  string
}

// New builds the engine with the session's hooks added to eo: recording
// (a record tap or an event tap) and metrics (SIP methods, codes, setup
// times as messages are parsed).
func New(eo engine.Options, o Options) *Session {
	s := &Session{o: o}
	if o.Recorder != nil {
		switch o.Record {
		case RecordAll:
			prev := eo.Capture.OnRecord
			eo.Capture.OnRecord = func(src int, p pcap.Packet, data []byte) {
				_ = o.Recorder.WriteRecord(src, p, data) // refusals are counted by the recorder
				if prev != nil {
					prev(src, p, data)
				}
			}
		default:
			s.records = sink.NewRecords(o.Recorder)
			prev := eo.Tap
			eo.Tap = func(ev *capture.Event) {
				if s.wants(ev.Kind) {
					_ = s.records.WriteEvent(ev) // counted by the recorder and the record sink
				}
				if prev != nil {
					prev(ev)
				}
			}
		}
	}
	if o.Metrics != nil {
		prev := eo.OnMessage
		eo.OnMessage = func(m *sipflow.Message, meta sipflow.Meta) {
			s.observe(m)
			if prev != nil {
				prev(m, meta)
			}
		}
	}
	s.e = engine.New(eo)
	if o.Metrics != nil {
		for _, st := range metrics.CallStates() {
			f, err := sipflow.ParseFilter(`type=CALL and state="` + st + `"`)
			if err != nil {
				panic(err) // built from sipflow's own state names: cannot fail
			}
			s.states, s.byState = append(s.states, st), append(s.byState, f)
		}
	}
	return s
}

func (s *Session) wants(k capture.Kind) bool {
	switch k {
	case capture.KindSIP, capture.KindHEP:
		return true
	case capture.KindRTP, capture.KindRTCP:
		return s.o.Record == RecordCalls
	}
	return false
}

// observe feeds the metrics from one parsed message: methods, codes,
// and an answered INVITE's setup time and PDD (from its call's summary,
// on the writer goroutine, only for 2xx to INVITE).
func (s *Session) observe(m *sipflow.Message) {
	if m.Request {
		s.o.Metrics.ObserveRequest(string(m.Method))
		return
	}
	s.o.Metrics.ObserveResponse(m.StatusCode)
	if m.StatusCode >= 200 && m.StatusCode < 300 && string(m.CSeqMethod) == "INVITE" {
		if sum, ok := s.e.Store().Summary(string(m.CallID)); ok && sum.SetupMS > 0 {
			pdd := time.Duration(-1)
			if sum.PDDMS > 0 {
				pdd = time.Duration(sum.PDDMS) * time.Millisecond
			}
			s.o.Metrics.ObserveSetup(time.Duration(sum.SetupMS)*time.Millisecond, pdd)
		}
	}
}

// Engine is the session's engine, for reports after Run.
func (s *Session) Engine() *engine.Engine { return s.e }

// Run captures until the sources end, ctx is cancelled, Duration passes
// or MaxRecords were read, then closes every output and returns.
func (s *Session) Run(ctx context.Context, srcs []capture.Source) (Result, error) {
	start := time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var recErr, metErr error
	if r := s.o.Recorder; r != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recErr = r.Run(context.Background()) // ended by Close below, after the engine stopped
		}()
	}
	metCtx, stopMetrics := context.WithCancel(context.Background())
	defer stopMetrics()
	if s.o.Metrics != nil && s.o.MetricsListener != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			metErr = s.o.Metrics.ServeListener(metCtx, s.o.MetricsListener)
		}()
	}

	done := make(chan error, 1)
	go func() {
		_, err := s.e.Run(runCtx, srcs, s.o.Warn)
		done <- err
	}()
	var status, poll, lossCheck <-chan time.Time
	if s.o.StatusEvery > 0 && s.o.Status != nil {
		t := time.NewTicker(s.o.StatusEvery)
		defer t.Stop()
		status = t.C
	}
	if s.o.Status != nil {
		// A lossy capture gives confident wrong answers: say so the
		// moment it starts dropping, once, not at the next status line.
		t := time.NewTicker(time.Second)
		defer t.Stop()
		lossCheck = t.C
	}
	warned := false
	if s.o.MaxRecords > 0 {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		poll = t.C
	}
	var deadline <-chan time.Time
	if s.o.Duration > 0 {
		t := time.NewTimer(s.o.Duration)
		defer t.Stop()
		deadline = t.C
	}
	stopped := ""
	var runErr error
loop:
	for {
		select {
		case runErr = <-done:
			break loop
		case <-status:
			fmt.Fprintln(s.o.Status, s.StatusLine(time.Since(start)))
		case <-lossCheck:
			if !warned {
				if k, q := s.drops(); k+q > 0 {
					warned = true
					fmt.Fprintf(s.o.Status, "WARNING: the capture is dropping packets (kernel %d, queue %d): figures from here on miss them; raise -B, filter harder, or record less\n", k, q)
				}
			}
		case <-poll:
			if s.e.Status().Records >= s.o.MaxRecords {
				stopped = StopCount
				cancel()
			}
		case <-deadline:
			stopped = StopDuration
			cancel()
		}
	}
	if stopped == "" {
		stopped = StopEnd
		if ctx.Err() != nil {
			stopped = StopSignal
		}
	}
	if runErr != nil && runCtx.Err() != nil {
		runErr = nil // cancelled on purpose
	}
	if s.o.Recorder != nil {
		s.o.Recorder.Close()
	}
	stopMetrics()
	wg.Wait()
	res := Result{Status: s.e.Status(), Elapsed: time.Since(start), Stopped: stopped}
	if s.o.Recorder != nil {
		res.Recorder, res.Recorded = s.o.Recorder.Stats(), true
	}
	return res, errors.Join(runErr, recErr, metErr)
}

// StatusLine is the one-line status printed every StatusEvery. Every
// figure is a number: nothing from the wire reaches the terminal.
func (s *Session) StatusLine(elapsed time.Duration) string {
	st := s.e.Status()
	kernel, queue := capture.SourceDrops(st.Sources)
	ev := st.Engine.Events
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d packets, %d SIP, %d RTP, %d RTCP; %d dialogs held, %d evicted; %d streams",
		elapsed.Truncate(time.Second), st.Records, ev[capture.KindSIP], ev[capture.KindRTP], ev[capture.KindRTCP],
		st.Store.Calls, st.Store.Evicted, s.streams())
	fmt.Fprintf(&b, "; drops kernel %d, queue %d", kernel, queue)
	if r := s.o.Recorder; r != nil {
		rs := r.Stats()
		fmt.Fprintf(&b, ", recorder %d; recorded %d packets, %.1f MB, %d files", rs.Dropped+rs.Failed, rs.Packets, float64(rs.Bytes)/1e6, rs.Files+boolInt(rs.Current != ""))
	}
	return b.String()
}

// drops sums the live sources' kernel and queue drops.
func (s *Session) drops() (kernel, queue uint64) { return capture.SourceDrops(s.e.Status().Sources) }

func (s *Session) streams() int {
	return s.e.StreamCount()
}

func boolInt(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Snapshot is the metrics view of the session now.
func (s *Session) Snapshot() metrics.Snapshot {
	st := s.e.Status()
	ev := st.Engine.Events
	m := metrics.Snapshot{
		Records: uint64(st.Records),
		SIP:     uint64(ev[capture.KindSIP]), RTP: uint64(ev[capture.KindRTP]), RTCP: uint64(ev[capture.KindRTCP]), HEP: uint64(st.Engine.HEP),
		Other:       uint64(st.Decoder.Other),
		DropDecoder: uint64(st.Decoder.DecodeErrors + st.Decoder.UnsupportedLinkTypes),
		Evicted: map[string]uint64{
			"calls":     uint64(st.Store.Evicted),
			"streams":   uint64(st.RTP.Evicted + st.RTP.FinishedDropped),
			"fragments": uint64(st.Decoder.FragmentsDropped + st.Decoder.FragmentsExpired + st.Decoder.FragmentsEvicted),
			"media":     uint64(st.Decoder.MediaEvicted),
			// SIP messages the spill file refused (full or failed): kept
			// in memory instead.
			"spill": uint64(st.Spill.Refused),
			"tcp":   st.Decoder.Stream.BufferOverflows + st.Decoder.Stream.StreamsRefused + st.Decoder.Stream.Gaps + st.Decoder.Stream.OutOfOrderOverflows + st.Decoder.Stream.BudgetEvictions,
		},
		CallsByState:  map[string]int{},
		StreamsActive: s.streams(),
	}
	m.DropKernel, m.DropQueue = capture.SourceDrops(st.Sources)
	m.Reordered = st.Reordered
	// Counted through the store's filters: a scan under its read lock,
	// no copy of the calls at every scrape.
	for i, f := range s.byState {
		m.CallsByState[s.states[i]] = s.e.Store().Count(f)
	}
	m.CallsTotal = uint64(st.Store.Calls) + uint64(st.Store.Evicted) + uint64(st.Store.Cleared)
	if r := s.o.Recorder; r != nil {
		rs := r.Stats()
		m.DropRecorder = rs.Dropped + rs.Failed
		m.RecordedPackets, m.RecordedBytes, m.RecordedFiles = rs.Packets, rs.Bytes, rs.Files
	}
	if s.o.Extra != nil {
		s.o.Extra(&m)
	}
	return m
}
