package sipflow

import (
	"bytes"
	"reflect"
	"testing"
)

// within reports whether sub is a sub-slice of b (shares its memory), the
// aliasing contract of Unmarshal.
func within(b, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if cap(sub) > cap(b) {
		return false
	}
	off := cap(b) - cap(sub)
	if off+len(sub) > len(b) {
		return false
	}
	return &b[:cap(b)][off] == &sub[0]
}

func fuzzSeeds(f *testing.F) {
	f.Add(withBody(inviteHead, sdpOffer))
	f.Add(withBody(wsinvHead, wsinvBody))
	f.Add(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;rport=1\nFrom: <sip:a@b>;tag=1\nTo: \"x\\\"y\" <sip:c@d>;tag=2\nCall-ID: x\nCSeq: 1 INVITE\nContent-Length: 3\n\nabc"))
	f.Add(crlf("INVITE sip:a@b SIP/2.0\nContent-Type: multipart/mixed;boundary=\"b\"\n\n--b\nContent-Type: application/sdp\n\nv=0\nm=audio 1 RTP/AVP 0\n--b--\n"))
	f.Add([]byte("\r\n\r\nX sip:[::1]:5 SIP/2.0\r\nv: SIP/2.0/UDP [::1]:5060\r\n f: , ,\r\nReason: Q.850;cause=\r\n\r\n"))
}

func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	var m Message // reused across inputs, as in the store
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := m.Unmarshal(b); err != nil {
			return
		}
		// every decoded value aliases the input
		for _, h := range m.Headers {
			if !within(b, h.Name) || !within(b, h.Value) {
				t.Fatalf("header %q not a sub-slice of the input", h.Name)
			}
		}
		for _, s := range [][]byte{m.Method, m.Version, m.Phrase, m.CallID, m.CSeqMethod, m.Body,
			m.From.Raw, m.From.Tag, m.From.Display, m.From.URI.Host, m.From.URI.User, m.To.Tag, m.RequestURI.Raw,
			m.ContentType, m.UserAgent, m.Reason.Text} {
			if !within(b, s) {
				t.Fatalf("field %q not a sub-slice of the input", s)
			}
		}
		for _, v := range m.Via {
			if !within(b, v.Branch) || !within(b, v.Host) {
				t.Fatal("via not a sub-slice")
			}
		}
		// decoding is deterministic and independent of the reused state
		var fresh Message
		if err := fresh.Unmarshal(b); err != nil {
			t.Fatal("fresh decode failed where reused one succeeded")
		}
		if fresh.Warnings != m.Warnings || len(fresh.Headers) != len(m.Headers) || !bytes.Equal(fresh.CallID, m.CallID) ||
			len(fresh.Via) != len(m.Via) || fresh.HasSDP != m.HasSDP || len(fresh.SDP.Media) != len(m.SDP.Media) {
			t.Fatalf("reused and fresh decodes differ: %v/%v", fresh.Warnings, m.Warnings)
		}
		// the store must accept anything the parser accepts
		var s Store
		s.Add(b, Meta{})
		s.Add(b, Meta{})
		if st := s.Stats(); st.Messages > 0 && st.Retransmissions != 1 {
			t.Fatalf("identical message twice: %+v", st)
		}
		_ = s.KPIs(Filter{})
	})
}

