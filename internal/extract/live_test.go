package extract

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// liveSource hands a capture file's records to capture.Run as a live
// interface does: a LiveSource, read on a goroutine of its own, whose
// messages no file in Options.Files holds.
type liveSource struct{ r *pcap.Reader }

func (l liveSource) Next() ([]byte, pcap.Packet, error) { return l.r.Next() }

func (l liveSource) NextContext(ctx context.Context) ([]byte, pcap.Packet, error) {
	if err := ctx.Err(); err != nil {
		return nil, pcap.Packet{}, err
	}
	return l.r.Next()
}

func openLive(t *testing.T, name string) capture.Source {
	t.Helper()
	r, err := pcap.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return liveSource{r}
}

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "pcaps", name) }

// runSources runs e over srcs to their end.
func runSources(t *testing.T, e *engine.Engine, srcs ...capture.Source) {
	t.Helper()
	if _, err := e.Run(context.Background(), srcs, func(err error) { t.Logf("warning: %v", err) }); err != nil {
		t.Fatal(err)
	}
}

func callIDs(e *engine.Engine) []string {
	var ids []string
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		ids = append(ids, c.CallID)
	}
	return ids
}

// framedTransport is the transport a message framed from the store comes
// back with: the stream transports as TCP, SCTP as UDP.
func framedTransport(t sipflow.Transport) sipflow.Transport {
	switch t {
	case sipflow.TransportTLS, sipflow.TransportWS, sipflow.TransportWSS:
		return sipflow.TransportTCP
	case sipflow.TransportSCTP:
		return sipflow.TransportUDP
	}
	return t
}

// sameCalls checks that got holds the calls ids of want, and no other,
// with the same messages: method or code, CSeq, order, addresses, time,
// transport (as framed) and bytes.
func sameCalls(t *testing.T, want, got *engine.Engine, ids []string) int {
	t.Helper()
	if g := callIDs(got); len(g) != len(ids) {
		t.Fatalf("read back %d calls %v, want %d %v", len(g), g, len(ids), ids)
	}
	n := 0
	for _, id := range ids {
		w, _ := want.Store().Call(id)
		g, ok := got.Store().Call(id)
		if !ok {
			t.Errorf("call %s not read back", id)
			continue
		}
		if len(g.Messages) != len(w.Messages) {
			t.Errorf("call %s: %d messages read back, want %d", id, len(g.Messages), len(w.Messages))
			continue
		}
		for i := range w.Messages {
			wm, gm := w.Messages[i], g.Messages[i]
			if gm.Label() != wm.Label() || gm.CSeq != wm.CSeq || gm.CSeqMethod != wm.CSeqMethod ||
				gm.Meta.Src != wm.Meta.Src || gm.Meta.Dst != wm.Meta.Dst || !gm.Meta.Time.Equal(wm.Meta.Time) ||
				gm.Meta.Transport != framedTransport(wm.Meta.Transport) || gm.Raw != wm.Raw || gm.Retransmission != wm.Retransmission {
				t.Errorf("call %s message %d:\n got  %s CSeq %d %s %+v\n want %s CSeq %d %s %+v", id, i,
					gm.Label(), gm.CSeq, gm.CSeqMethod, gm.Meta, wm.Label(), wm.CSeq, wm.CSeqMethod, wm.Meta)
			}
		}
		n += len(w.Messages)
	}
	return n
}

// readBack runs a fresh engine over the saved file, as a file.
func readBack(t *testing.T, out string) *engine.Engine {
	t.Helper()
	e := engine.New(engine.Options{})
	runFiles(t, e, out)
	return e
}

