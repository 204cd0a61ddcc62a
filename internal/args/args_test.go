package args

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/sipflow"
)

// store builds a real call store holding one OPTIONS dialog per Call-ID.
func store(t *testing.T, ids ...string) *sipflow.Store {
	t.Helper()
	s := sipflow.NewStore(sipflow.StoreOptions{})
	for _, id := range ids {
		raw := "OPTIONS sip:a@x SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK" + id + "\r\nFrom: <sip:b@x>;tag=1\r\nTo: <sip:a@x>\r\n" +
			"Call-ID: " + id + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
		if s.Add([]byte(raw), sipflow.Meta{}) == nil {
			t.Fatalf("store refused %s", id)
		}
	}
	return s
}

func TestResolveCallID(t *testing.T) {
	s := store(t, "abc-1@h", "abc-2@h", "xyz@h", "xy")
	for _, tt := range []struct {
		in, want string
		err      error
	}{
		{"xyz@h", "xyz@h", nil},
		{"xy", "xy", nil}, // whole Call-ID wins over being a prefix of xyz@h
		{"abc-1", "abc-1@h", nil},
		{"abc", "", ErrAmbiguous},
		{"nope", "", ErrNoCall},
	} {
		got, err := ResolveCallID(s, tt.in)
		if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
			t.Errorf("ResolveCallID(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseAliases(t *testing.T) {
	m, err := ParseAliases([]string{"10.0.0.1=pbx", " 2001:db8::1 = sbc "})
	if err != nil || m[netip.MustParseAddr("10.0.0.1")] != "pbx" || m[netip.MustParseAddr("2001:db8::1")] != "sbc" {
		t.Errorf("aliases %v, %v", m, err)
	}
	for _, bad := range []string{"pbx", "10.0.0.1=", "host=pbx"} {
		if _, err := ParseAliases([]string{bad}); !errors.Is(err, ErrBadAlias) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestCallsOnly(t *testing.T) {
	if CallsOnly("") != "type=CALL" || CallsOnly("from~1 or to~2") != "type=CALL and (from~1 or to~2)" {
		t.Error(CallsOnly(""), CallsOnly("from~1 or to~2"))
	}
	if _, err := sipflow.ParseFilter(CallsOnly("from~1 or to~2")); err != nil {
		t.Error(err)
	}
}
