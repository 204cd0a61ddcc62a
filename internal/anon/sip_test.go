package anon

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/sipflow"
)

type ident struct {
	cat leak.Category
	v   string
}

func testKey(t testing.TB, s string) Key {
	k, err := KeyFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// buildMsg makes a request with the given start line (default INVITE),
// extra header lines and body.
func buildMsg(start string, headers []string, ctype, body string) []byte {
	if start == "" {
		start = "INVITE sip:callee@biloxi.example.com SIP/2.0"
	}
	var sb strings.Builder
	sb.WriteString(start + "\r\n")
	sb.WriteString("Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbase0001\r\n")
	sb.WriteString("Max-Forwards: 70\r\n")
	sb.WriteString("From: <sip:caller@atlanta.example.com>;tag=basefromtag\r\n")
	sb.WriteString("To: <sip:callee@biloxi.example.com>\r\n")
	sb.WriteString("Call-ID: basecallid0001@atlanta.example.com\r\n")
	sb.WriteString("CSeq: 1 INVITE\r\n")
	for _, h := range headers {
		sb.WriteString(h + "\r\n")
	}
	if body != "" {
		sb.WriteString("Content-Type: " + ctype + "\r\n")
	}
	sb.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	sb.WriteString(body)
	return []byte(sb.String())
}

// checkRewrite rewrites in and checks the invariants every output keeps:
// it parses as well as the input did, its Content-Length is its body, no
// identifier named in ids is left (directly and per the leak checker), and
// each was recorded.
func checkRewrite(t *testing.T, m *Mapper, in []byte, ids []ident) []byte {
	t.Helper()
	out, err := m.RewriteSIP(in)
	if err != nil {
		t.Fatalf("RewriteSIP: %v", err)
	}
	var a, b sipflow.Message
	if err := a.Unmarshal(in); err != nil {
		t.Fatalf("input does not parse: %v", err)
	}
	if err := b.Unmarshal(out); err != nil {
		t.Fatalf("output does not parse: %v\n%s", err, out)
	}
	if extra := b.Warnings &^ a.Warnings; extra != 0 {
		t.Fatalf("output has new warnings %q\n%s", extra, out)
	}
	if b.ContentLength >= 0 && b.ContentLength != len(b.Body) {
		t.Fatalf("Content-Length %d, body %d bytes\n%s", b.ContentLength, len(b.Body), out)
	}
	lo := bytes.ToLower(out)
	for _, id := range ids {
		if !m.Identifiers().Contains(id.cat, id.v) {
			t.Errorf("%v %q not recorded as an original", id.cat, id.v)
		}
		needle := strings.ToLower(id.v)
		if id.cat == leak.IP {
			needle = strings.ToLower(id.v)
		}
		if bytes.Contains(lo, []byte(needle)) {
			t.Errorf("%v %q left in output:\n%s", id.cat, id.v, out)
		}
	}
	c := leak.NewChecker(m.Identifiers())
	if hits := c.Scan(0, out, nil); len(hits) > 0 {
		for _, h := range hits {
			t.Errorf("leak: %v %q at %d", h.Category, h.Ident, h.Offset)
		}
		t.Fatalf("output:\n%s", out)
	}
	return out
}

var headerCases = []struct {
	name    string
	start   string
	headers []string
	ids     []ident
	check   func(t *testing.T, out string)
}{
	{name: "request-uri number user=phone", start: "INVITE sip:+4930111222@pbx.acme.com;user=phone SIP/2.0",
		ids: []ident{{leak.Number, "+4930111222"}, {leak.Host, "pbx.acme.com"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, ";user=phone SIP/2.0") || !strings.HasPrefix(out, "INVITE sip:+") {
				t.Error("user=phone or + lost")
			}
		}},
	{name: "request-uri user at IPv4 with port", start: "INVITE sip:alice.smith@10.20.30.40:5060 SIP/2.0",
		ids: []ident{{leak.User, "alice.smith"}, {leak.IP, "10.20.30.40"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, ":5060 SIP/2.0") {
				t.Error("port lost")
			}
		}},
	{name: "request-uri tel phone-context", start: "INVITE tel:5551234;phone-context=carrier.example.net SIP/2.0",
		ids: []ident{{leak.Number, "5551234"}, {leak.Host, "carrier.example.net"}}},
	{name: "request-uri password", start: "INVITE sip:alice:hunter2secret@10.20.30.41 SIP/2.0",
		ids: []ident{{leak.Token, "hunter2secret"}, {leak.IP, "10.20.30.41"}}},
	{name: "from display user host tag", headers: []string{`Reply-To: "Alice Smith" <sip:alice@acme.com>;tag=1928301774`},
		ids: []ident{{leak.Name, "Alice Smith"}, {leak.User, "alice"}, {leak.Host, "acme.com"}, {leak.Tag, "1928301774"}}},
	{name: "compact to with tag", headers: []string{"Refer-To: <sip:bob.jones@biloxi.example.com>"},
		ids: []ident{{leak.User, "bob.jones"}}},
	{name: "contact instance and gruu", headers: []string{
		`Contact: <sip:alice@192.0.2.4;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>;+sip.instance="<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>";pub-gruu="sip:alice77@acme.com;gr=urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"`},
		ids: []ident{{leak.IP, "192.0.2.4"}, {leak.Token, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"}, {leak.User, "alice77"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, `+sip.instance="<urn:uuid:`) {
				t.Error("instance shape lost")
			}
		}},
	{name: "compact contact sips IPv6", headers: []string{"m: <sips:carol@[2001:db8::9]:5061;transport=tls>"},
		ids: []ident{{leak.User, "carol"}, {leak.IP, "2001:db8::9"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "]:5061;transport=tls>") {
				t.Error("IPv6 reference shape lost")
			}
		}},
	{name: "reply-to token display", headers: []string{"Reply-To: Roberto <sip:roberto@biloxi.example.com>"},
		ids: []ident{{leak.Name, "Roberto"}, {leak.User, "roberto"}}},
	{name: "refer-to with escaped replaces", headers: []string{
		"Refer-To: <sip:dave@atlanta.example.com?Replaces=12345601%40atlanta.example.com%3Bfrom-tag%3D314159x%3Bto-tag%3D1234567y>"},
		ids: []ident{{leak.User, "dave"}, {leak.CallID, "12345601@atlanta.example.com"}, {leak.Tag, "314159x"}, {leak.Tag, "1234567y"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "?Replaces=") || !strings.Contains(out, "%3Bfrom-tag%3D") {
				t.Error("escaped Replaces shape lost")
			}
		}},
	{name: "compact refer-to tel", headers: []string{"r: <tel:+4930222333>"},
		ids: []ident{{leak.Number, "+4930222333"}}},
	{name: "referred-by", headers: []string{"Referred-By: <sip:referrer@referrer.example>"},
		ids: []ident{{leak.User, "referrer"}, {leak.Host, "referrer.example"}}},
	{name: "compact referred-by", headers: []string{`b: "Erin Example" <sip:erin77@acme.com>`},
		ids: []ident{{leak.User, "erin77"}, {leak.Name, "Erin Example"}}},
	{name: "p-asserted-identity two values", headers: []string{`P-Asserted-Identity: "Cullen Jennings" <sip:fluffy@cisco.com>, <tel:+14085550123>`},
		ids: []ident{{leak.Name, "Cullen Jennings"}, {leak.User, "fluffy"}, {leak.Host, "cisco.com"}, {leak.Number, "+14085550123"}}},
	{name: "p-preferred-identity", headers: []string{"P-Preferred-Identity: <sip:+4930444555@acme.com;user=phone>"},
		ids: []ident{{leak.Number, "+4930444555"}}},
	{name: "remote-party-id", headers: []string{`Remote-Party-ID: "Frankie" <sip:4930555666@10.9.8.7>;party=calling;screen=yes;privacy=off`},
		ids: []ident{{leak.Number, "4930555666"}, {leak.IP, "10.9.8.7"}, {leak.Name, "Frankie"}}},
	{name: "diversion 00 number", headers: []string{"Diversion: <sip:004930777888@acme.com>;reason=unconditional;counter=1"},
		ids: []ident{{leak.Number, "004930777888"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "<sip:00") || !strings.Contains(out, ";reason=unconditional;counter=1") {
				t.Error("00 prefix or parameters lost")
			}
		}},
	{name: "history-info with escaped reason", headers: []string{
		"History-Info: <sip:grace@acme.com?Reason=SIP%3Bcause%3D302%3Btext%3D%22grace%40acme.com%22>;index=1, <sip:heidi@acme.com;cause=302>;index=1.1"},
		ids: []ident{{leak.User, "grace"}, {leak.User, "heidi"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "%3Bcause%3D302") || !strings.Contains(out, ";index=1.1") {
				t.Error("reason cause or index lost")
			}
		}},
	{name: "route record-route path service-route", headers: []string{
		"Record-Route: <sip:p1.atlanta.example.com;lr>, <sip:10.1.1.1;lr>",
		"Route: <sip:ss2.biloxi.example.com;lr>",
		"Path: <sip:P3.EXAMPLEHOME.COM;lr>",
		"Service-Route: <sip:orig@scscf.home1.net;lr>"},
		ids: []ident{{leak.Host, "p1.atlanta.example.com"}, {leak.IP, "10.1.1.1"}, {leak.Host, "ss2.biloxi.example.com"},
			{leak.Host, "P3.EXAMPLEHOME.COM"}, {leak.Host, "scscf.home1.net"}}},
	{name: "via sent-by received maddr branch", headers: []string{
		"Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.101;rport=5060;maddr=198.51.100.3"},
		ids: []ident{{leak.Host, "pc33.atlanta.example.com"}, {leak.Tag, "776asdhds"}, {leak.IP, "192.0.2.101"}, {leak.IP, "198.51.100.3"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, ";branch=z9hG4bK") || !strings.Contains(out, ";rport=5060;") {
				t.Error("branch cookie or rport lost")
			}
		}},
	{name: "compact via IPv6", headers: []string{"v: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKabcdef12"},
		ids: []ident{{leak.IP, "2001:db8::1"}, {leak.Tag, "abcdef12"}}},
	{name: "x-call-id and x-cid", headers: []string{"X-Call-ID: 0987654321abcdef@10.10.10.10", "X-CID: 1122334455aa@host7.example.com"},
		ids: []ident{{leak.CallID, "0987654321abcdef@10.10.10.10"}, {leak.CallID, "1122334455aa@host7.example.com"}}},
	{name: "replaces and target-dialog", headers: []string{
		"Replaces: 425928@bobster.example.org;to-tag=7743abc;from-tag=6472xyz",
		"Target-Dialog: 9988776655@bobster.example.org;local-tag=localtag1;remote-tag=remotetag1"},
		ids: []ident{{leak.CallID, "425928@bobster.example.org"}, {leak.Tag, "7743abc"}, {leak.Tag, "6472xyz"},
			{leak.CallID, "9988776655@bobster.example.org"}, {leak.Tag, "localtag1"}, {leak.Tag, "remotetag1"}}},
	{name: "authorization", headers: []string{
		`Authorization: Digest username="bob.smith", realm="biloxi.example.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob.smith@biloxi.example.com", response="245f23415f11432b3434341c022", qop=auth, nc=00000001, cnonce="0a4f113b"`},
		ids: []ident{{leak.User, "bob.smith"}, {leak.Host, "biloxi.example.com"}, {leak.Token, "dcd98b7102dd2f0e8b11d0f600bfb0c093"},
			{leak.Token, "245f23415f11432b3434341c022"}, {leak.Token, "0a4f113b"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "qop=auth, nc=00000001") {
				t.Error("qop/nc lost")
			}
		}},
	{name: "proxy-authorization", headers: []string{
		`Proxy-Authorization: Digest username="carol.w", realm="proxy.example.net", nonce="aabbccddeeff0011", uri="sip:10.0.5.5", response="00112233445566778899"`},
		ids: []ident{{leak.User, "carol.w"}, {leak.Host, "proxy.example.net"}, {leak.IP, "10.0.5.5"}}},
	{name: "www-authenticate and proxy-authenticate", headers: []string{
		`WWW-Authenticate: Digest realm="atlanta.example.com", qop="auth", nonce="84f1c1ae6cbe5ua9e", opaque="", stale=FALSE, algorithm=MD5`,
		`Proxy-Authenticate: Digest realm="realm2.example.com", nonce="zz99887766aabb"`},
		ids: []ident{{leak.Host, "atlanta.example.com"}, {leak.Token, "84f1c1ae6cbe5ua9e"}, {leak.Host, "realm2.example.com"}}},
	{name: "p-charging-vector", headers: []string{"P-Charging-Vector: icid-value=AyretyU0dm+6O2IrT5tAFrbHLso=;icid-generated-at=192.0.6.8;orig-ioi=home1.net"},
		ids: []ident{{leak.Token, "AyretyU0dm+6O2IrT5tAFrbHLso="}, {leak.IP, "192.0.6.8"}, {leak.Host, "home1.net"}}},
	{name: "p-access-network-info cell id", headers: []string{"P-Access-Network-Info: 3GPP-UTRAN-TDD; utran-cell-id-3gpp=23456789ABCDE"},
		ids: []ident{{leak.Token, "23456789ABCDE"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "3GPP-UTRAN-TDD; utran-cell-id-3gpp=") {
				t.Error("access type lost")
			}
		}},
	{name: "p-visited-network-id", headers: []string{`P-Visited-Network-ID: other.net, "Visited network number 1"`},
		ids: []ident{{leak.Host, "other.net"}}},
	{name: "warning host and address", headers: []string{`Warning: 307 isi.edu "Session parameter 'foo' not understood", 399 203.0.113.77 "Incompatible"`},
		ids: []ident{{leak.Host, "isi.edu"}, {leak.IP, "203.0.113.77"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "Warning: 307 ") || !strings.Contains(out, `"Incompatible"`) {
				t.Error("warn code or text lost")
			}
		}},
	{name: "unknown x- header", headers: []string{"X-Customer: acct 987654321 user alice99@corp.example.com from 172.16.5.4"},
		ids: []ident{{leak.Number, "987654321"}, {leak.User, "alice99"}, {leak.Host, "corp.example.com"}, {leak.IP, "172.16.5.4"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "X-Customer: acct ") {
				t.Error("plain words lost")
			}
		}},
	{name: "user-agent with MAC keeps version", headers: []string{"User-Agent: Yealink SIP-T46S 66.85.0.5 00:15:65:12:34:56"},
		ids: []ident{{leak.MAC, "00:15:65:12:34:56"}},
		check: func(t *testing.T, out string) {
			if !strings.Contains(out, "Yealink SIP-T46S 66.85.0.5 ") {
				t.Error("product version lost")
			}
		}},
	{name: "subject with number", headers: []string{"Subject: call back 0301234567"},
		ids: []ident{{leak.Number, "0301234567"}}},
	{name: "call-info http uri", headers: []string{"Call-Info: <http://www.example.com/alice/photo.jpg>;purpose=icon"},
		ids: []ident{{leak.Host, "www.example.com"}}},
	{name: "identity", headers: []string{"Identity: eyJhbGciOiJFUzI1NiJ9.eyJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0.c2lnbmF0dXJl;info=<https://cert.example.org/passport.cer>"},
		ids: []ident{{leak.Token, "eyJhbGciOiJFUzI1NiJ9.eyJvcmlnIjp7InRuIjoiMTIxNTU1NTEyMTIifX0.c2lnbmF0dXJl;info=<https://cert.example.org/passport.cer>"}}},
	{name: "upper-case header names", headers: []string{"REPLY-TO: <sip:upcase@shout.example.com>"},
		ids: []ident{{leak.User, "upcase"}, {leak.Host, "shout.example.com"}}},
	{name: "malformed header line", headers: []string{"this line has no colon but names zed.smith@corp.example.com"},
		ids: []ident{{leak.User, "zed.smith"}, {leak.Host, "corp.example.com"}}},
	{name: "folded header", headers: []string{"Reply-To: \"Folded Name\"\r\n <sip:folded@fold.example.com>"},
		ids: []ident{{leak.User, "folded"}, {leak.Host, "fold.example.com"}, {leak.Name, "Folded Name"}}},
	{name: "session-id and in-reply-to", headers: []string{"Session-ID: ab30317f1a784dc48ff824d0d3715d86", "In-Reply-To: 70710@saturn.bell-tel.com, 17320@saturn.bell-tel.com"},
		ids: []ident{{leak.Token, "ab30317f1a784dc48ff824d0d3715d86"}, {leak.CallID, "70710@saturn.bell-tel.com"}}},
}

func TestRewriteHeaders(t *testing.T) {
	for _, c := range headerCases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMapper(testKey(t, "table"), Options{})
			in := buildMsg(c.start, c.headers, "", "")
			out := checkRewrite(t, m, in, c.ids)
			// the base fields are always rewritten
			for _, s := range []string{"caller", "atlanta.example.com", "basefromtag", "basecallid0001", "198.51.100.1"} {
				if bytes.Contains(out, []byte(s)) {
					t.Errorf("base field %q left", s)
				}
			}
			if c.check != nil {
				c.check(t, string(out))
			}
		})
	}
}

const sdpBody = "v=0\r\n" +
	"o=alice 2890844526 2890844526 IN IP4 192.168.1.20\r\n" +
	"s=call of alice.smith@mail.example.com\r\n" +
	"e=alice.smith@mail.example.com\r\n" +
	"p=+1 617 555-6011\r\n" +
	"c=IN IP4 192.168.1.21\r\n" +
	"t=0 0\r\n" +
	"m=audio 49170 RTP/AVP 0 8 101\r\n" +
	"c=IN IP6 2001:db8::77\r\n" +
	"a=rtpmap:0 PCMU/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\n" +
	"a=fmtp:101 0-15\r\n" +
	"a=rtcp:49171 IN IP4 192.168.1.22\r\n" +
	"a=candidate:1 1 UDP 2130706431 192.168.1.23 49170 typ host\r\n" +
	"a=candidate:2 1 UDP 1694498815 203.0.113.9 49170 typ srflx raddr 192.168.1.24 rport 49170\r\n" +
	"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32\r\n" +
	"a=ice-ufrag:F7gI8x\r\n" +
	"a=ice-pwd:x9cml/YzichV2+XlhiMu8g\r\n" +
	"a=fingerprint:sha-256 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF\r\n" +
	"a=ssrc:12345 cname:alice@192.168.1.20\r\n" +
	"a=x-nat:10.99.1.1\r\n"

var sdpIDs = []ident{
	{leak.User, "alice"}, {leak.IP, "192.168.1.20"}, {leak.IP, "192.168.1.21"}, {leak.IP, "2001:db8::77"},
	{leak.IP, "192.168.1.22"}, {leak.IP, "192.168.1.23"}, {leak.IP, "203.0.113.9"}, {leak.IP, "192.168.1.24"},
	{leak.Token, "PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"}, {leak.Token, "F7gI8x"}, {leak.Token, "x9cml/YzichV2+XlhiMu8g"},
	{leak.Token, "4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB:4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF"},
	{leak.Token, "alice@192.168.1.20"}, {leak.IP, "10.99.1.1"}, {leak.User, "alice.smith"}, {leak.Host, "mail.example.com"},
}

func TestRewriteSDP(t *testing.T) {
	m := NewMapper(testKey(t, "sdp"), Options{})
	in := buildMsg("", nil, "application/sdp", sdpBody)
	out := checkRewrite(t, m, in, sdpIDs)
	s := string(out)
	for _, keep := range []string{"m=audio 49170 RTP/AVP 0 8 101", "a=rtpmap:0 PCMU/8000", "a=fmtp:101 0-15",
		"a=rtcp:49171 IN IP4 ", " 49170 typ srflx raddr ", "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:", "|2^20|1:32",
		"a=fingerprint:sha-256 ", "a=ssrc:12345 cname:"} {
		if !strings.Contains(s, keep) {
			t.Errorf("%q lost", keep)
		}
	}
	var msg sipflow.Message
	msg.Unmarshal(out)
	if !msg.HasSDP || len(msg.SDP.Media) != 1 || !msg.SDP.Media[0].Conn.IP.Is6() || !msg.SDP.Conn.IP.Is4() {
		t.Fatalf("SDP shape lost: %+v", msg.SDP)
	}
	if strings.Contains(s, "+1 617 555-6011") || strings.Contains(s, "6175556011") {
		t.Error("p= number left")
	}
}

func TestRewriteMultipart(t *testing.T) {
	pidf := `<?xml version="1.0"?><presence entity="pres:someone@example.com"><tuple id="a"><contact>tel:+4930999111</contact></tuple></presence>`
	body := "--boundary42\r\nContent-Type: application/sdp\r\nContent-Length: " + strconv.Itoa(len(sdpBody)) + "\r\n\r\n" + sdpBody +
		"\r\n--boundary42\r\nContent-Type: application/pidf+xml\r\nContent-ID: <pidf1234@loc.example.com>\r\n\r\n" + pidf +
		"\r\n--boundary42--\r\n"
	m := NewMapper(testKey(t, "multipart"), Options{})
	in := buildMsg("", nil, `multipart/mixed;boundary="boundary42"`, body)
	out := checkRewrite(t, m, in, append(sdpIDs, ident{leak.Host, "loc.example.com"}))
	var msg sipflow.Message
	msg.Unmarshal(out)
	if !msg.HasSDP {
		t.Fatal("SDP part lost")
	}
	if bytes.Contains(out, []byte("presence")) || bytes.Contains(out, []byte("4930999111")) {
		t.Error("PIDF part not removed")
	}
	// the part's Content-Length is its new content
	n := 0
	sipflow.Parts(msg.Body, []byte("boundary42"), func(p sipflow.Part) bool {
		n++
		if n == 1 {
			want := "Content-Length: " + strconv.Itoa(len(p.Content))
			if !bytes.Contains(p.Headers, []byte(want)) {
				t.Errorf("part Content-Length not fixed: %q, content %d", p.Headers, len(p.Content))
			}
		}
		return true
	})
	if n != 2 {
		t.Fatalf("%d parts, want 2", n)
	}
}

func TestOtherBodies(t *testing.T) {
	text := "Hi, call me at +4930123987 or mail bob@example.org"
	in := buildMsg("MESSAGE sip:bob@example.org SIP/2.0", nil, "text/plain", text)
	m := NewMapper(testKey(t, "bodies"), Options{})
	out := checkRewrite(t, m, in, nil)
	if bytes.Contains(out, []byte("call me")) || !bytes.Contains(out, []byte(BodyRemovedHeader+": body removed (")) {
		t.Fatalf("text body not removed with a note:\n%s", out)
	}
	if m.Stats.Bodies != 1 {
		t.Errorf("Stats.Bodies = %d", m.Stats.Bodies)
	}
	k := NewMapper(testKey(t, "bodies"), Options{KeepBodies: true})
	out, _ = k.RewriteSIP(in)
	if !bytes.Contains(out, []byte("call me")) {
		t.Fatalf("KeepBodies removed the body")
	}
}

func TestSipfragBody(t *testing.T) {
	frag := "SIP/2.0 200 OK\r\nContact: <sip:frag.user@10.3.3.3>\r\n"
	in := buildMsg("NOTIFY sip:n@example.org SIP/2.0", []string{"Event: refer"}, "message/sipfrag;version=2.0", frag)
	m := NewMapper(testKey(t, "frag"), Options{})
	out := checkRewrite(t, m, in, []ident{{leak.User, "frag.user"}, {leak.IP, "10.3.3.3"}})
	if !bytes.Contains(out, []byte("SIP/2.0 200 OK")) {
		t.Fatal("sipfrag status line lost")
	}
}

func TestTwoMessagesInOneBuffer(t *testing.T) {
	a := buildMsg("", []string{"Reply-To: <sip:first.msg@one.example.com>"}, "", "")
	b := buildMsg("BYE sip:second.msg@two.example.com SIP/2.0", nil, "", "")
	m := NewMapper(testKey(t, "two"), Options{})
	out := checkRewrite(t, m, append(a, b...), []ident{{leak.User, "first.msg"}, {leak.User, "second.msg"}, {leak.Host, "two.example.com"}})
	if bytes.Count(out, []byte("SIP/2.0\r\n")) != 2 {
		t.Fatalf("second message lost:\n%s", out)
	}
}

// TestDialogIdentity: a request and its response keep their relationship.
func TestDialogIdentity(t *testing.T) {
	req := buildMsg("", nil, "", "")
	resp := []byte("SIP/2.0 200 OK\r\n" +
		"Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKbase0001;received=198.51.100.99\r\n" +
		"From: <sip:caller@atlanta.example.com>;tag=basefromtag\r\n" +
		"To: <sip:callee@biloxi.example.com>;tag=totag98765\r\n" +
		"Call-ID: basecallid0001@atlanta.example.com\r\n" +
		"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	bye := []byte("BYE sip:callee@biloxi.example.com SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKother\r\n" +
		"From: <sip:caller@atlanta.example.com>;tag=basefromtag\r\n" +
		"To: <sip:callee@biloxi.example.com>;tag=totag98765\r\n" +
		"Call-ID: basecallid0001@atlanta.example.com\r\n" +
		"CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
	m := NewMapper(testKey(t, "dialog"), Options{})
	var msgs [3]sipflow.Message
	for i, in := range [][]byte{req, resp, bye} {
		out, err := m.RewriteSIP(in)
		if err != nil {
			t.Fatal(err)
		}
		if err := msgs[i].Unmarshal(out); err != nil {
			t.Fatal(err)
		}
	}
	if string(msgs[0].CallID) != string(msgs[1].CallID) || string(msgs[1].CallID) != string(msgs[2].CallID) {
		t.Error("Call-ID differs across the dialog")
	}
	if string(msgs[0].From.Tag) != string(msgs[2].From.Tag) || string(msgs[1].To.Tag) != string(msgs[2].To.Tag) {
		t.Error("tags differ across the dialog")
	}
	if string(msgs[0].Via[0].Branch) != string(msgs[1].Via[0].Branch) {
		t.Error("transaction branch differs between request and response")
	}
	if string(msgs[0].From.Tag) == "basefromtag" || string(msgs[0].CallID) == "basecallid0001@atlanta.example.com" {
		t.Error("not rewritten")
	}
}

func TestSameKeySameBytes(t *testing.T) {
	in := buildMsg("", headerCases[4].headers, "application/sdp", sdpBody)
	a, _ := NewMapper(testKey(t, "k1"), Options{}).RewriteSIP(in)
	b, _ := NewMapper(testKey(t, "k1"), Options{}).RewriteSIP(in)
	c, _ := NewMapper(testKey(t, "k2"), Options{}).RewriteSIP(in)
	if !bytes.Equal(a, b) {
		t.Fatal("same key, different output")
	}
	if bytes.Equal(a, c) {
		t.Fatal("different key, same output")
	}
	var ma, mc sipflow.Message
	ma.Unmarshal(a)
	mc.Unmarshal(c)
	if string(ma.CallID) == string(mc.CallID) || string(ma.From.URI.User) == string(mc.From.URI.User) ||
		string(ma.From.Tag) == string(mc.From.Tag) {
		t.Fatal("different keys gave equal tokens")
	}
}

func TestKeepDomains(t *testing.T) {
	in := buildMsg("", nil, "", "")
	m := NewMapper(testKey(t, "kd"), Options{KeepDomains: true})
	out, _ := m.RewriteSIP(in)
	if !bytes.Contains(out, []byte("@atlanta.example.com")) || bytes.Contains(out, []byte("caller@")) ||
		bytes.Contains(out, []byte("198.51.100.1")) {
		t.Fatalf("KeepDomains:\n%s", out)
	}
}

func TestNotSIP(t *testing.T) {
	m := NewMapper(testKey(t, "x"), Options{})
	if _, err := m.RewriteSIP([]byte("\r\n\r\n")); err != ErrNotSIP {
		t.Fatalf("err %v", err)
	}
	out := m.ScrubText([]byte("garbage alice@example.net 10.1.2.3 +4930123456"))
	if bytes.Contains(out, []byte("alice")) || bytes.Contains(out, []byte("10.1.2.3")) || bytes.Contains(out, []byte("4930123456")) {
		t.Fatalf("ScrubText: %s", out)
	}
}

func TestCompactForms(t *testing.T) {
	in := []byte("INVITE sip:+4930123456@pbx.acme.com SIP/2.0\r\n" +
		"v: SIP/2.0/UDP host9.acme.com:5060;branch=z9hG4bKcompact1\r\n" +
		"f: \"Compact Caller\" <sip:compactcaller@acme.com>;tag=cfromtag1\r\n" +
		"t: <sip:+4930123456@acme.com>\r\n" +
		"i: compactcallid77@host9.acme.com\r\n" +
		"CSeq: 1 INVITE\r\n" +
		"m: <sip:compactcaller@10.77.0.1>\r\n" +
		"c: application/sdp\r\n" +
		"l: " + strconv.Itoa(len(sdpBody)) + "\r\n\r\n" + sdpBody)
	m := NewMapper(testKey(t, "compact"), Options{})
	out := checkRewrite(t, m, in, append([]ident{{leak.Number, "+4930123456"}, {leak.Host, "host9.acme.com"},
		{leak.User, "compactcaller"}, {leak.Name, "Compact Caller"}, {leak.Tag, "cfromtag1"},
		{leak.CallID, "compactcallid77@host9.acme.com"}, {leak.IP, "10.77.0.1"}}, sdpIDs...))
	var a, b sipflow.Message
	a.Unmarshal(in)
	b.Unmarshal(out)
	if !b.HasSDP || b.ContentLength != len(b.Body) || len(b.Contact) != 1 || len(b.CallID) == 0 || string(b.CallID) == string(a.CallID) {
		t.Fatalf("compact message shape lost:\n%s", out)
	}
}

func TestNestedMultipartAndISUP(t *testing.T) {
	isup := "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00"
	inner := "--in1\r\nContent-Type: application/sdp\r\n\r\n" + sdpBody + "\r\n--in1\r\nContent-Type: text/plain\r\n\r\ncall 004930555444 back\r\n--in1--\r\n"
	body := "--out1\r\nContent-Type: multipart/alternative;boundary=in1\r\n\r\n" + inner +
		"\r\n--out1\r\nContent-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional\r\n\r\n" + isup +
		"\r\n--out1--\r\n"
	m := NewMapper(testKey(t, "nested"), Options{})
	in := buildMsg("", nil, "multipart/mixed;boundary=out1", body)
	out := checkRewrite(t, m, in, sdpIDs)
	if bytes.Contains(out, []byte("4930555444")) || bytes.Contains(out, []byte(isup[4:12])) {
		t.Fatalf("text or ISUP part kept:\n%q", out)
	}
	if m.Stats.Bodies != 2 {
		t.Fatalf("bodies removed %d, want 2 (text, ISUP)", m.Stats.Bodies)
	}
	if !bytes.Contains(out, []byte("Content-Type: application/isup")) {
		t.Fatal("part headers lost")
	}
}

// TestKnownPartDoesNotShieldTheRest: a word whose first part is a known
// identifier still has its other parts scanned (a digit run after it).
func TestKnownPartDoesNotShieldTheRest(t *testing.T) {
	m := NewMapper(testKey(t, "parts"), Options{})
	m.Number("00329299") // known from an earlier message
	in := buildMsg("", []string{"Av-Global-Session-ID: 00329299-6592-4801-a2b0-5b37b7760000"}, "", "")
	out := checkRewrite(t, m, in, []ident{{leak.Number, "00329299"}, {leak.Number, "7760000"}})
	if bytes.Contains(out, []byte("7760000")) {
		t.Fatalf("rest of the word kept:\n%s", out)
	}
}

// The preamble and epilogue of a multipart body are scrubbed like free
// text: a number or an address a sender put there does not survive.
func TestRewriteMultipartPreambleEpilogue(t *testing.T) {
	body := "Call +4930555123 (alice@pre.example.com)\r\n--b7\r\nContent-Type: application/sdp\r\n\r\n" + sdpBody +
		"\r\n--b7--\r\nsent by 10.20.30.40 for +4930555124\r\n"
	m := NewMapper(testKey(t, "preamble"), Options{})
	in := buildMsg("", nil, "multipart/mixed;boundary=b7", body)
	out := checkRewrite(t, m, in, sdpIDs)
	for _, leaked := range []string{"4930555123", "pre.example.com", "10.20.30.40", "4930555124"} {
		if bytes.Contains(out, []byte(leaked)) {
			t.Errorf("%q left in the preamble or epilogue:\n%s", leaked, out)
		}
	}
	var msg sipflow.Message
	if err := msg.Unmarshal(out); err != nil || !msg.HasSDP {
		t.Fatalf("SDP part lost: %v", err)
	}
}
