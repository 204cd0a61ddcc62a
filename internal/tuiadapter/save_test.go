package tuiadapter

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/tui"
)

// loadLarge writes a generated capture of n calls to a file and loads it.
func loadLarge(t *testing.T, calls, rtp int) (*engine.Engine, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "large.pcap")
	if err := os.WriteFile(f, largeCapture(t, calls, rtp), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := pcap.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	e := engine.New(engine.Options{})
	if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil {
		t.Fatal(err)
	}
	return e, f
}

// TestSaveLinear saves every call with its media through the adapter and
// counts the streams the tracker examined: proportional to the calls and
// their streams (each call's streams come from the per-call index), where
// a report of every stream per call would be calls x streams.
func TestSaveLinear(t *testing.T) {
	visits := map[int]int64{}
	for _, calls := range []int{500, 1000} {
		e, f := loadLarge(t, calls, 2)
		v := New(e, []string{f}, false, nil, 0)
		streams := len(e.Streams(""))
		if streams != 2*calls {
			t.Fatalf("%d calls: %d streams, want 2 each", calls, streams)
		}
		before := e.Status().StreamVisits
		out := filepath.Join(t.TempDir(), "all.pcapng")
		var last tui.SaveProgress
		msg, err := v.Save(context.Background(), tui.SaveRequest{Scope: tui.SaveAll, Format: tui.FormatPcapSIPRTP, Path: out},
			func(p tui.SaveProgress) { last = p })
		if err != nil {
			t.Fatal(err)
		}
		// 7 SIP messages and 2x2 RTP packets per call.
		if want := "saved " + itoa(calls*(7+4)) + " packets of " + itoa(calls) + " call(s)"; !strings.Contains(msg, want) {
			t.Errorf("message %q, want %q", msg, want)
		}
		if last.Calls != calls || last.TotalCalls != calls || last.Read == 0 {
			t.Errorf("last progress %+v", last)
		}
		visits[calls] = e.Status().StreamVisits - before
		// Each call announces two endpoints and each endpoint carries the
		// call's two streams: 4 visits a call.
		if bound := int64(calls + streams); visits[calls] > 2*bound {
			t.Errorf("%d calls, %d streams: %d stream visits, want at most %d (linear)", calls, streams, visits[calls], 2*bound)
		}
	}
	if visits[1000] > 2*visits[500]+8 {
		t.Errorf("visits for 1000 calls %d, for 500 %d: not linear", visits[1000], visits[500])
	}
}

// TestSaveCancel: a save whose context is cancelled, before it starts or
// while it re-reads the capture, returns ctx.Err and leaves no file:
// neither the target nor a temporary one.
func TestSaveCancel(t *testing.T) {
	e, f := loadLarge(t, 200, 20)
	v := New(e, []string{f}, false, nil, 0)
	for _, format := range []tui.SaveFormat{tui.FormatPcapSIPRTP, tui.FormatPcapSIP, tui.FormatCSV, tui.FormatFlowText} {
		dir := t.TempDir()
		out := filepath.Join(dir, "x")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := v.Save(ctx, tui.SaveRequest{Scope: tui.SaveAll, Format: format, Path: out}, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("%v, cancelled before: err = %v", format, err)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%v, cancelled before: %d files left, first %s", format, len(ents), ents[0].Name())
		}
	}
	// Cancelled halfway through the second pass over the capture.
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reads := 0
	_, err := v.Save(ctx, tui.SaveRequest{Scope: tui.SaveAll, Format: tui.FormatPcapSIPRTP, Path: filepath.Join(dir, "x")},
		func(p tui.SaveProgress) {
			if p.Read > 0 {
				reads++
				cancel()
			}
		})
	if !errors.Is(err, context.Canceled) || reads == 0 {
		t.Errorf("cancelled while re-reading: err = %v after %d progress reports", err, reads)
	}
	// The run goes on for at most capture.Run's look at ctx (256 records).
	if reads > 2 {
		t.Errorf("%d progress reports after cancel: the re-read did not stop", reads)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("cancelled while re-reading: %d files left", len(ents))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
