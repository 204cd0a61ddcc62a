package replay

import (
	"errors"
	"net/netip"
	"testing"
)

func TestParseMapAndTarget(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Map
		wantErr error
	}{
		{in: "10.0.0.1=127.0.0.1", want: Map{From: ap("10.0.0.1:0"), To: ap("127.0.0.1:0")}},
		{in: "10.0.0.1:5060=127.0.0.1:5070", want: Map{From: ap("10.0.0.1:5060"), To: ap("127.0.0.1:5070")}},
		{in: "[2001:db8::1]:5060=[::1]:5062", want: Map{From: ap("[2001:db8::1]:5060"), To: ap("[::1]:5062")}},
		{in: "2001:db8::1=::1", want: Map{From: ap("[2001:db8::1]:0"), To: ap("[::1]:0")}},
		{in: "10.0.0.1", wantErr: ErrBadMap},
		{in: "pbx.example=127.0.0.1", wantErr: ErrBadMap}, // the original side is never resolved
		{in: "10.0.0.1=127.0.0.1:99999", wantErr: ErrBadMap},
	} {
		got, err := ParseMap(tc.in)
		if !errors.Is(err, tc.wantErr) || (err == nil && got != tc.want) {
			t.Errorf("ParseMap(%q) = %v, %v; want %v, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	if a, err := ParseTarget("127.0.0.1:5060"); err != nil || a != ap("127.0.0.1:5060") {
		t.Errorf("ParseTarget = %v, %v", a, err)
	}
	if a, err := ParseTarget("localhost:5060"); err != nil || !a.Addr().IsLoopback() {
		t.Errorf("ParseTarget(localhost) = %v, %v", a, err)
	}
	for _, bad := range []string{"127.0.0.1", "127.0.0.1:0", ":5060", "x:y"} {
		if _, err := ParseTarget(bad); !errors.Is(err, ErrBadTarget) {
			t.Errorf("ParseTarget(%q) err = %v", bad, err)
		}
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestTargetLookup(t *testing.T) {
	r := &replayer{o: &Options{
		To: ap("127.0.0.1:9000"),
		Maps: []Map{
			{From: ap("10.0.0.1:0"), To: ap("127.0.0.2:0")},
			{From: ap("10.0.0.1:5060"), To: ap("127.0.0.3:5070")},
			{From: ap("10.0.0.9:0"), To: ap("127.0.0.4:7000")},
		},
	}}
	for _, tc := range []struct{ dst, want string }{
		{"10.0.0.1:5060", "127.0.0.3:5070"},   // address and port first
		{"10.0.0.1:40000", "127.0.0.2:40000"}, // address only keeps the port
		{"10.0.0.9:1", "127.0.0.4:7000"},
		{"192.0.2.1:5060", "127.0.0.1:9000"}, // the rest goes to --to
	} {
		if got, ok := r.target(ap(tc.dst)); !ok || got != ap(tc.want) {
			t.Errorf("target(%s) = %v, %v; want %s", tc.dst, got, ok, tc.want)
		}
	}
	r.o.To = netip.AddrPort{}
	if _, ok := r.target(ap("192.0.2.1:5060")); ok {
		t.Error("an unmapped destination without --to has a target")
	}
}

func TestCheckTargetRefusesBroadcast(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		allow   bool
		wantErr error
	}{
		{"127.0.0.1", false, nil},
		{"255.255.255.255", false, ErrBroadcast},
		{"239.1.2.3", false, ErrBroadcast},
		{"ff02::1", false, ErrBroadcast},
		{"239.1.2.3", true, nil},
		{"0.0.0.0", true, ErrBadTarget},
	} {
		if err := checkTarget(netip.MustParseAddr(tc.addr), tc.allow); !errors.Is(err, tc.wantErr) {
			t.Errorf("checkTarget(%s, %v) = %v, want %v", tc.addr, tc.allow, err, tc.wantErr)
		}
	}
}

func TestParseSide(t *testing.T) {
	for in, want := range map[string]Side{"": SideBoth, "both": SideBoth, "caller": SideCaller, "callee": SideCallee} {
		if got, err := ParseSide(in); err != nil || got != want {
			t.Errorf("ParseSide(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSide("uac"); err == nil {
		t.Error("ParseSide(uac) accepted")
	}
}
