package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/internal/pcapgen"
)

// TestReassemblyBudgetReported: many TCP connections each holding a
// partial SIP message past the reassembly share of --max-memory evict the
// oldest, and the summary says how many and how many bytes; the
// default budget holds them all and says nothing.
func TestReassemblyBudgetReported(t *testing.T) {
	const conns, partial = 40, 10_000
	srv := netip.MustParseAddrPort("192.0.2.1:5060")
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var recs []pcapgen.Record
	add := func(cli netip.AddrPort, s pcapgen.Segment) {
		ip := pcapgen.TCP(cli, srv, uint16(len(recs)), s)
		recs = append(recs, pcapgen.Record{Time: t0.Add(time.Duration(len(recs)) * time.Millisecond), Data: pcapgen.Ethernet(ip, true)})
	}
	for i := range conns {
		cli := netip.AddrPortFrom(netip.MustParseAddr("198.51.100.7"), uint16(20000+i))
		add(cli, pcapgen.Segment{Seq: 99, Flags: pcapgen.FlagSYN})
		head := fmt.Sprintf("REGISTER sip:example.com SIP/2.0\r\nCall-ID: held-%d\r\nCSeq: 1 REGISTER\r\nX-Pad: ", i)
		add(cli, pcapgen.Segment{Seq: 100, Flags: pcapgen.FlagACK | pcapgen.FlagPSH,
			Payload: []byte(head + strings.Repeat("x", partial-len(head)))})
	}
	path := filepath.Join(t.TempDir(), "held.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pcapgen.WritePcap(f, layers.LinkTypeEthernet, false, recs); err != nil {
		t.Fatal(err)
	}
	f.Close()

	// 1 MiB gives reassembly 128 KiB: 13 of the 40 partial messages.
	code, _, stderr := runCmd(t, "calls", "--max-memory", "1MiB", path)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`(\d+) TCP directions evicted to keep reassembly inside its memory budget \(an eighth of --max-memory\), (\d+) TCP bytes of partial messages`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("no eviction line in the summary:\n%s", stderr)
	}
	n, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	if n < conns-128<<10/partial || n >= conns || b != n*partial {
		t.Fatalf("%d directions and %d bytes evicted of %d holding %d each:\n%s", n, b, conns, partial, stderr)
	}
	if _, _, stderr := runCmd(t, "calls", path); strings.Contains(stderr, "evicted to keep reassembly") {
		t.Fatalf("the default budget evicted:\n%s", stderr)
	}
}
