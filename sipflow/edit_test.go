package sipflow

import "testing"

func TestEditorRewritesParsedFields(t *testing.T) {
	raw := []byte("INVITE sip:bob@10.0.0.2:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n" +
		"Call-ID: abc@10.0.0.1\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: 4\r\n\r\n" +
		"v=0\n")
	var m Message
	if err := m.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	ed := NewEditor(raw)
	ed.Set(m.RequestURI.Host, "127.0.0.1")
	ed.Set(m.Via[0].Host, "192.0.2.7")
	ed.Set(m.Via[0].Host, "192.0.2.7") // overlapping: dropped and counted
	ed.Set(m.CallID, "new")
	ed.Set([]byte("not in base"), "x") // ignored
	ed.Set(m.CallID[:0], "")           // no change: nothing recorded
	body := "v=0\r\nc=IN IP4 127.0.0.1\r\n"
	ed.SetRange(len(raw)-len(m.Body), len(raw), body)
	ed.SetContentLength(&m, len(body))
	ed.Insert(0, "") // empty insert: nothing
	if ed.Len() != 6 {
		t.Fatalf("edits = %d, want 6", ed.Len())
	}
	out := string(ed.Apply())
	want := "INVITE sip:bob@127.0.0.1:5060 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1\r\n" +
		"Call-ID: new\r\n" +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: 25\r\n\r\n" + body
	if out != want {
		t.Fatalf("got\n%q\nwant\n%q", out, want)
	}
	if ed.Overlaps() != 1 {
		t.Fatalf("overlaps = %d, want 1", ed.Overlaps())
	}
	var m2 Message
	if err := m2.Unmarshal([]byte(out)); err != nil || m2.ContentLength != len(body) || string(m2.Body) != body {
		t.Fatalf("re-parse: %v cl=%d body=%q", err, m2.ContentLength, m2.Body)
	}
	// Reset reuses the editor; AppendApply appends to a caller's buffer.
	ed.Reset(raw)
	if got := ed.AppendApply([]byte("x")); string(got) != "x"+string(raw) {
		t.Fatalf("unedited AppendApply = %q", got)
	}
}

func TestEditorContentLengthWithoutValue(t *testing.T) {
	raw := []byte("BYE sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length:\r\n\r\n")
	var m Message
	if err := m.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	ed := NewEditor(raw)
	ed.SetContentLength(&m, 0)
	if got := string(ed.Apply()); got != "BYE sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
}

func TestEditorApplyAllocs(t *testing.T) {
	raw := []byte("BYE sip:a@10.0.0.1 SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 0\r\n\r\n")
	var m Message
	if err := m.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	ed := NewEditor(raw)
	buf := make([]byte, 0, 256)
	ed.Set(m.RequestURI.Host, "x") // warm the edit list
	n := testing.AllocsPerRun(100, func() {
		ed.Reset(raw)
		ed.Set(m.RequestURI.Host, "127.0.0.1")
		buf = ed.AppendApply(buf[:0])
	})
	if n != 0 {
		t.Fatalf("allocs = %v", n)
	}
}

// FuzzEditor is differential against the parser: replacing the Call-ID
// and fixing Content-Length with an Editor must give a message that
// parses to the new Call-ID, with the same headers and body.
func FuzzEditor(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if m.Unmarshal(b) != nil || len(m.CallID) == 0 {
			return
		}
		ed := NewEditor(b)
		ed.Set(m.CallID, "replayed-1@example.invalid")
		ed.SetContentLength(&m, len(m.Body))
		out := ed.Apply()
		if ed.Overlaps() != 0 {
			t.Fatalf("edits of distinct fields overlap")
		}
		var n Message
		if err := n.Unmarshal(out); err != nil {
			t.Fatalf("edited message does not parse: %v\n%q", err, out)
		}
		if string(n.CallID) != "replayed-1@example.invalid" || len(n.Headers) != len(m.Headers) ||
			string(n.Body) != string(m.Body) || n.Request != m.Request || n.StatusCode != m.StatusCode {
			t.Fatalf("edited message differs beyond the Call-ID:\n%q\n%q", b, out)
		}
	})
}
