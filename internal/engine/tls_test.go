package engine

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/capture/tlsdec"
	"github.com/voiptool/voiptool/pcap"
)

// Each ended TLS connection that was not fully decrypted is kept with
// its reasons, as data (for JSON and the UI) and in the status line.
func TestTLSFailureReasons(t *testing.T) {
	dir := filepath.Join("..", "..", "capture", "tlsdec", "testdata")
	run := func(keys *tlsdec.KeyLog) *Engine {
		r, err := pcap.Open(filepath.Join(dir, "tls13-aes128gcm.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		o := Options{}
		o.Capture.Stream.TLSKeys = keys
		hooked := 0
		o.Capture.Stream.OnTLSSession = func(c, s netip.AddrPort, st tlsdec.SessionStats) { hooked++ }
		e := New(o)
		if _, err := e.Run(context.Background(), []capture.Source{r}, nil); err != nil {
			t.Fatal(err)
		}
		if hooked != 1 {
			t.Errorf("the caller's hook ran %d times", hooked)
		}
		return e
	}
	// A key log without this connection's secrets: "no key".
	e := run(tlsdec.NewKeyLog(tlsdec.KeyLogOptions{}))
	rep := e.TLS()
	if len(rep.Failed) != 1 || rep.ByReason[tlsdec.ReasonNoKey] != 1 || rep.Dropped != 0 {
		t.Fatalf("report %+v", rep)
	}
	f := rep.Failed[0]
	if f.Reason != "no_key" || f.Version != "TLS 1.3" || f.Suite != 0x1301 || f.Server.Port() != 5061 || f.Decrypted != 0 || f.Reasons["no_key"] == 0 {
		t.Errorf("session %+v", f)
	}
	if st := e.Status(); st.TLSReasons != "no key 1" || !strings.Contains(st.String(), "1 TLS connections decrypted, 1 of them not fully (no key 1)") {
		t.Errorf("status %q: %s", st.TLSReasons, st)
	}
	// With the key: counted as decrypted, not listed.
	b, err := os.ReadFile(filepath.Join(dir, "tls13-aes128gcm.keylog"))
	if err != nil {
		t.Fatal(err)
	}
	keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
	keys.ReadFrom(strings.NewReader(string(b)))
	e = run(keys)
	if rep := e.TLS(); len(rep.Failed) != 0 || rep.ByReason[tlsdec.ReasonNone] != 1 || e.Status().TLSReasons != "" {
		t.Errorf("decrypted: %+v", rep)
	}
}

// The list keeps the most recent MaxTLSFailures sessions and counts the rest.
func TestTLSFailuresBounded(t *testing.T) {
	var l tlsLog
	for i := range MaxTLSFailures + 10 {
		st := tlsdec.SessionStats{Reason: tlsdec.ReasonGap, Suite: uint16(i)}
		l.add(netip.AddrPort{}, netip.AddrPort{}, st)
	}
	r := l.report()
	if len(r.Failed) != MaxTLSFailures || r.Dropped != 10 || r.Failed[0].Suite != 10 || r.Failed[MaxTLSFailures-1].Suite != MaxTLSFailures+9 || r.ByReason[tlsdec.ReasonGap] != MaxTLSFailures+10 {
		t.Errorf("%d kept, %d dropped, first %d, last %d", len(r.Failed), r.Dropped, r.Failed[0].Suite, r.Failed[len(r.Failed)-1].Suite)
	}
}

// A re-read with the engine's capture options (saving calls) does not
// count the TLS connections again.
func TestCaptureOptionsDoNotRecountTLS(t *testing.T) {
	e := New(Options{})
	o := e.CaptureOptions()
	if o.Stream.OnTLSSession != nil {
		o.Stream.OnTLSSession(netip.AddrPort{}, netip.AddrPort{}, tlsdec.SessionStats{Reason: tlsdec.ReasonGap})
	}
	if r := e.TLS(); r.ByReason[tlsdec.ReasonGap] != 0 || len(r.Failed) != 0 {
		t.Errorf("a re-read counted: %+v", r)
	}
}
