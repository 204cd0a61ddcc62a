package main

import (
	"bytes"
	"errors"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/procmem"
)

// execOpts runs a command built with a runF that captures its options and
// returns the error of the run (nil when runF was reached).
func execOpts(t *testing.T, cmd *cobra.Command, reached *bool, args ...string) error {
	t.Helper()
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	err := cmd.Execute()
	if err == nil && !*reached {
		t.Fatalf("%v: runF not reached", args)
	}
	return err
}

// rejects checks that each command line is a usage error that never
// reaches runF; build makes the command with a runF that sets *reached.
func rejects(t *testing.T, build func(reached *bool) *cobra.Command, lines [][]string) {
	t.Helper()
	for _, args := range lines {
		reached := false
		if err := execOpts(t, build(&reached), &reached, args...); !isUsage(err) || reached {
			t.Errorf("%v: err %v, reached %v", args, err, reached)
		}
	}
}

func testIO() *ioStreams { return &ioStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}} }

func isUsage(err error) bool {
	var ue *usageError
	return errors.As(err, &ue)
}

func TestOpenOptions(t *testing.T) {
	var got *openOptions
	reached := false
	cmd := newCmdOpen(testIO(), func(o *openOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "-r", "b.pcapng", "-r", "a.pcap", "-i", "lo", "--filter", "method=INVITE", "--columns", "index,callid",
		"--ascii", "--no-color", "--calls-only", "--hep-to", "udp:127.0.0.1:9060", "--hep-to", "tcp:127.0.0.1:9061",
		"--hep-capture-id", "7", "--hep-auth-key", "k", "--hep-node-name", "n", "--hep-version", "2", "--hep-proto", "sip,rtcp",
		"--hep-correlation", "--hep-restamp", "--hep-queue", "50", "--hep-spool", "/tmp/s", "--hep-insecure", "--hep-flush-timeout", "3s")
	if err != nil {
		t.Fatal(err)
	}
	h := got.hep
	if strings.Join(got.in.files, ",") != "b.pcapng,a.pcap" || strings.Join(got.live.ifaces, ",") != "lo" || got.filter != "method=INVITE" ||
		got.columns != "index,callid" || !got.ascii || !got.noColor || !got.invite ||
		strings.Join(h.to, ",") != "udp:127.0.0.1:9060,tcp:127.0.0.1:9061" || h.captureID != 7 || h.authKey != "k" || h.nodeName != "n" ||
		h.version != 2 || strings.Join(h.protos, ",") != "sip,rtcp" || !h.correlation || !h.restamp || h.queue != 50 ||
		h.spool != "/tmp/s" || !h.tls.Insecure || h.flushWait != 3*time.Second {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdOpen(testIO(), func(*openOptions) error { *r = true; return nil })
	}, [][]string{
		{},
		{"a.pcap", "--filter", "method=="},
		{"a.pcap", "--columns", "nope"},
		{"a.pcap", "--hep-to", "udp:nohostport"},
		{"a.pcap", "--hep-to", "udp:127.0.0.1:9060", "--hep-version", "2", "--hep-compress"},
		{"a.pcap", "--hep-to", "udp:127.0.0.1:9060", "--hep-proto", "rtp"},
	})
}

func TestHEPForwardCmdOptions(t *testing.T) {
	var got *hepForwardOptions
	reached := false
	cmd := newCmdHEPForward(testIO(), func(o *hepForwardOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "a.pcap", "--to", "tls:collector:9061", "--capture-id", "2001", "--auth-key", "s",
		"--node-name", "edge", "--compress", "--correlation", "--proto", "sip,rtcp", "--speed", "10", "--restamp",
		"--queue", "9", "--spool", "/tmp/sp", "--ca", "ca.pem", "--cert", "c.pem", "--key", "k.pem", "--flush-timeout", "2s", "-q", "--no-rtp-heuristic")
	if err != nil {
		t.Fatal(err)
	}
	h := got.hep
	if strings.Join(got.in.files, ",") != "a.pcap" || got.speed != "10" || !got.in.quiet || !got.in.noHeuristic ||
		strings.Join(h.to, ",") != "tls:collector:9061" || h.captureID != 2001 || h.authKey != "s" || h.nodeName != "edge" ||
		h.version != 3 || !h.compress || !h.correlation || strings.Join(h.protos, ",") != "sip,rtcp" || !h.restamp ||
		h.queue != 9 || h.spool != "/tmp/sp" || h.tls.CAFile != "ca.pem" || h.tls.CertFile != "c.pem" || h.tls.KeyFile != "k.pem" ||
		h.flushWait != 2*time.Second {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdHEPForward(testIO(), func(*hepForwardOptions) error { *r = true; return nil })
	}, [][]string{
		{"a.pcap"},
		{"--to", "udp:127.0.0.1:9060"},
		{"a.pcap", "--to", "udp:127.0.0.1:9060", "--speed", "fast"},
		{"a.pcap", "--to", "udp:127.0.0.1:9060", "--hep-version", "4"},
		{"a.pcap", "--to", "udp:127.0.0.1:9060", "--proto", "rtp"},
	})
}