// tsharkSIP counts the SIP messages tshark finds in a file (several in
// one TCP segment count each); the test skips without tshark.
func tsharkSIP(t *testing.T, file string, args ...string) int {
	t.Helper()
	bin, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not on PATH: the saved file is not checked with it")
	}
	cmd := exec.Command(bin, append([]string{"-n", "-r", file, "-Y", "sip", "-T", "fields", "-e", "sip.CSeq"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark: %v: %s", err, stderr.String())
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line != "" {
			n += strings.Count(line, ",") + 1
		}
	}
	return n
}

// records reads a saved file's records and the names of its interfaces.
func records(t *testing.T, file string) ([]pcap.Packet, [][]byte, []pcap.Interface) {
	t.Helper()
	r, err := pcap.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ps []pcap.Packet
	var ds [][]byte
	for {
		data, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		ds = append(ds, append([]byte(nil), data...))
	}
	return ps, ds, r.Interfaces()
}

// TestSaveLive saves the calls of captures read as a live interface:
// every message is framed from the store, and the saved file read back
// as a file gives the same calls, message for message; tshark finds the
// same SIP messages. TCP (three responses in one segment) comes back
// reassembled, WebSocket as TCP, SCTP as UDP, HEP with the addresses
// its chunks named.
func TestSaveLive(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tshark []string // extra tshark arguments: the plaintext WebSocket port as SIP
	}{
		{name: "basic-call.pcap"},
		{name: "calls-mixed.pcap"},
		{name: "tcp-multi-message.pcap"},
		{name: "tcp-split-message.pcap"},
		{name: "websocket.pcap", tshark: []string{"-d", "tcp.port==8088,sip"}},
		{name: "sctp-sip.pcap"},
		{name: "hep3-in-udp.pcap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := engine.New(engine.Options{})
			runSources(t, e, openLive(t, fixture(tc.name)))
			ids := callIDs(e)
			if len(ids) == 0 {
				t.Fatal("no call in the fixture")
			}
			out := filepath.Join(t.TempDir(), "live.pcapng")
			n, err := Pcap(context.Background(), e, ids, out, Options{})
			if err != nil {
				t.Fatal(err)
			}
			msgs := sameCalls(t, e, readBack(t, out), ids)
			if n != msgs {
				t.Errorf("wrote %d packets for %d messages: one frame each", n, msgs)
			}
			ps, _, ifs := records(t, out)
			if len(ps) != n {
				t.Errorf("file holds %d records, Pcap said %d", len(ps), n)
			}
			for i := 1; i < len(ps); i++ {
				if ps[i].Timestamp.Before(ps[i-1].Timestamp) {
					t.Errorf("record %d at %v before record %d at %v", i+1, ps[i].Timestamp, i, ps[i-1].Timestamp)
				}
			}
			if len(ifs) != 1 || ifs[0].LinkType != pcap.LinkTypeEthernet || !strings.Contains(ifs[0].Name, "framed from the store") {
				t.Errorf("interfaces %+v: want one Ethernet interface named as framed", ifs)
			}
			if got := tsharkSIP(t, out, tc.tshark...); got != msgs {
				t.Errorf("tshark finds %d SIP messages in the saved file, the store has %d", got, msgs)
			}
		})
	}
}

// writeCapture writes the records ps, ds to a classic pcap file at path,
// gzipped when path ends in ".gz", and returns path.
func writeCapture(t *testing.T, path string, ps []pcap.Packet, ds [][]byte) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(f)
		out = zw
	}
	w, err := pcap.NewWriter(out, pcap.WriterOptions{LinkType: ps[0].LinkType})
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if err := w.WritePacket(ps[i], ds[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// mixedCall runs an engine (eo, with the file added to its Files) over
// basic-call.pcap split after its 8th record, the INVITE's 100 Trying:
// the records before it in the file dir/first (gzipped when its name
// ends in .gz), the rest (180, 200, ACK, RTP, BYE) read as a live
// interface. It returns the engine, the file's path and the fixture's
// records' bytes.
func mixedCall(t *testing.T, dir, first string, eo engine.Options) (*engine.Engine, string, [][]byte) {
	t.Helper()
	ps, ds, _ := records(t, fixture("basic-call.pcap"))
	const cut = 8
	path := writeCapture(t, filepath.Join(dir, first), ps[:cut], ds[:cut])
	rest := writeCapture(t, filepath.Join(dir, "rest.pcap"), ps[cut:], ds[cut:])
	fr, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fr.Close() })
	eo.Files = append(eo.Files, path)
	e := engine.New(eo)
	runSources(t, e, fr, openLive(t, rest))
	return e, path, ds
}

