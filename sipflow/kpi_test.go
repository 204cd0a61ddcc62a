package sipflow

import (
	"math"
	"testing"
	"time"
)

func TestKPIs(t *testing.T) {
	s := NewStore(StoreOptions{})
	inv := func(d dlg, ms, cseq int, branch string) step {
		return step{ms, true, d.req("INVITE", cseq, "", branch, "")}
	}
	a := dlg{callID: "A", fromTag: "a"}
	b := dlg{callID: "B", fromTag: "b"}
	c := dlg{callID: "C", fromTag: "c"}
	d := dlg{callID: "D", fromTag: "d"}
	e := dlg{callID: "E", fromTag: "e"}
	f := dlg{callID: "F", fromTag: "f"}
	g := dlg{callID: "G", fromTag: "g"}
	r := dlg{callID: "R", fromTag: "r"}
	run(s, []step{
		inv(a, 0, 1, "z9hG4bKa1"),
		{50, false, a.resp(401, "Unauthorized", "INVITE", 1, "x", "z9hG4bKa1", "", "")},
		inv(a, 100, 2, "z9hG4bKa2"),
		{600, false, a.resp(180, "Ringing", "INVITE", 2, "t", "z9hG4bKa2", "", "")},
		{2100, false, a.resp(200, "OK", "INVITE", 2, "t", "z9hG4bKa2", "", "")},
		inv(b, 0, 1, "z9hG4bKb"),
		{100, false, b.resp(486, "Busy Here", "INVITE", 1, "t", "z9hG4bKb", "", "")},
		inv(c, 0, 1, "z9hG4bKc"),
		{100, false, c.resp(302, "Moved", "INVITE", 1, "t", "z9hG4bKc", "", "")},
		inv(d, 0, 1, "z9hG4bKd"),
		{100, false, d.resp(503, "Service Unavailable", "INVITE", 1, "t", "z9hG4bKd", "", "")},
		inv(e, 0, 1, "z9hG4bKe"),
		{100, false, e.resp(100, "Trying", "INVITE", 1, "", "z9hG4bKe", "", "")},
		inv(f, 0, 1, "z9hG4bKf"),
		inv(f, 500, 1, "z9hG4bKf"), // retransmission
		{1000, false, f.resp(180, "Ringing", "INVITE", 1, "t", "z9hG4bKf", "", "")},
		{1500, true, f.req("CANCEL", 1, "", "z9hG4bKf", "")},
		{1600, false, f.resp(487, "Request Terminated", "INVITE", 1, "t", "z9hG4bKf", "", "")},
		inv(g, 0, 1, "z9hG4bKg"),
		{100, false, g.resp(603, "Decline", "INVITE", 1, "t", "z9hG4bKg", "", "")},
		{0, true, r.req("REGISTER", 1, "", "z9hG4bKr", "")},
		{10, false, r.resp(200, "OK", "REGISTER", 1, "t", "z9hG4bKr", "", "")},
	})
	s.ExpireBefore(t0.Add(time.Hour))
	k := s.KPIs(Filter{})
	// Hand-computed: 8 initial INVITE transactions (A twice), 1 challenge,
	// 1 redirect -> denominator 6.
	ints := []struct {
		name      string
		got, want int
	}{
		{"calls", k.Calls, 7}, {"dialogs", k.Dialogs, 8}, {"invites", k.Invites, 8},
		{"answered", k.Answered, 1}, {"auth", k.AuthChallenges, 1}, {"redirects", k.Redirects, 1},
		{"busy", k.Busy, 1}, {"terminated", k.Terminated, 1}, {"declined", k.Declined, 1},
		{"sd", k.SD, 1}, {"isa", k.ISA, 2}, {"retrans", k.Retransmissions, 1},
		{"INVITE", k.Methods["INVITE"], 8}, {"CANCEL", k.Methods["CANCEL"], 1}, {"REGISTER", k.Methods["REGISTER"], 1},
		{"200", k.Codes[200], 2}, {"180", k.Codes[180], 2}, {"401", k.Codes[401], 1}, {"100", k.Codes[100], 1},
		{"setup count", k.Setup.Count, 1}, {"setup min", int(k.Setup.Min), 2100}, {"setup max", int(k.Setup.Max), 2100},
		{"pdd count", k.PDD.Count, 2}, {"pdd min", int(k.PDD.Min), 600}, {"pdd max", int(k.PDD.Max), 1000},
	}
	for _, x := range ints {
		if x.got != x.want {
			t.Errorf("%s = %d, want %d", x.name, x.got, x.want)
		}
	}
	floats := []struct {
		name      string
		got, want float64
	}{
		{"ASR", k.ASR, 100.0 / 6}, {"NER", k.NER, 400.0 / 6}, {"SD%", k.SDPercent, 100.0 / 7},
		{"ISA%", k.ISAPercent, 200.0 / 7}, {"AHR", k.AHR, 2}, {"PDD avg", k.PDD.Avg, 800},
	}
	for _, x := range floats {
		if math.Abs(x.got-x.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", x.name, x.got, x.want)
		}
	}
	// a filter narrows the population
	fl, err := ParseFilter("state=BUSY or state=REJECTED")
	if err != nil {
		t.Fatal(err)
	}
	k2 := s.KPIs(fl)
	if k2.Calls != 3 || k2.Invites != 3 || k2.SD != 1 || k2.Busy != 1 || k2.Declined != 1 {
		t.Errorf("filtered %+v", k2)
	}
	if k0 := (&Store{}).KPIs(Filter{}); k0.Calls != 0 || k0.ASR != 0 {
		t.Errorf("empty store %+v", k0)
	}
}
