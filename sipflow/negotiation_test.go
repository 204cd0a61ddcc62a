package sipflow

import (
	"strings"
	"testing"
)

// addrs lists the media endpoints of an SDP summary.
func addrs(ms []MediaSummary) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Addr.String()+" "+m.Dir)
	}
	return strings.Join(s, ",")
}

func TestNegotiations(t *testing.T) {
	a := func(port int, dir string) string { return sdpBody("10.0.0.1", port, dir) }
	b := func(port int, dir string) string { return sdpBody("10.0.0.2", port, dir) }
	type exch struct{ method, offer, answer string }
	cases := []struct {
		name          string
		steps         func(d dlg) []step
		want          []exch
		offer, answer string // summary
		codec         string
	}{
		{name: "auth retry: the challenged offer is not the answer", steps: func(d dlg) []step {
			return []step{
				{0, true, d.req("INVITE", 1, "", "z9hG4bK1", a(4000, "sendrecv"))},
				{10, false, d.resp(407, "Proxy Authentication Required", "INVITE", 1, "x", "z9hG4bK1", "", "")},
				{20, true, d.req("INVITE", 2, "", "z9hG4bK2", a(4000, "sendrecv"))},
				{900, false, d.resp(200, "OK", "INVITE", 2, "bt", "z9hG4bK2", b(6000, "sendrecv"), "")},
				{910, true, d.req("ACK-2xx", 2, "bt", "z9hG4bK3", "")},
			}
		}, want: []exch{{"INVITE", "10.0.0.1:4000 sendrecv", "10.0.0.2:6000 sendrecv"}},
			offer: "10.0.0.1:4000 sendrecv", answer: "10.0.0.2:6000 sendrecv", codec: "PCMA"},
		{name: "late offer: 2xx offers, ACK answers", steps: func(d dlg) []step {
			return []step{
				{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")},
				{900, false, d.resp(200, "OK", "INVITE", 1, "bt", "z9hG4bK1", b(6000, "sendrecv"), "")},
				{910, true, d.req("ACK-2xx", 1, "bt", "z9hG4bK3", a(4000, "sendrecv"))},
			}
		}, want: []exch{{"INVITE", "10.0.0.2:6000 sendrecv", "10.0.0.1:4000 sendrecv"}},
			offer: "10.0.0.2:6000 sendrecv", answer: "10.0.0.1:4000 sendrecv", codec: "PCMA"},
		{name: "early answer repeated by the 2xx, then re-INVITE from the callee, then a rejected UPDATE", steps: func(d dlg) []step {
			return []step{
				{0, true, d.req("INVITE", 1, "", "z9hG4bK1", a(4000, "sendrecv"))},
				{100, false, d.resp(183, "Session Progress", "INVITE", 1, "bt", "z9hG4bK1", b(6000, "sendrecv"), "")},
				{900, false, d.resp(200, "OK", "INVITE", 1, "bt", "z9hG4bK1", b(6000, "sendrecv"), "")},
				{910, true, d.req("ACK-2xx", 1, "bt", "z9hG4bK3", "")},
				{5000, false, d.req("INVITE", 101, "bt", "z9hG4bK4", b(6002, "sendonly"))},
				{5010, true, d.resp(200, "OK", "INVITE", 101, "bt", "z9hG4bK4", a(4000, "recvonly"), "")},
				{8000, true, d.req("UPDATE", 2, "bt", "z9hG4bK5", a(4004, "sendrecv"))},
				{8010, false, d.resp(488, "Not Acceptable Here", "UPDATE", 2, "bt", "z9hG4bK5", "", "")},
			}
		}, want: []exch{
			{"INVITE", "10.0.0.1:4000 sendrecv", "10.0.0.2:6000 sendrecv"},
			{"INVITE", "10.0.0.2:6002 sendonly", "10.0.0.1:4000 recvonly"},
		}, offer: "10.0.0.2:6002 sendonly", answer: "10.0.0.1:4000 recvonly", codec: "PCMA"},
		{name: "offer in a reliable 183, answer in the PRACK", steps: func(d dlg) []step {
			return []step{
				{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")},
				{100, false, d.resp(183, "Session Progress", "INVITE", 1, "bt", "z9hG4bK1", b(6000, "sendrecv"), "RSeq: 1\nRequire: 100rel\n")},
				{110, true, d.req("PRACK", 2, "bt", "z9hG4bK2", a(4000, "sendrecv"))},
				{120, false, d.resp(200, "OK", "PRACK", 2, "bt", "z9hG4bK2", "", "")},
			}
		}, want: []exch{{"INVITE", "10.0.0.2:6000 sendrecv", "10.0.0.1:4000 sendrecv"}},
			offer: "10.0.0.2:6000 sendrecv", answer: "10.0.0.1:4000 sendrecv", codec: "PCMA"},
		{name: "no answer: the offer is shown, no codec", steps: func(d dlg) []step {
			return []step{
				{0, true, d.req("INVITE", 1, "", "z9hG4bK1", a(4000, "sendrecv"))},
				{10, false, d.resp(486, "Busy Here", "INVITE", 1, "bt", "z9hG4bK1", "", "")},
			}
		}, offer: "10.0.0.1:4000 sendrecv"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := NewStore(StoreOptions{})
			d := dlg{callID: "neg-" + itoa(i), fromTag: "at"}
			run(s, c.steps(d))
			sum := one(t, s, d.callID)
			if len(sum.SDPHistory) != len(c.want) {
				t.Fatalf("%d exchanges, want %d: %+v", len(sum.SDPHistory), len(c.want), sum.SDPHistory)
			}
			for j, w := range c.want {
				n := sum.SDPHistory[j]
				if n.Method != w.method || addrs(n.Offer) != w.offer || addrs(n.Answer) != w.answer {
					t.Errorf("exchange %d: %s %q / %q, want %s %q / %q", j, n.Method, addrs(n.Offer), addrs(n.Answer), w.method, w.offer, w.answer)
				}
				if n.AnswerTime.Before(n.OfferTime) {
					t.Errorf("exchange %d answered before offered", j)
				}
			}
			if addrs(sum.Offer) != c.offer || addrs(sum.Answer) != c.answer || sum.Codec != c.codec {
				t.Errorf("summary %q / %q codec %q, want %q / %q %q", addrs(sum.Offer), addrs(sum.Answer), sum.Codec, c.offer, c.answer, c.codec)
			}
		})
	}
}

// TestCodecConfirmedByRTP: the answer lists PCMA then PCMU; RTP carrying
// PCMU makes PCMU the call's codec.
func TestCodecConfirmedByRTP(t *testing.T) {
	s := NewStore(StoreOptions{})
	d := dlg{callID: "codec-1", fromTag: "at"}
	run(s, []step{
		{0, true, d.req("INVITE", 1, "", "z9hG4bK1", sdpBody("10.0.0.1", 4000, "sendrecv"))},
		{900, false, d.resp(200, "OK", "INVITE", 1, "bt", "z9hG4bK1", sdpBody("10.0.0.2", 6000, "sendrecv"), "")},
	})
	if c := one(t, s, d.callID).Codec; c != "PCMA" {
		t.Fatalf("codec %q before RTP, want the answer's first, PCMA", c)
	}
	s.SetStreams(d.callID, []Stream{{Codec: "PCMU", Packets: 10}})
	if c := one(t, s, d.callID).Codec; c != "PCMU" {
		t.Fatalf("codec %q, want PCMU as the RTP carries", c)
	}
}