func TestListenOptions(t *testing.T) {
	var got *listenOptions
	reached := false
	cmd := newCmdListen(testIO(), func(o *listenOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "udp:0.0.0.0:9060", "tls:0.0.0.0:9061", "--auth-key", "k", "-w", "out.pcap", "--no-ui",
		"--dedup-window", "0", "--cert", "c.pem", "--key", "k.pem", "--ca", "ca.pem", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.addrs, ",") != "udp:0.0.0.0:9060,tls:0.0.0.0:9061" || got.authKey != "k" || got.write != "out.pcap" || !got.noUI ||
		got.dedup != 0 || got.tls.CertFile != "c.pem" || got.tls.KeyFile != "k.pem" || got.tls.CAFile != "ca.pem" || !got.quiet {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdListen(testIO(), func(*listenOptions) error { *r = true; return nil })
	}, [][]string{{}, {"udp:nohostport"}})
}

func TestCallsOptions(t *testing.T) {
	var got *callsOptions
	reached := false
	cmd := newCmdCalls(testIO(), func(o *callsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "-f", "code>=400", "--format", "csv", "--width", "-1", "--calls-only"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.in.files, ",") != "a.pcap" || got.filter != "code>=400" || got.format != "csv" || got.width != -1 || !got.calls {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdCalls(testIO(), func(*callsOptions) error { *r = true; return nil })
	}, [][]string{{}, {"a.pcap", "--format", "xml"}, {"a.pcap", "-f", "code>>"}})
}

