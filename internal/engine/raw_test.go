package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/testpeer"
	"github.com/voiptool/voiptool/sipflow"
)

// rawFixtures are captures whose SIP travels every way the decoder
// knows: plain UDP, link types, tunnels, VLANs, IPv6, fragments, TCP in
// one and several segments, WebSocket, SCTP, HEP, pcapng sections.
var rawFixtures = []string{
	"basic-call.pcap", "calls-mixed.pcap", "hep3-in-udp.pcap", "ipv4-frag-invite.pcap", "ipv6-frag-invite.pcap",
	"ipv6-ext-headers.pcap", "link-raw101.pcap", "link-sll2.pcap", "pcapng-two-sections.pcapng", "pcap-bigendian.pcap",
	"sctp-sip.pcap", "tcp-multi-message.pcap", "tcp-split-message.pcap", "tcp-out-of-order-retrans.pcap",
	"tunnels-vxlan.pcap", "tunnels-erspan3.pcap", "vlan-qinq.pcap", "websocket.pcap", "gzip-basic.pcap.gz",
}

var rawCorpus = []string{
	"sip-websocket-tcp-plus-udp.pcap", "sip-tcp-port6060-segmented-486-487-cancel-prack-update.pcap",
	"sip-ipv6-frag-sll-forked-prack-update.pcap", "hep3-udp9060-sll-compressed.pcapng", "sip-erspan-gre-subscribe-notify-refer-hold.pcapng",
	"sip-udp-register-invite-cancel-auth-noisy.pcap", "sip-sctp-sll.pcap",
}

// details runs files through an engine and returns every call's detail.
func details(t *testing.T, o Options, files ...string) map[string]sipflow.CallDetail {
	t.Helper()
	e := New(o)
	runFiles(t, e, files...)
	out := map[string]sipflow.CallDetail{}
	for _, c := range e.Calls(sipflow.Filter{}, 0, -1) {
		d, ok := e.Call(c.CallID)
		if !ok {
			t.Fatalf("call %s listed but not found", c.CallID)
		}
		out[c.CallID] = d
	}
	return out
}

// fixtureFiles are the fixtures whose SIP travels every way (UDP,
// fragments, TCP, WebSocket, SCTP, HEP), and the corpus captures found:
// the re-read tests read them from their files, the spill tests without
// Options.Files (no source re-readable, as on a live capture or stdin).
func fixtureFiles(t *testing.T) []string {
	var files []string
	for _, f := range rawFixtures {
		files = append(files, filepath.Join("..", "..", "testdata", "pcaps", f))
	}
	for _, f := range rawCorpus {
		if p := corpusOrEmpty(t, f); p != "" {
			files = append(files, p)
		}
	}
	return files
}

// TestRawReread: with Options.Files the store keeps messages that lie
// whole in one record only as a location and re-reads them when a call
// is opened; every message's bytes, and everything else in the detail,
// must be what an engine holding every message gives.
func TestRawReread(t *testing.T) {
	files := fixtureFiles(t)
	reread := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			mem := details(t, Options{}, f)
			e := New(Options{Files: []string{f}})
			runFiles(t, e, f)
			sameDetails(t, e, mem)
			st := e.Store().Stats()
			mst := New(Options{})
			runFiles(t, mst, f)
			if held := mst.Store().Stats().Bytes; st.Bytes > held {
				t.Errorf("re-reading holds %d bytes, more than the %d held in memory", st.Bytes, held)
			} else if st.Bytes < held {
				reread++
			}
		})
	}
	if reread == 0 {
		t.Error("no capture had a message re-read instead of held")
	}
}

// TestRawRereadChangedFile: a capture changed after it was read gives
// an error for the message, never another message's bytes.
func TestRawRereadChangedFile(t *testing.T) {
	src := filepath.Join("..", "..", "testdata", "pcaps", "basic-call.pcap")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "basic.pcap")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e := New(Options{Files: []string{f}})
	runFiles(t, e, f)
	calls := e.Calls(sipflow.Filter{}, 0, -1)
	if len(calls) == 0 {
		t.Fatal("no call")
	}
	d, _ := e.Call(calls[0].CallID)
	if d.Messages[0].Raw == "" || d.Messages[0].RawError != "" {
		t.Fatalf("message not re-read before the change: %s", d.Messages[0].RawError)
	}
	method := d.Messages[0].Method
	for i := range b {
		if b[i] == 'E' { // REGISTER -> RXGISTXR, INVITE -> INVITX, ...
			b[i] = 'X'
		}
	}
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	d, _ = e.Call(calls[0].CallID)
	m := d.Messages[0]
	if m.Raw != "" || m.RawError == "" {
		t.Fatalf("changed file: raw %q error %q, want no bytes and an error", m.Raw, m.RawError)
	}
	if m.Method != method || d.Summary.Messages != len(d.Messages) {
		t.Errorf("what the store kept is lost: method %q", m.Method)
	}
	if !strings.HasPrefix(m.RawError, sipflow.ErrRawGone.Error()) {
		t.Errorf("error %q does not say the message is not re-readable", m.RawError)
	}
}

// corpusOrEmpty is a corpus file's path, or "" when the corpus is absent.
func corpusOrEmpty(t *testing.T, name string) string {
	var p string
	t.Run("find-"+name, func(t *testing.T) { p = testpeer.CorpusFile(t, name) })
	return p
}

// TestBindHandle: an engine fed through Handle (hep-forward, replay's
// selection) locates the messages of its Files once Bind names the
// sources, as Run does, instead of copying every one into memory; the
// calls read back the same. Without Bind the files were never bound.
func TestBindHandle(t *testing.T) {
	f := filepath.Join("..", "..", "testdata", "pcaps", rawFixtures[0])
	mem := details(t, Options{}, f)
	handled := func(bind bool) *Engine {
		e := New(Options{Files: []string{f}})
		t.Cleanup(func() { e.Close() })
		srcs := testpeer.Sources(t, f)
		if bind {
			e.Bind(srcs)
		}
		if _, err := capture.Run(context.Background(), srcs, capture.Options{}, nil, e.Handle); err != nil {
			t.Fatal(err)
		}
		e.Flush()
		return e
	}
	bound, unbound := handled(true), handled(false)
	sameDetails(t, bound, mem)
	if b, u := bound.Store().Stats().Bytes, unbound.Store().Stats().Bytes; b >= u {
		t.Errorf("bound engine holds %d bytes, unbound %d: messages not located in the file", b, u)
	}
}
