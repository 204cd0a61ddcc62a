package tuiadapter

import (
	"context"
	"github.com/voiptool/voiptool/internal/testpeer"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/sipflow"
	"github.com/voiptool/voiptool/tui"
)

// corpus names a shared-corpus file (the test skips without it).
func corpus(t *testing.T, name string) string { return testpeer.CorpusFile(t, name) }

func runFiles(t *testing.T, e *engine.Engine, files ...string) {
	t.Helper()
	if _, err := e.Run(context.Background(), testpeer.Sources(t, files...), func(err error) { t.Logf("warning: %v", err) }); err != nil {
		t.Fatal(err)
	}
}

// TestHEPReportsAttached checks that HEP LOG and RTCP-JSON reports whose
// correlation id names a call are attached to it and shown in its ladder.
func TestHEPReportsAttached(t *testing.T) {
	e := engine.New(engine.Options{})
	runFiles(t, e, corpus(t, "hep3-udp9060-sip-options-publish-rtcpjson-log.pcap"))
	s := e.Status()
	if s.Engine.HEPAttached == 0 {
		t.Fatalf("no HEP report attached to a call (other %d)", s.Engine.HEPOther)
	}
	v := New(e, nil, false, nil, 0)
	found := false
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		fl, ok := v.Flow([]string{c.CallID}, false)
		if !ok {
			continue
		}
		for _, m := range fl.Messages {
			if (m.Label == "LOG" || m.Label == "RTCP-JSON") && m.Raw != "" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no LOG/RTCP-JSON note in any ladder (attached %d)", s.Engine.HEPAttached)
	}
}

// TestViewSaveFormats saves the demo call in every format the UI offers
// and checks each file holds what its format promises.
func TestViewSaveFormats(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	v := New(e, []string{f}, false, nil, 0)
	var call string
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		if c.Type == sipflow.TypeCall {
			call = c.CallID
		}
	}
	want := map[tui.SaveFormat]string{
		// The pcap messages name the packet count: 7 SIP, plus 358 RTP and 4 RTCP.
		tui.FormatPcapSIP: "saved 7 packets", tui.FormatPcapSIPRTP: "saved 369 packets",
		tui.FormatFlowText: "180 Ringing", tui.FormatFlowMarkdown: "| 180 Ringing", tui.FormatFlowMermaid: "sequenceDiagram",
		tui.FormatFlowPlantUML: "@startuml", tui.FormatFlowSVG: "<svg", tui.FormatFlowHTML: "<html",
		tui.FormatCSV: "call_id,", tui.FormatJSON: `"call_id": "` + call,
	}
	for format, marker := range want {
		path := filepath.Join(t.TempDir(), "out")
		msg, err := v.Save(context.Background(), tui.SaveRequest{Scope: tui.SaveSelected, Format: format, Path: path, CallIDs: []string{call}}, nil)
		if err != nil {
			t.Errorf("%v: %v", format, err)
			continue
		}
		b, err := os.ReadFile(path)
		if format == tui.FormatPcapSIP || format == tui.FormatPcapSIPRTP {
			if !strings.Contains(msg, marker) {
				t.Errorf("%v: message %q, want %q", format, msg, marker)
			}
			marker = ""
		}
		if err != nil || len(b) == 0 || !strings.Contains(string(b), marker) || !strings.Contains(msg, path) {
			t.Errorf("%v: %d bytes, err %v, marker %q found %v, message %q", format, len(b), err, marker, strings.Contains(string(b), marker), msg)
		}
	}
}

// TestSaveLiveCall: a live view (no files) saves a call's signalling,
// framed from the store; asked for media too, it saves the signalling
// and says which media it could not, with the file in place.
func TestSaveLiveCall(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	v := New(e, nil, false, nil, 0) // as cmd builds it for -i or a HEP listener
	var call string
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		if c.Type == sipflow.TypeCall {
			call = c.CallID
		}
	}
	for format, want := range map[tui.SaveFormat]string{
		tui.FormatPcapSIP:    "saved 7 packets of 1 call(s)",
		tui.FormatPcapSIPRTP: "saved 7 packets of 1 call(s) to %s; extract: media of a live source is not kept: 2 RTP stream(s)",
	} {
		path := filepath.Join(t.TempDir(), "live.pcapng")
		msg, err := v.Save(context.Background(), tui.SaveRequest{Scope: tui.SaveSelected, Format: format, Path: path, CallIDs: []string{call}}, nil)
		if err != nil || !strings.Contains(msg, strings.Replace(want, "%s", path, 1)) {
			t.Errorf("%v: %q, %v; want %q", format, msg, err, want)
		}
		if st, err := os.Stat(path); err != nil || st.Size() == 0 {
			t.Errorf("%v: saved file: %v", format, err)
		}
	}
}

// TestSaveDisplayed saves every call the list shows, not a screenful.
func TestSaveDisplayed(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	e := engine.New(engine.Options{})
	runFiles(t, e, f)
	v := New(e, []string{f}, false, nil, 0)
	msg, err := v.Save(context.Background(), tui.SaveRequest{Scope: tui.SaveDisplayed, Format: tui.FormatCSV, Path: filepath.Join(t.TempDir(), "d.csv")}, nil)
	if err != nil || !strings.Contains(msg, "saved 3 call(s)") {
		t.Errorf("save displayed: %q, %v", msg, err)
	}
}

// TestCountersFromDecoder: the header shows the decoder's counters (TLS
// streams here), which the engine publishes while it runs, and pulls a
// new Status only when the engine's Version moved.
func TestCountersFromDecoder(t *testing.T) {
	e := engine.New(engine.Options{})
	runFiles(t, e, filepath.Join("..", "..", "testdata", "pcaps", "tls-sip.pcap"))
	v := New(e, nil, false, nil, 0)
	c := v.Counters()
	if c.TLSStreams == 0 || int64(e.Status().Decoder.TLSStreams) != c.TLSStreams {
		t.Errorf("header TLS streams %d, decoder %d", c.TLSStreams, e.Status().Decoder.TLSStreams)
	}
	if c.Packets != e.Status().Records || c.Packets == 0 {
		t.Errorf("header packets %d, records %d", c.Packets, e.Status().Records)
	}
	ver := v.Version()
	v.Counters()
	if v.Version() != ver {
		t.Error("reading the counters moved the Version")
	}
	v.Clear()
	if v.Version() == ver || v.Counters().Dialogs != 0 {
		t.Errorf("after Clear: version %d (was %d), dialogs %d", v.Version(), ver, v.Counters().Dialogs)
	}
}

// TestProgressUntilFinish: a file read to its last byte is still
// loading until Finish (the engine's Run has returned and the list is
// final): the progress stops one byte short, and Loaded closes only
// then.
func TestProgressUntilFinish(t *testing.T) {
	e := engine.New(engine.Options{})
	read := int64(40)
	v := New(e, nil, false, func() int64 { return read }, 100)
	if c := v.Counters(); c.LoadDone != 40 || c.LoadTotal != 100 {
		t.Errorf("part read: %d / %d", c.LoadDone, c.LoadTotal)
	}
	read = 100
	if c := v.Counters(); c.LoadDone != 99 {
		t.Errorf("read to the end, not analysed: done %d, want 99", c.LoadDone)
	}
	select {
	case <-v.Loaded():
		t.Fatal("Loaded closed before Finish")
	default:
	}
	v.Finish()
	v.Finish() // a second call is harmless
	<-v.Loaded()
	if c := v.Counters(); c.LoadDone != 100 {
		t.Errorf("after Finish: done %d, want 100", c.LoadDone)
	}
	var _ tui.Loader = v
}
