package sipflow

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestFilterMatch(t *testing.T) {
	c := &CallSummary{
		CallID: "abc123@host", Type: TypeCall, State: StateRejected, From: "1001", FromDisplay: "Alice Smith",
		To: "1002", PAI: "+15551001", FinalCode: 486, Reason: "Busy Here", HangupBy: "",
		Methods: []string{"INVITE", "ACK"}, UserAgents: []string{"Yealink SIP-T46S", "Asterisk"},
		IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("192.168.1.7")},
		Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("192.168.1.7:5060"),
		SetupMS: -1, PDDMS: 120, DurationMS: -1, Messages: 5, Retransmissions: 1,
	}
	tests := []struct {
		expr string
		want bool
	}{
		{"", true},
		{"from~1001", true},
		{"from~alice", true}, // display name, case-insensitive
		{"from~5551", true},  // PAI
		{"from=100", false},
		{"from!~100", false},
		{"to~x", false},
		{"method=INVITE", true},
		{"method=invite", true},
		{"method=BYE", false},
		{"method!=BYE", true},
		{"state=REJECTED", true},
		{"state=rejected", true},
		{"state=in_call", false},
		{"state~REJ", true},
		{"code>=400", true},
		{"code>=487", false},
		{"code<487 and code>485", true},
		{"code=486", true},
		{"code!=486", false},
		{"ua~Yealink", true},
		{"ua~polycom", false},
		{"ua!~polycom", true},
		{"ip=10.0.0.1", true},
		{"ip=10.0.0.2", false},
		{"ip=192.168.0.0/16", true},
		{"ip~168.1", true},
		{"callid=abc123@host", true},
		{"callid~ABC", true},
		{`reason="Busy Here"`, true},
		{`reason~"busy h"`, true},
		{"pdd<=120 and setup<0", true},
		{"messages>4 && retrans=1", true},
		{"from~1001 and to~1003", false},
		{"from~1001 or to~1003", true},
		{"not from~1001 or code=486", true},
		{"not (from~1001 or code=486)", false},
		{"!(code=200)", true},
		{"from~1001 to~1002", true}, // juxtaposition is and
		{"(from~9 or to~1002) and (state=REJECTED || state=BUSY)", true},
		{"src~10.0.0.1:5060 and dst~192.168", true},
		{"type=CALL and hangup=\"\"", true},
		{"NOT FROM~1001 OR CODE=200", false},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.expr)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.expr, err)
			continue
		}
		if got := f.Match(c); got != tt.want {
			t.Errorf("%q.Match = %v, want %v", tt.expr, got, tt.want)
		}
		if f.String() != tt.expr {
			t.Errorf("String() = %q", f.String())
		}
	}
	f, _ := ParseFilter("from~1")
	if f.Match(nil) {
		t.Error("nil summary matched")
	}
}

func TestFilterErrors(t *testing.T) {
	tests := []struct {
		expr    string
		wantErr error
		offset  int
		column  string
	}{
		{"frm~1001", ErrFilterColumn, 0, "frm"},
		{"from~1001 and bogus=1", ErrFilterColumn, 14, "bogus"},
		{"code>=abc", ErrFilterValue, 6, "code"},
		{"code~4", ErrFilterSyntax, 4, "code"},
		{"from>1", ErrFilterSyntax, 4, "from"},
		{"state=ringingx", ErrFilterValue, 6, "state"},
		{"ip=10.0.0.300", ErrFilterValue, 3, "ip"},
		{"ip=10.0.0.0/33", ErrFilterValue, 3, "ip"},
		{"(from~1", ErrFilterSyntax, 0, ""},
		{"from~1)", ErrFilterSyntax, 6, ""},
		{"from", ErrFilterSyntax, 4, "from"},
		{"from~", ErrFilterSyntax, 5, "from"},
		{"from~1 and", ErrFilterSyntax, 10, ""},
		{"from~1 or or to~2", ErrFilterSyntax, 10, ""},
		{`reason="unterminated`, ErrFilterSyntax, 7, "reason"},
		{"not", ErrFilterSyntax, 3, ""},
		{"=5", ErrFilterSyntax, 0, ""},
	}
	for _, tt := range tests {
		_, err := ParseFilter(tt.expr)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%q: err %v, want %v", tt.expr, err, tt.wantErr)
			continue
		}
		var fe *FilterError
		if !errors.As(err, &fe) {
			t.Errorf("%q: not a *FilterError", tt.expr)
			continue
		}
		if fe.Offset != tt.offset || fe.Column != tt.column {
			t.Errorf("%q: offset %d column %q, want %d %q (%v)", tt.expr, fe.Offset, fe.Column, tt.offset, tt.column, err)
		}
	}
}