// inviteCall is the summary of e's INVITE dialog (the last, if several).
func inviteCall(e *engine.Engine) sipflow.CallSummary {
	var call sipflow.CallSummary
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		if c.Type == sipflow.TypeCall {
			call = c
		}
	}
	return call
}

// TestSaveLiveMixed: a call whose first messages come from a file and
// the rest from a live interface is saved with both, in time order: the
// file's records byte for byte, the live messages framed.
func TestSaveLiveMixed(t *testing.T) {
	dir := t.TempDir()
	e, first, ds := mixedCall(t, dir, "first.pcap", engine.Options{})
	call := inviteCall(e).CallID
	d, _ := e.Store().Call(call)
	fromFile := 0
	for _, m := range d.Messages {
		if m.Meta.Source == 0 {
			fromFile++
		}
	}
	if fromFile == 0 || fromFile == len(d.Messages) {
		t.Fatalf("%d of %d messages from the file: the call does not mix sources", fromFile, len(d.Messages))
	}
	out := filepath.Join(dir, "mixed.pcapng")
	n, err := Pcap(context.Background(), e, []string{call}, out, Options{Files: []string{first}})
	if err != nil || n != len(d.Messages) {
		t.Fatalf("saved %d packets, %v; want %d", n, err, len(d.Messages))
	}
	sameCalls(t, e, readBack(t, out), []string{call})
	got, data, ifs := records(t, out)
	for i := 1; i < len(got); i++ {
		if got[i].Timestamp.Before(got[i-1].Timestamp) {
			t.Errorf("record %d out of time order", i+1)
		}
	}
	for i, m := range d.Messages {
		if m.Meta.Source != 0 {
			continue
		}
		if !bytes.Equal(data[i], ds[m.Meta.Frame-1]) {
			t.Errorf("record %d is not the file's record %d", i+1, m.Meta.Frame)
		}
	}
	if len(ifs) != 2 || ifs[0].Name != "" || !strings.Contains(ifs[1].Name, "source 1") {
		t.Errorf("interfaces %+v: want the file's, unnamed, and one for source 1's framed messages", ifs)
	}
}

// TestSaveLiveMedia: media asked for a live call is not kept; the
// signalling is saved and the streams left out are counted.
func TestSaveLiveMedia(t *testing.T) {
	e := engine.New(engine.Options{})
	runSources(t, e, openLive(t, fixture("basic-call.pcap")))
	c := inviteCall(e)
	call, msgs := c.CallID, c.Messages
	streams := len(e.Streams(call))
	if streams != 2 {
		t.Fatalf("fixture: %d streams, want 2", streams)
	}
	out := filepath.Join(t.TempDir(), "media.pcapng")
	n, err := Pcap(context.Background(), e, []string{call}, out, Options{Media: true})
	if !errors.Is(err, ErrMediaNotKept) || !strings.Contains(err.Error(), "2 RTP stream(s) of 1 call(s)") {
		t.Errorf("err = %v, want ErrMediaNotKept counting 2 streams", err)
	}
	if n != msgs {
		t.Errorf("saved %d packets, want the %d SIP messages", n, msgs)
	}
	if ps, _, _ := records(t, out); len(ps) != msgs {
		t.Errorf("file holds %d records, want %d", len(ps), msgs)
	}
}