func TestFlowOptions(t *testing.T) {
	var got *flowOptions
	reached := false
	cmd := newCmdFlow(testIO(), func(o *flowOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--call", "x", "--call", "y", "--related", "--format", "mermaid",
		"--width", "80", "--alias", "10.0.0.1=pbx"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.callIDs, ",") != "x,y" || !got.related || got.format != "mermaid" || got.width != 80 || strings.Join(got.aliases, ",") != "10.0.0.1=pbx" {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdFlow(testIO(), func(*flowOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap"}, {"a.pcap", "--call", "x", "--format", "png"}, {"a.pcap", "--call", "x", "--alias", "nope"}})
}

func TestStatsOptions(t *testing.T) {
	var got *statsOptions
	reached := false
	cmd := newCmdStats(testIO(), func(o *statsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "-r", "a.pcap", "--filter", "ip=10.1.0.0/16", "--format", "json"); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got.in.files, ",") != "a.pcap" || got.filter != "ip=10.1.0.0/16" || got.format != "json" {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdStats(testIO(), func(*statsOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--format", "xml"}})
}

func TestRTPOptions(t *testing.T) {
	var got *rtpOptions
	reached := false
	cmd := newCmdRTP(testIO(), func(o *rtpOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--call", "abc", "--format", "json", "--width", "100", "--interval", "5s", "--explain", "--no-plc"); err != nil {
		t.Fatal(err)
	}
	if got.callID != "abc" || got.format != "json" || got.width != 100 || got.interval != 5*time.Second || !got.explain || !got.noPLC {
		t.Errorf("options = %+v", got)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdRTP(testIO(), func(*rtpOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--interval", "1ms"}})
}

func TestManOptions(t *testing.T) {
	var got *manOptions
	reached := false
	cmd := newCmdMan(testIO(), func(o *manOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "--dir", "/tmp/man1"); err != nil {
		t.Fatal(err)
	}
	if got.dir != "/tmp/man1" || got.cmd == nil {
		t.Errorf("options = %+v", got)
	}
}

// --max-memory is shared out between the tables, leaving room for what
// none counts, and sets the Go heap's soft limit at it, less the
// program's own pages (the default budget when not given); a GOMEMLIMIT
// in the environment is left alone.
func TestApplyBudget(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	t.Setenv("GOMEMLIMIT", "")
	var eo engine.Options
	applyBudget(&eo, "256MiB")
	// 24 MiB are kept out (fixedReserve); the store has 9/16 of the
	// rest, live streams and final reports 1/16 each; reassembly an
	// eighth of the whole budget.
	if eo.Store.MaxBytes != 232<<20*9/16 || eo.Capture.Stream.MaxBuffered != 32<<20 || eo.RTP.MaxLiveBytes != 232<<20/16 || eo.RTP.MaxFinishedBytes != 232<<20/16 {
		t.Errorf("shares: store %d, reassembly %d, live streams %d, reports %d", eo.Store.MaxBytes, eo.Capture.Stream.MaxBuffered, eo.RTP.MaxLiveBytes, eo.RTP.MaxFinishedBytes)
	}
	// The shares of what is kept leave the reserve and 3/16 of the rest
	// for what no table counts.
	if sum := eo.Store.MaxBytes + eo.RTP.MaxLiveBytes + eo.RTP.MaxFinishedBytes; sum > (256<<20-fixedReserve)*11/16 {
		t.Errorf("the shares add up to %d of a 256 MiB budget", sum)
	}
	// The soft limit is the budget less the executable's resident pages
	// and a quarter more, which the runtime does not count (they only
	// grow, so now they are at least what applyBudget saw).
	got := debug.SetMemoryLimit(-1)
	if own, err := procmem.FileResident(); err != nil {
		if got != 256<<20 {
			t.Errorf("soft limit %d without statm (%v), want %d", got, err, 256<<20)
		}
	} else if got >= 256<<20-own || got < 256<<20-own*5/4 {
		t.Errorf("soft limit %d, want below %d by the %d bytes of the program's pages and at most a quarter more", got, 256<<20, own)
	}
	eo = engine.Options{}
	applyBudget(&eo, "")
	if eo.Store.MaxBytes != 1000<<20*9/16 || eo.RTP.MaxLiveBytes != 1000<<20/16 {
		t.Errorf("default budget: store %d, live streams %d", eo.Store.MaxBytes, eo.RTP.MaxLiveBytes)
	}
	// A small budget keeps at most a quarter out.
	eo = engine.Options{}
	applyBudget(&eo, "32MiB")
	if eo.Store.MaxBytes != 24<<20*9/16 || eo.Capture.Stream.MaxBuffered != 4<<20 {
		t.Errorf("32 MiB: store %d, reassembly %d", eo.Store.MaxBytes, eo.Capture.Stream.MaxBuffered)
	}
	t.Setenv("GOMEMLIMIT", "100MiB")
	debug.SetMemoryLimit(prev)
	applyBudget(&eo, "256MiB")
	if got := debug.SetMemoryLimit(-1); got != prev {
		t.Errorf("GOMEMLIMIT set: the limit moved to %d", got)
	}
}

// TestSpillFlags: --spill-dir and --spill-max reach the engine's options
// (the default when not given, 0 turning the spill off) on every command
// that registers them; a bad size or a missing directory is a usage error.
func TestSpillFlags(t *testing.T) {
	dir := t.TempDir()
	var got *callsOptions
	reached := false
	cmd := newCmdCalls(testIO(), func(o *callsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--spill-dir", dir, "--spill-max", "1MiB"); err != nil {
		t.Fatal(err)
	}
	var eo engine.Options
	got.in.spill.apply(&eo)
	if eo.SpillDir != dir || eo.SpillMax != 1<<20 {
		t.Errorf("spill dir %q max %d, want %q and 1MiB", eo.SpillDir, eo.SpillMax, dir)
	}
	reached = false
	cmd = newCmdCalls(testIO(), func(o *callsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap"); err != nil {
		t.Fatal(err)
	}
	eo = engine.Options{}
	got.in.spill.apply(&eo)
	if eo.SpillDir != "" || eo.SpillMax != engine.DefaultSpillMax {
		t.Errorf("default: spill dir %q max %d, want the temporary directory and %d", eo.SpillDir, eo.SpillMax, engine.DefaultSpillMax)
	}
	reached = false
	cmd = newCmdCalls(testIO(), func(o *callsOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--spill-max", "0"); err != nil {
		t.Fatal(err)
	}
	eo = engine.Options{}
	got.in.spill.apply(&eo)
	if eo.SpillMax != 0 {
		t.Errorf("--spill-max 0: max %d, want 0 (off)", eo.SpillMax)
	}
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdCalls(testIO(), func(*callsOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--spill-max", "lots"}, {"a.pcap", "--spill-dir", dir + "/missing"}})
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdListen(testIO(), func(*listenOptions) error { *r = true; return nil })
	}, [][]string{{"udp:127.0.0.1:9060", "--spill-max", "-1"}})
	rejects(t, func(r *bool) *cobra.Command {
		return newCmdHEPForward(testIO(), func(*hepForwardOptions) error { *r = true; return nil })
	}, [][]string{{"a.pcap", "--to", "udp:127.0.0.1:9060", "--spill-max", "lots"}})
	for _, build := range []func() *cobra.Command{
		func() *cobra.Command { return newCmdHEPForward(testIO(), nil) },
		func() *cobra.Command { return newCmdOpen(testIO(), nil) },
		func() *cobra.Command { return newCmdCapture(testIO(), nil) },
		func() *cobra.Command { return newCmdListen(testIO(), nil) },
		func() *cobra.Command { return newCmdFlow(testIO(), nil) },
		func() *cobra.Command { return newCmdRTP(testIO(), nil) },
		func() *cobra.Command { return newCmdStats(testIO(), nil) },
	} {
		c := build()
		if c.Flags().Lookup("spill-max") == nil || c.Flags().Lookup("spill-dir") == nil {
			t.Errorf("%s: no --spill-max/--spill-dir", c.Name())
		}
	}
}