func TestFilterDepthBounded(t *testing.T) {
	if _, err := ParseFilter(strings.Repeat("(", 10000) + "code=1"); !errors.Is(err, ErrFilterSyntax) {
		t.Errorf("deep nesting: %v", err)
	}
	if _, err := ParseFilter(strings.Repeat("not ", 10000) + "code=1"); !errors.Is(err, ErrFilterSyntax) {
		t.Errorf("deep not: %v", err)
	}
}

func TestFilterMatchAllocs(t *testing.T) {
	f, err := ParseFilter("(from~alice or ua~yealink) and code>=400 and ip=10.0.0.0/8")
	if err != nil {
		t.Fatal(err)
	}
	c := &CallSummary{From: "1001", FromDisplay: "Alice", FinalCode: 486, UserAgents: []string{"x"}, IPs: []netip.Addr{netip.MustParseAddr("10.1.2.3")}}
	if n := testing.AllocsPerRun(100, func() { _ = f.Match(c) }); n != 0 {
		t.Errorf("Match allocs = %v", n)
	}
	if !f.Match(c) {
		t.Error("no match")
	}
}

func TestFilterProblem(t *testing.T) {
	bad := &CallSummary{CallID: "a", Problems: []Problem{{Code: "one-way-audio", Severity: SeverityError}, {Code: "high-loss", Severity: SeverityWarning}}}
	clean := &CallSummary{CallID: "b", Problems: []Problem{}}
	for _, c := range []struct {
		expr       string
		bad, clean bool
	}{
		{"problem", true, false},
		{"not problem", false, true},
		{"!problem", false, true},
		{"problem=one-way-audio", true, false},
		{"problem=ONE-WAY-AUDIO", true, false},
		{"problem=no-media", false, false},
		{"problem!=no-media", true, true},
		{"problem~loss", true, false},
		{"problem and callid=a", true, false},
		{"(problem) or callid=b", true, true},
		{"problem callid=b", false, false},
	} {
		f, err := ParseFilter(c.expr)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		if f.Match(bad) != c.bad || f.Match(clean) != c.clean {
			t.Errorf("%q: bad %v clean %v, want %v %v", c.expr, f.Match(bad), f.Match(clean), c.bad, c.clean)
		}
	}
	if _, err := ParseFilter("problem>3"); !errors.Is(err, ErrFilterSyntax) {
		t.Errorf("problem>3: %v, want a syntax error", err)
	}
}

// A bare word or a quoted string is free text on the call's names, IDs,
// addresses and user agents, as sngrep users type it in F7.
func TestFilterFreeText(t *testing.T) {
	c := &CallSummary{
		CallID: "abc123@host", Type: TypeCall, State: StateCompleted, From: "9055", FromDisplay: "Alice Smith",
		To: "1002", UserAgents: []string{"Yealink SIP-T46S"},
		IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")},
		Src: netip.MustParseAddrPort("10.0.0.1:5060"), Dst: netip.MustParseAddrPort("192.168.1.7:5060"),
	}
	for expr, want := range map[string]bool{
		"9055":                      true,
		"alice":                     true,
		`"alice smith"`:             true,
		"yealink":                   true,
		"abc123":                    true,
		"192.168.1.7":               true,
		"9056":                      false,
		"alice and state=COMPLETED": true,
		"alice and not 1002":        false,
		"bob or 9055":               true,
	} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		if got := f.Match(c); got != want {
			t.Errorf("%q matched %v, want %v", expr, got, want)
		}
	}
	// A word followed by an operator was meant as a column: the error
	// names it, lists the columns, and carries no Go package prefix.
	_, err := ParseFilter("frm = 1001")
	if err == nil || strings.Contains(err.Error(), "sipflow:") || !strings.Contains(err.Error(), `"frm"`) || !strings.Contains(err.Error(), "columns: from, to") {
		t.Errorf("unknown column error: %v", err)
	}
}
