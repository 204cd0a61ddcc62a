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

func TestCutHeader(t *testing.T) {
	for _, tc := range []struct {
		line, name, value string
		ok, tokens        bool
	}{
		{"Content-Length: 12", "Content-Length", "12", true, true},
		{" Via :\tSIP/2.0/UDP h ", "Via", "SIP/2.0/UDP h", true, true},
		{"Bad Name: x", "Bad Name", "x", true, false},
		{"a(b): x", "a(b)", "x", true, false},
		{": x", "", "", false, false},
		{"  : x", "", "", false, false},
		{"no colon", "", "", false, false},
	} {
		n, v, ok := CutHeader([]byte(tc.line))
		if ok != tc.ok || string(n) != tc.name || string(v) != tc.value {
			t.Errorf("CutHeader(%q) = %q %q %v", tc.line, n, v, ok)
		}
		if ok && IsTokens(n) != tc.tokens {
			t.Errorf("IsTokens(%q) = %v", n, !tc.tokens)
		}
		// SplitHeader is CutHeader of a token name
		sn, sv, sok := SplitHeader([]byte(tc.line))
		if want := tc.ok && tc.tokens; sok != want || (want && (string(sn) != tc.name || string(sv) != tc.value)) {
			t.Errorf("SplitHeader(%q) = %q %q %v", tc.line, sn, sv, sok)
		}
	}
}

// TestEqualFoldWords covers every length EqualFold compares by words
// (4-7 in two halves, 8 and up in words with an overlapping last one),
// with a case difference or a mismatch at each position.
func TestEqualFoldWords(t *testing.T) {
	const base = "abcdefghij-klmnopqrstuvwxyz0123"
	for n := 0; n <= len(base); n++ {
		s := base[:n]
		for i := 0; i < n; i++ {
			up := []byte(s)
			if 'a' <= up[i] && up[i] <= 'z' {
				up[i] -= 'a' - 'A'
				if !EqualFold(up, s) {
					t.Errorf("EqualFold(%q, %q) = false", up, s)
				}
			}
			bad := []byte(s)
			bad[i] ^= 0x01
			if EqualFold(bad, s) {
				t.Errorf("EqualFold(%q, %q) = true", bad, s)
			}
			// a non-letter must not fold: '-' ^ 0x20 is '\r'
			odd := []byte(s)
			odd[i] ^= 0x20
			if want := 'a' <= s[i] && s[i] <= 'z'; EqualFold(odd, s) != want {
				t.Errorf("EqualFold(%q, %q) = %v", odd, s, !want)
			}
		}
		if !EqualFold([]byte(s), s) {
			t.Errorf("EqualFold(%q) with itself = false", s)
		}
	}
}