// TestSaveLiveSpilled: messages the engine keeps in its spill file are
// saved from it; once the spill file is gone nothing can be, and Pcap
// says how many messages were lost, leaving no file.
func TestSaveLiveSpilled(t *testing.T) {
	mem := engine.New(engine.Options{})
	runSources(t, mem, openLive(t, fixture("calls-mixed.pcap")))
	e := engine.New(engine.Options{SpillMax: engine.DefaultSpillMax, SpillDir: t.TempDir()})
	runSources(t, e, openLive(t, fixture("calls-mixed.pcap")))
	st := e.Status()
	if st.Spill.Messages == 0 || st.Spill.Messages != st.Store.Messages {
		t.Fatalf("spilled %d of %d messages", st.Spill.Messages, st.Store.Messages)
	}
	ids := callIDs(e)
	dir := t.TempDir()
	out := filepath.Join(dir, "spilled.pcapng")
	n, err := Pcap(context.Background(), e, ids, out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if msgs := sameCalls(t, mem, readBack(t, out), ids); n != msgs {
		t.Errorf("wrote %d packets for %d messages", n, msgs)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(dir, "gone.pcapng")
	n, err = Pcap(context.Background(), e, ids, gone, Options{})
	if n != 0 || !errors.Is(err, ErrNothingToSave) || !errors.Is(err, ErrMessagesNotSaved) ||
		!strings.Contains(err.Error(), "messages not saved: "+strconv.FormatUint(uint64(st.Store.Messages), 10)) {
		t.Errorf("after the spill file closed: %d packets, %v; want ErrNothingToSave and ErrMessagesNotSaved counting %d", n, err, st.Store.Messages)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Errorf("files left in the directory: %v (want the first save only)", left)
	}
}

// TestSaveLiveCancel: a save cancelled before or while it frames the
// messages returns ctx.Err() and leaves no file, not even its
// temporary one.
func TestSaveLiveCancel(t *testing.T) {
	e := engine.New(engine.Options{})
	runSources(t, e, openLive(t, fixture("calls-mixed.pcap")))
	ids := callIDs(e)
	for _, when := range []string{"before", "while framing"} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		o := Options{}
		if when == "before" {
			cancel()
		} else {
			// The last progress report is after gathering, before framing.
			o.Progress = func(p Progress) {
				if p.Calls == p.TotalCalls {
					cancel()
				}
			}
		}
		_, err := Pcap(ctx, e, ids, filepath.Join(dir, "c.pcapng"), o)
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", when, err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s: files left: %v", when, left)
		}
	}
}

// TestSaveLiveChunks: saving every call of a live capture loads their
// bytes a bounded chunk at a time; with a bound of one byte each call is
// a chunk of its own, and the file still holds every message, each
// call's in time order.
func TestSaveLiveChunks(t *testing.T) {
	e := engine.New(engine.Options{})
	runSources(t, e, openLive(t, fixture("calls-mixed.pcap")))
	ids := callIDs(e)
	if len(ids) < 3 {
		t.Fatalf("%d calls in the fixture", len(ids))
	}
	whole := filepath.Join(t.TempDir(), "whole.pcapng")
	nWhole, err := Pcap(context.Background(), e, ids, whole, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "chunks.pcapng")
	n, err := Pcap(context.Background(), e, ids, out, Options{maxHeld: 1})
	if err != nil {
		t.Fatal(err)
	}
	msgs := sameCalls(t, e, readBack(t, out), ids)
	if n != msgs || n != nWhole {
		t.Errorf("chunked save wrote %d packets, unchunked %d, for %d messages", n, nWhole, msgs)
	}
	// The unchunked file is in time order; the chunked one, call by call.
	ps, _, _ := records(t, whole)
	for i := 1; i < len(ps); i++ {
		if ps[i].Timestamp.Before(ps[i-1].Timestamp) {
			t.Errorf("unchunked: record %d out of time order", i+1)
		}
	}
	got := readBack(t, out)
	for _, id := range ids {
		d, _ := got.Store().Call(id)
		for i := 1; i < len(d.Messages); i++ {
			if d.Messages[i].Meta.Time.Before(d.Messages[i-1].Meta.Time) {
				t.Errorf("call %s: message %d out of time order", id, i+1)
			}
		}
	}
}