func FuzzSDP(f *testing.F) {
	f.Add([]byte(sdpOffer))
	f.Add([]byte(wsinvBody))
	f.Add([]byte("v=0\r\nc=IN IP6 ::1\r\nm=video 0/2 UDP/TLS/RTP/SAVPF 99\r\na=rtcp:9 IN IP6 ::2\r\na=rtpmap:99 H264/90000/1\r\na=inactive\r\n"))
	f.Add([]byte("v=0\nm=image 5 udptl t38\nc=IN IP4 0.0.0.0\na=sendonly\n"))
	var s SDP
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := s.Unmarshal(b); err != nil {
			return
		}
		for i := range s.Media {
			md := &s.Media[i]
			if !within(b, md.Type) || !within(b, md.Proto) || !within(b, md.Formats) {
				t.Fatal("media field not a sub-slice")
			}
			ep, ok := s.Endpoint(i)
			if ok && (ep.Port() != md.Port || md.Port == 0) {
				t.Fatalf("endpoint %v port %d", ep, md.Port)
			}
			_, _ = s.RTCPEndpoint(i)
			_ = s.Direction(i)
			_ = s.Secure(i)
			for _, pt := range md.Payloads {
				_ = s.Codec(i, pt)
			}
		}
		_ = s.OnHold()
		// a call's compact records give back the summaries, shared
		// shape or its own, narrow or wide
		want := summarizeSDP(&s, &interner{}, &strLists{})
		for _, full := range []bool{false, true} {
			st := NewStore(StoreOptions{})
			if full {
				st.lists.n = maxStrLists // no shared codec list: shapes of the call's own
			}
			c := &call{msgs: []storedMsg{{flags: fSDP}}}
			c.addMedia(&s, 0, st)
			if got := c.sdpOf(0, nil); !reflect.DeepEqual(got, want) {
				t.Fatalf("records give back\n%+v\nwant\n%+v", got, want)
			}
		}
	})
}

func FuzzFilter(f *testing.F) {
	for _, s := range []string{"from~1001", "to~x and (code>=400 or not state=REJECTED)", `reason="a \" b"`,
		"ip=10.0.0.0/8 || ua!~yealink", "!(method=INVITE) messages>3", "((", "code>=", "state=in_call"} {
		f.Add(s)
	}
	c := &CallSummary{From: "1001", State: StateInCall, FinalCode: 200, Methods: []string{"INVITE"}, UserAgents: []string{"Yealink"}}
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := ParseFilter(s)
		if err != nil {
			if fe, ok := err.(*FilterError); !ok || fe.Offset < 0 || fe.Offset > len(s) {
				t.Fatalf("error %v has a bad offset", err)
			}
			return
		}
		got := fl.Match(c)
		// a parsed filter, printed back, parses to the same decision
		fl2, err := ParseFilter(fl.String())
		if err != nil || fl2.Match(c) != got {
			t.Fatalf("reparse of %q: %v", s, err)
		}
		// not(f) is the complement
		if len(s) < 200 {
			if nf, err := ParseFilter("not (" + s + ")"); err == nil && nf.Match(c) == got {
				t.Fatalf("not(%q) did not negate", s)
			}
		}
	})
}

// FuzzUnmarshalBody is differential: UnmarshalBody (the classifier's
// cheap mode) finds the same body, content type and length, and SDP
// media endpoints as Unmarshal.
func FuzzUnmarshalBody(f *testing.F) {
	sdp := "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:4005 IN IP4 192.0.2.9\r\n"
	f.Add([]byte("INVITE sip:b@h SIP/2.0\r\nContact: <sip:a@h>\r\nContent-Type: application/sdp\r\nl: 99\r\n\r\n" + sdp))
	f.Add([]byte("SIP/2.0 200 OK\r\nc: multipart/mixed;boundary=xx\r\n\r\n--xx\r\nContent-Type: application/sdp\r\n\r\n" + sdp + "--xx--\r\n"))
	f.Add([]byte("SIP/2.0 200 OK\r\n\r\n" + sdp))
	f.Fuzz(func(t *testing.T, b []byte) {
		var full, body Message
		e1, e2 := full.Unmarshal(b), body.UnmarshalBody(b)
		if (e1 == nil) != (e2 == nil) || !bytes.Equal(full.Body, body.Body) || !bytes.Equal(full.ContentType, body.ContentType) ||
			full.ContentLength != body.ContentLength || full.HasSDP != body.HasSDP || len(full.SDP.Media) != len(body.SDP.Media) {
			t.Fatalf("modes disagree: %v/%v body %q/%q", e1, e2, full.Body, body.Body)
		}
		for i := range full.SDP.Media {
			a1, ok1 := full.SDP.Endpoint(i)
			a2, ok2 := body.SDP.Endpoint(i)
			r1, _ := full.SDP.RTCPEndpoint(i)
			r2, _ := body.SDP.RTCPEndpoint(i)
			if a1 != a2 || ok1 != ok2 || r1 != r2 {
				t.Fatalf("media %d: %v %v / %v %v", i, a1, r1, a2, r2)
			}
		}
	})
}
