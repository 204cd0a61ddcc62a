package siplex

import "testing"

func TestStartLines(t *testing.T) {
	for _, tc := range []struct {
		line        string
		status, req bool
		method, uri string
	}{
		{"SIP/2.0 200 OK", true, false, "", ""},
		{"sip/2.0 180", true, false, "", ""},
		{"SIP/2.0 20 OK", false, false, "", ""},
		{"SIP/2.0 2000 OK", false, false, "", ""},
		{"SIP/2.0  200 OK", false, false, "", ""},
		{"INVITE sip:bob@h SIP/2.0", false, true, "INVITE", "sip:bob@h"},
		{"OPTIONS sip:x sip/2.0", false, true, "OPTIONS", "sip:x"},
		{"INVITE a b SIP/2.0", false, true, "INVITE", "a b"},
		{"INVITE  SIP/2.0", false, false, "", ""},
		{"INVITE SIP/2.0", false, false, "", ""},
		{"IN(VITE sip:x SIP/2.0", false, false, "", ""},
		{" INVITE sip:x SIP/2.0", false, false, "", ""},
		{"GET / HTTP/1.1", false, false, "", ""},
	} {
		if got := StatusLine([]byte(tc.line)); got != tc.status {
			t.Errorf("StatusLine(%q) = %v", tc.line, got)
		}
		m, u, ok := RequestLine([]byte(tc.line))
		if ok != tc.req || string(m) != tc.method || string(u) != tc.uri {
			t.Errorf("RequestLine(%q) = %q %q %v", tc.line, m, u, ok)
		}
	}
}

func TestSplitHeader(t *testing.T) {
	for _, tc := range []struct {
		line, name, value string
		ok                bool
	}{
		{"Content-Length: 12", "Content-Length", "12", true},
		{"l:12 \t", "l", "12", true},
		{"Via :  SIP/2.0/UDP h\r\n x", "Via", "SIP/2.0/UDP h\r\n x", true},
		{": x", "", "", false},
		{"Bad Name: x", "", "", false},
		{"no colon", "", "", false},
	} {
		n, v, ok := SplitHeader([]byte(tc.line))
		if ok != tc.ok || string(n) != tc.name || string(v) != tc.value {
			t.Errorf("SplitHeader(%q) = %q %q %v", tc.line, n, v, ok)
		}
	}
}

func TestLexing(t *testing.T) {
	b := []byte("a\r\nb\nc")
	l, n, ok := NextLine(b, 0)
	if string(l) != "a" || n != 3 || !ok {
		t.Errorf("line 1: %q %d %v", l, n, ok)
	}
	l, n, ok = NextLine(b, n)
	if string(l) != "b" || n != 5 || !ok {
		t.Errorf("line 2: %q %d %v", l, n, ok)
	}
	l, n, ok = NextLine(b, n)
	if string(l) != "c" || n != 6 || ok {
		t.Errorf("line 3: %q %d %v", l, n, ok)
	}
	if !EqualFold([]byte("Call-ID"), "call-id") || EqualFold([]byte("Call-ID"), "Call-IE") || EqualFold([]byte("a"), "ab") {
		t.Error("EqualFold")
	}
	if !ContainsFold([]byte("RTP/SAVPF"), "savp") || ContainsFold([]byte("RTP/AVP"), "savp") {
		t.Error("ContainsFold")
	}
	if !IsToken('~') || IsToken('(') || IsToken(' ') {
		t.Error("IsToken")
	}
	if string(TrimLWS([]byte(" \t\r\nx y\r\n"))) != "x y" {
		t.Error("TrimLWS")
	}
}
