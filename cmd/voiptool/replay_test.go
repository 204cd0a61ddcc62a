package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/replay"
)

func TestReplayOptions(t *testing.T) {
	var got *replayOptions
	reached := false
	cmd := newCmdReplay(testIO(), func(o *replayOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "a.pcap", "-r", "b.pcap", "--to", "127.0.0.1:5060", "--map", "10.0.0.1=127.0.0.2",
		"--map", "10.0.0.2:5060=127.0.0.3:5070", "--rewrite", "--new-ids", "--new-rtp", "--speed", "0.5", "--loop", "0",
		"--call", "abc", "--call", "def", "--filter", "code>=400", "--format", "json", "--allow-broadcast",
		"--bind", "127.0.0.1", "--max-sockets", "7", "--linger", "2s", "--spin", "0")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := got.replayOpts()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ro.Files, ",") != "b.pcap,a.pcap" || ro.To != netip.MustParseAddrPort("127.0.0.1:5060") || len(ro.Maps) != 2 ||
		ro.Maps[1].To != netip.MustParseAddrPort("127.0.0.3:5070") || !ro.Rewrite || !ro.NewIDs || !ro.NewRTP ||
		ro.Speed != 0.5 || ro.Loops != 0 || strings.Join(ro.CallIDs, ",") != "abc,def" || ro.Filter.IsZero() ||
		got.format != "json" || !ro.AllowBroadcast || ro.Bind != netip.MustParseAddr("127.0.0.1") || ro.MaxSockets != 7 ||
		ro.Linger != 2*time.Second || ro.Spin != 0 || ro.Side != replay.SideCaller {
		t.Fatalf("options %+v / %+v", got, ro)
	}
	// defaults: one run at the original speed, both sides without --rewrite
	reached = false
	cmd = newCmdReplay(testIO(), func(o *replayOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--to", "127.0.0.1:5060"); err != nil {
		t.Fatal(err)
	}
	ro, _ = got.replayOpts()
	if ro.Loops != 1 || ro.Speed != 1 || ro.Side != replay.SideBoth || ro.Spin != replay.DefaultSpin || got.format != "text" {
		t.Fatalf("defaults %+v", ro)
	}
	rejects(t, func(reached *bool) *cobra.Command {
		return newCmdReplay(testIO(), func(*replayOptions) error { *reached = true; return nil })
	}, [][]string{
		{"--to", "127.0.0.1:5060"},               // no file
		{"a.pcap"},                               // no target
		{"-", "--to", "127.0.0.1:5060"},          // stdin cannot be read twice
		{"a.pcap", "--to", "x", "--speed", "0"},  // bad speed
		{"a.pcap", "--to", "x", "--loop", "-1"},  // bad loop
		{"a.pcap", "--to", "x", "--side", "uac"}, // bad side
		{"a.pcap", "--to", "x", "--filter", "code>"},
		{"a.pcap", "--to", "x", "--format", "csv"},
		{"a.pcap", "--to", "x", "--new-ids"}, // needs --rewrite
		{"a.pcap", "--to", "x", "--bind", "nowhere"},
	})
}

func TestReplayRunJSONSummary(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out, errOut bytes.Buffer
	o := &replayOptions{io: &ioStreams{Out: &out, ErrOut: &errOut},
		in: loadOptions{files: []string{filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")}},
		to: c.LocalAddr().String(), speed: "max", loop: 2, format: "json", maxSockets: 16}
	if err := replayRun(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var s replay.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if s.Runs != 2 || s.Counts.Sent != 2*375 || len(s.Targets) != 1 || s.Targets[0].Packets != 750 {
		t.Fatalf("summary %+v", s)
	}
	if !strings.Contains(errOut.String(), "run 2/2 100%") {
		t.Errorf("progress: %q", errOut.String())
	}
	if err := execOpts(t, newCmdReplay(testIO(), nil), new(bool), "nonexistent.pcap", "--to", "127.0.0.1:9"); err == nil {
		t.Error("a missing file is no error")
	}
}
