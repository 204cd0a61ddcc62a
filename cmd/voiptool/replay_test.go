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
		{"a.pcap", "--to", "x", "--pps", "10", "--speed", "2"},       // two timings
		{"a.pcap", "--iface", "eth0", "--mbps", "1", "--topspeed"},   // two timings
		{"a.pcap", "--to", "x", "--pps", "-1"},                       // negative rate
		{"a.pcap", "--iface", "eth0", "--to", "127.0.0.1:5060"},      // --to is for sockets
		{"a.pcap", "--iface", "eth0", "--rewrite"},                   // live peers answer sockets
		{"a.pcap", "--iface", "eth0", "--dst-mac", "02:00:00:00:00"}, // short MAC
		{"a.pcap", "--to", "x", "--dst-mac", "02:00:00:00:00:01"},    // MACs need --iface
		{"a.pcap", "--to", "x", "--new-rtp"},                         // needs --rewrite over sockets
		{"a.pcap", "--to", "x", "--only-voip"},                       // frames only
	})
}

func TestReplayFrameOptions(t *testing.T) {
	var got *replayOptions
	reached := false
	cmd := newCmdReplay(testIO(), func(o *replayOptions) error { got, reached = o, true; return nil })
	err := execOpts(t, cmd, &reached, "a.pcap", "--iface", "veth0", "--map", "10.0.0.1=10.9.0.1", "--src-mac", "02:00:00:00:00:01",
		"--dst-mac", "02:00:00:00:00:02", "--force", "--pps", "250", "--new-rtp", "--only-voip")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := got.replayOpts()
	if err != nil {
		t.Fatal(err)
	}
	if ro.Iface != "veth0" || ro.SrcMAC.String() != "02:00:00:00:00:01" || ro.DstMAC.String() != "02:00:00:00:00:02" ||
		!ro.Force || ro.PPS != 250 || ro.Mbps != 0 || !ro.NewRTP || ro.To.IsValid() || len(ro.Maps) != 1 || !ro.OnlyVoIP {
		t.Fatalf("options %+v", ro)
	}
	reached = false
	cmd = newCmdReplay(testIO(), func(o *replayOptions) error { got, reached = o, true; return nil })
	if err := execOpts(t, cmd, &reached, "a.pcap", "--iface", "veth0", "--topspeed"); err != nil {
		t.Fatal(err)
	}
	if ro, _ = got.replayOpts(); ro.Speed != 0 || ro.Iface != "veth0" {
		t.Fatalf("--topspeed: %+v", ro)
	}
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
