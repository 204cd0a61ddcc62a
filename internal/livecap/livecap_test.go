package livecap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture/filter"
)

func TestExprFromArgs(t *testing.T) {
	if e, err := ExprFromArgs([]string{"udp", "port", "5060"}, ""); err != nil || e != "udp port 5060" {
		t.Errorf("words: %q %v", e, err)
	}
	f := filepath.Join(t.TempDir(), "filter")
	os.WriteFile(f, []byte("# SIP and media\nudp port 5060\n  or portrange 10000-20000\n"), 0o600)
	if e, err := ExprFromArgs(nil, f); err != nil || e != "udp port 5060 or portrange 10000-20000" {
		t.Errorf("-F: %q %v", e, err)
	}
	if _, err := ExprFromArgs([]string{"udp"}, f); !errors.Is(err, ErrFilter) {
		t.Errorf("both words and -F: %v", err)
	}
}

func TestCheck(t *testing.T) {
	w, err := Options{Ifaces: []string{"any", "lo"}, Expr: "udp port 5060"}.Check()
	if err != nil || len(w) != 1 || !strings.Contains(w[0], "ip[6:2] & 0x1fff != 0") {
		t.Errorf("port filter: warnings %q, %v", w, err)
	}
	if w, err := (Options{Ifaces: []string{"any"}, Expr: "host 10.0.0.1"}).Check(); err != nil || len(w) != 0 {
		t.Errorf("host filter: %q %v", w, err)
	}
	_, err = Options{Ifaces: []string{"any"}, Expr: "udp portrnge 5060"}.Check()
	// our compiler names the token; libpcap's message does not
	if !errors.Is(err, ErrFilter) || strings.Contains(err.Error(), "filter: filter:") || (!filter.LibpcapAvailable && !strings.Contains(err.Error(), "portrnge")) {
		t.Errorf("typo: %v", err)
	}
}

// The socket filter comes from libpcap in a -tags libpcap build (which
// accepts what our compiler does not, like `mpls`), from our
// compiler otherwise: one switch, tested both ways by CI's two builds.
func TestCompileFollowsBuild(t *testing.T) {
	_, err := Options{Ifaces: []string{"lo"}, Expr: "mpls and udp"}.Check()
	if filter.LibpcapAvailable {
		if err != nil {
			t.Errorf("libpcap build refused a libpcap expression: %v", err)
		}
		return
	}
	if !errors.Is(err, ErrFilter) {
		t.Errorf("pure-Go build: `mpls` is outside our subset, want ErrFilter, got %v", err)
	}
}