// writeAll holds at most its bound plus one call's bytes: each chunk it
// loads ends once the bound is reached.
func TestWriteAllBound(t *testing.T) {
	src, dst := netip.MustParseAddrPort("10.0.0.1:5060"), netip.MustParseAddrPort("10.0.0.2:5060")
	t0 := time.Unix(1767261600, 0)
	var ids []string
	byID := map[string][]synthMsg{}
	for i := range 50 {
		id := fmt.Sprintf("call-%d", i)
		ids = append(ids, id)
		for k := range 1 + i%4 {
			raw := fmt.Sprintf("OPTIONS sip:x SIP/2.0\r\nCall-ID: %s\r\nCSeq: %d OPTIONS\r\n\r\n", id, k+1)
			byID[id] = append(byID[id], synthMsg{meta: sipflow.Meta{Src: src, Dst: dst, Time: t0.Add(time.Duration(i*10+k) * time.Millisecond), Transport: sipflow.TransportUDP}, raw: raw})
		}
	}
	const bound = 300
	f := newFramer(nil, 1)
	f.maxHeld = bound
	// What writeAll holds when it asks for a call: the messages loaded
	// and not yet written (f.written counts those written), and the call.
	var sizes []int
	most, biggest := 0, 0
	load := func(ids []string) ([]synthMsg, error) {
		var out []synthMsg
		held := 0
		for _, n := range sizes[f.written:] {
			held += n
		}
		call := 0
		for _, id := range ids {
			for _, m := range byID[id] {
				sizes = append(sizes, len(m.raw))
				call += len(m.raw)
				out = append(out, m)
			}
		}
		most, biggest = max(most, held+call), max(biggest, call)
		return out, nil
	}
	fh, err := os.Create(filepath.Join(t.TempDir(), "x.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	n, err := f.writeAll(context.Background(), fh, nil, load, ids)
	if err != nil || n != len(sizes) {
		t.Fatalf("wrote %d of %d messages: %v", n, len(sizes), err)
	}
	if most >= bound+biggest || f.chunks < 10 {
		t.Errorf("held up to %d bytes in %d chunks; bound %d, biggest call %d bytes", most, f.chunks, bound, biggest)
	}
}

// TestSaveGzipFallbackCountsOnce: a call whose first messages come from
// a gzip file (not readable by offset: the save decodes the files again)
// and the rest live, saved after the spill file holding the live ones
// is gone: the file's records are saved, and each lost live message is
// counted once although the save loaded them before falling back.
func TestSaveGzipFallbackCountsOnce(t *testing.T) {
	dir := t.TempDir()
	e, gz, _ := mixedCall(t, dir, "first.pcap.gz", engine.Options{SpillMax: engine.DefaultSpillMax, SpillDir: t.TempDir()})
	call := inviteCall(e).CallID
	d, _ := e.Store().CallLocations(call)
	fromFile, live := 0, 0
	for _, m := range d.Messages {
		if m.Meta.Source == 0 {
			fromFile++
		} else {
			live++
		}
	}
	if fromFile == 0 || live == 0 {
		t.Fatalf("%d messages from the file, %d live: the call does not mix sources", fromFile, live)
	}
	if err := e.Close(); err != nil { // the live messages' bytes go with the spill file
		t.Fatal(err)
	}
	n, err := Pcap(context.Background(), e, []string{call}, filepath.Join(dir, "saved.pcapng"), Options{Files: []string{gz}})
	if n != fromFile || !errors.Is(err, ErrMessagesNotSaved) || !strings.Contains(err.Error(), fmt.Sprintf(": %d message(s) (%d whose bytes", live, live)) {
		t.Errorf("saved %d packets, %v; want the file's %d, and %d live messages counted once", n, err, fromFile, live)
	}
}
