package sipflow

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// crlf turns a readable literal with \n line ends into wire form.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// withBody appends an SDP body and sets Content-Length to its real length.
func withBody(head, body string) []byte {
	b := strings.ReplaceAll(body, "\n", "\r\n")
	h := strings.ReplaceAll(head, "\n", "\r\n")
	h = strings.Replace(h, "Content-Length: X", fmt.Sprintf("Content-Length: %d", len(b)), 1)
	return []byte(h + "\r\n" + b)
}

const sdpOffer = `v=0
o=alice 2890844526 2890844526 IN IP4 10.0.0.1
s=-
c=IN IP4 10.0.0.1
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
`

var inviteHead = `INVITE sip:1002@10.0.0.2:5060;transport=udp SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: "Bob" <sip:1002@10.0.0.2>
From: "Alice \"A\" Smith" <sip:1001@10.0.0.1>;tag=1928301774
Call-ID: a84b4c76e66710@10.0.0.1
CSeq: 314159 INVITE
Contact: <sip:1001@10.0.0.1:5060>
P-Asserted-Identity: "Alice" <sip:+15551001@example.com>, <tel:+15551001>
User-Agent: Yealink SIP-T46S 66.85.0.5
X-CID: leg-b@10.0.0.9
Content-Type: application/sdp
Content-Length: X
`

func TestUnmarshalInvite(t *testing.T) {
	b := withBody(inviteHead, sdpOffer)
	var m Message
	if err := m.Unmarshal(b); err != nil {
		t.Fatal(err)
	}
	if m.Warnings != 0 {
		t.Errorf("warnings: %v", m.Warnings)
	}
	check := func(name string, got []byte, want string) {
		t.Helper()
		if string(got) != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if !m.Request {
		t.Fatal("not a request")
	}
	check("method", m.Method, "INVITE")
	check("ruri user", m.RequestURI.User, "1002")
	check("ruri host", m.RequestURI.Host, "10.0.0.2")
	if m.RequestURI.Port != 5060 {
		t.Errorf("ruri port %d", m.RequestURI.Port)
	}
	check("ruri params", m.RequestURI.Params, ";transport=udp")
	check("call-id", m.CallID, "a84b4c76e66710@10.0.0.1")
	check("from user", m.From.URI.User, "1001")
	check("from tag", m.From.Tag, "1928301774")
	check("from display raw", m.From.Display, `Alice \"A\" Smith`)
	if got := m.From.DisplayName(); got != `Alice "A" Smith` {
		t.Errorf("display %q", got)
	}
	check("to display", m.To.Display, "Bob")
	if m.To.Tag != nil {
		t.Errorf("to tag %q", m.To.Tag)
	}
	if m.CSeq != 314159 {
		t.Errorf("cseq %d", m.CSeq)
	}
	check("cseq method", m.CSeqMethod, "INVITE")
	if len(m.Via) != 1 {
		t.Fatalf("via %d", len(m.Via))
	}
	check("via transport", m.Via[0].Transport, "UDP")
	check("via host", m.Via[0].Host, "10.0.0.1")
	check("via branch", m.Via[0].Branch, "z9hG4bK776asdhds")
	if m.Via[0].RPort != 0 || m.Via[0].Port != 5060 {
		t.Errorf("via rport %d port %d", m.Via[0].RPort, m.Via[0].Port)
	}
	if !m.HasPAI {
		t.Fatal("no PAI")
	}
	check("pai", m.PAI.URI.User, "+15551001")
	check("ua", m.UA(), "Yealink SIP-T46S 66.85.0.5")
	if len(m.XCallID) != 1 || string(m.XCallID[0]) != "leg-b@10.0.0.9" {
		t.Errorf("xcid %q", m.XCallID)
	}
	if m.MaxForwards != 70 {
		t.Errorf("max-forwards %d", m.MaxForwards)
	}
	if !m.HasSDP || len(m.SDP.Media) != 1 {
		t.Fatalf("sdp: %v %d", m.HasSDP, len(m.SDP.Media))
	}
	if ap, ok := m.SDP.Endpoint(0); !ok || ap.String() != "10.0.0.1:49170" {
		t.Errorf("endpoint %v %v", ap, ok)
	}
}

// wsinv reproduces RFC 4475 3.1.1.1 (short tortuous INVITE): odd case,
// LWS everywhere, folding, escaped quotes, compact forms, unknown headers.
const wsinvHead = `INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length: X
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33
`

const wsinvBody = `v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.3
s=-
c=IN IP4 192.0.2.4
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
`

func TestTortureWsinv(t *testing.T) {
	var m Message
	if err := m.Unmarshal(withBody(wsinvHead, wsinvBody)); err != nil {
		t.Fatal(err)
	}
	// "a=rtpmap:31 LPC" has no clock rate (RFC 8866 6.6): the only flaw.
	if m.Warnings != WarnBadSDP || m.SDP.Bad != 1 {
		t.Errorf("warnings: %v, SDP bad lines %d", m.Warnings, m.SDP.Bad)
	}
	if string(m.To.Tag) != "1918181833n" || string(m.To.URI.User) != "vivekg" {
		t.Errorf("to %q tag %q", m.To.URI.User, m.To.Tag)
	}
	if string(m.From.Tag) != "98asjd8" || m.From.DisplayName() != `J Rosenberg \"` {
		t.Errorf("from tag %q display %q", m.From.Tag, m.From.DisplayName())
	}
	if m.MaxForwards != 68 || m.CSeq != 9 || string(m.CSeqMethod) != "INVITE" {
		t.Errorf("mf %d cseq %d %q", m.MaxForwards, m.CSeq, m.CSeqMethod)
	}
	if len(m.Via) != 3 {
		t.Fatalf("via count %d", len(m.Via))
	}
	wantVia := []struct{ tr, host, branch string }{
		{"UDP", "192.0.2.2", "390skdjuw"},
		{"TCP", "spindle.example.com", "z9hG4bK9ikj8"},
		{"UDP", "192.168.255.111", "z9hG4bK30239"},
	}
	for i, w := range wantVia {
		v := m.Via[i]
		if string(v.Transport) != w.tr || string(v.Host) != w.host || string(v.Branch) != w.branch {
			t.Errorf("via[%d] = %q %q %q, want %v", i, v.Transport, v.Host, v.Branch, w)
		}
	}
	if len(m.Contact) != 1 || m.Contact[0].DisplayName() != `Quoted string ""` {
		t.Errorf("contact %+v", m.Contact)
	}
	if q, ok := Param(m.Contact[0].Params, "q"); !ok || string(q) != "0.33" {
		t.Errorf("q = %q", q)
	}
	if !m.HasSDP || len(m.SDP.Media) != 2 || m.SDP.Conn.IP.String() != "192.0.2.4" {
		t.Errorf("sdp %+v", m.SDP)
	}
	// the folded unknown header keeps its continuation
	var nf []byte
	for _, h := range m.Headers {
		if string(h.Name) == "NewFangledHeader" {
			nf = h.Value
		}
	}
	if !strings.Contains(string(nf), "continued newfangled value") {
		t.Errorf("folded value %q", nf)
	}
}

func TestUnmarshalTable(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		wantErr  error
		wantWarn Warnings // bits that must be set
		check    func(t *testing.T, m *Message)
	}{
		{name: "empty", in: nil, wantErr: ErrNotSIP},
		{name: "only CRLF", in: []byte("\r\n\r\n"), wantErr: ErrNotSIP},
		{name: "binary", in: []byte{0x80, 0x01, 0x02, 0x03}, wantErr: ErrNotSIP},
		{name: "HTTP", in: crlf("GET / HTTP/1.1\nHost: x\n\n"), wantErr: ErrNotSIP},
		{name: "status code 2 digits kept as code 0", in: crlf("SIP/2.0 20 OK\nCall-ID: c\n\n"), wantWarn: WarnBadStartLine,
			check: func(t *testing.T, m *Message) {
				if m.Request || m.StatusCode != 0 || string(m.CallID) != "c" {
					t.Errorf("%v %d %q", m.Request, m.StatusCode, m.CallID)
				}
			}},
		{name: "request without version", in: crlf("INVITE sip:a@b\n\n"), wantErr: ErrNotSIP},
		{name: "bare version", in: []byte("SIP/2.0"), wantWarn: WarnBadStartLine | WarnNoHeaderEnd},
		{
			name: "keepalive CRLF before start line (RFC 3261 7.5)",
			in:   crlf("\n\nOPTIONS sip:a@b SIP/2.0\nCall-ID: k\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 OPTIONS\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: 0\n\n"),
			check: func(t *testing.T, m *Message) {
				if m.Warnings != 0 || string(m.Method) != "OPTIONS" {
					t.Errorf("warn %v method %q", m.Warnings, m.Method)
				}
			},
		},
		{
			name: "compact forms",
			in:   crlf("MESSAGE sip:b@h SIP/2.0\nv: SIP/2.0/UDP h:5070;branch=z9hG4bKc;received=1.2.3.4;rport=4444\nf: <sip:a@h>;tag=9\nt: sip:b@h\ni: compact@h\nCSeq: 2 MESSAGE\nm: <sip:a@1.1.1.1>\nl: 5\nc: text/plain\nk: 100rel\ns: hi\ne: gzip\no: presence\nu: dialog\nr: <sip:c@h>\nb: <sip:d@h>\nx: 1800\ny: abc\na: *;audio\nj: *;video\nd: proxy\n\nhello"),
			check: func(t *testing.T, m *Message) {
				if m.Warnings != 0 {
					t.Errorf("warnings %v", m.Warnings)
				}
				if string(m.CallID) != "compact@h" || string(m.Body) != "hello" || m.ContentLength != 5 {
					t.Errorf("call-id %q body %q", m.CallID, m.Body)
				}
				if string(m.Via[0].Received) != "1.2.3.4" || m.Via[0].RPort != 4444 || m.Via[0].Port != 5070 {
					t.Errorf("via %+v", m.Via[0])
				}
				want := []HeaderKind{HeaderVia, HeaderFrom, HeaderTo, HeaderCallID, HeaderCSeq, HeaderContact,
					HeaderContentLength, HeaderContentType, HeaderSupported, HeaderSubject, HeaderContentEncoding,
					HeaderEvent, HeaderAllowEvents, HeaderReferTo, HeaderReferredBy, HeaderSessionExpires,
					HeaderIdentity, HeaderAcceptContact, HeaderRejectContact, HeaderRequestDisposition}
				for i, k := range want {
					if m.Headers[i].Kind != k {
						t.Errorf("header %d %q kind %d, want %d", i, m.Headers[i].Name, m.Headers[i].Kind, k)
					}
				}
			},
		},
		{
			name: "unknown method kept (RFC 4475 3.1.1.4 intmeth)",
			in:   crlf("!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusualURI@example.com SIP/2.0\nCall-ID: intmeth\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 !interesting-Method0123456789_*+`.%indeed'~\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\n\n"),
			check: func(t *testing.T, m *Message) {
				if string(m.Method) != "!interesting-Method0123456789_*+`.%indeed'~" || string(m.CSeqMethod) != string(m.Method) {
					t.Errorf("method %q cseq %q", m.Method, m.CSeqMethod)
				}
			},
		},
		{
			name: "unknown status code kept",
			in:   crlf("SIP/2.0 699 Something New\nCall-ID: x\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n"),
			check: func(t *testing.T, m *Message) {
				if m.Request || m.StatusCode != 699 || string(m.Phrase) != "Something New" {
					t.Errorf("%v %d %q", m.Request, m.StatusCode, m.Phrase)
				}
			},
		},
		{
			name:     "content-length larger than body (RFC 4475 3.1.2.7 clerr)",
			in:       crlf("INVITE sip:a@b SIP/2.0\nCall-ID: clerr\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Type: application/sdp\nContent-Length: 9999\n\nv=0\no=- 1 1 IN IP4 1.2.3.4\nc=IN IP4 1.2.3.4\nm=audio 4000 RTP/AVP 0\n"),
			wantWarn: WarnTruncatedBody,
			check: func(t *testing.T, m *Message) {
				if !m.HasSDP || len(m.SDP.Media) != 1 || m.SDP.Media[0].Port != 4000 {
					t.Errorf("kept SDP: %v %+v", m.HasSDP, m.SDP.Media)
				}
			},
		},
		{
			name:     "negative content-length (RFC 4475 3.1.2.8 ncl)",
			in:       crlf("INVITE sip:a@b SIP/2.0\nCall-ID: ncl\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: -999\n\nbody"),
			wantWarn: WarnBadContentLength,
			check: func(t *testing.T, m *Message) {
				if string(m.Body) != "body" {
					t.Errorf("body %q", m.Body)
				}
			},
		},
		{
			name:     "multiple content-length (RFC 4475 3.1.2.11 mcl01)",
			in:       crlf("OPTIONS sip:a@b SIP/2.0\nCall-ID: mcl\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 OPTIONS\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Length: 0\nContent-Length: 2\nl: 3\n\n"),
			wantWarn: WarnDuplicateHeader,
		},
		{
			name:     "bad version (RFC 4475 3.1.2.13 badvers)",
			in:       crlf("OPTIONS sip:t.watson@example.org SIP/7.0\nCall-ID: badvers\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 OPTIONS\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n"),
			wantWarn: WarnBadVersion,
		},
		{
			name:     "<> around request-URI (RFC 4475 3.1.2.5 ltgtruri)",
			in:       crlf("INVITE <sip:user@example.com> SIP/2.0\nCall-ID: ltgt\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n"),
			wantWarn: WarnBadURI,
		},
		{
			name:     "LWS in request line (RFC 4475 3.1.2.6 lwsruri)",
			in:       crlf("INVITE sip:user@example.com; lr SIP/2.0\nCall-ID: lws\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n"),
			wantWarn: WarnBadStartLine,
		},
		{
			name:     "unterminated quote in To (RFC 4475 3.1.2.4 quotbal)",
			in:       crlf("INVITE sip:a@b SIP/2.0\nCall-ID: q\nFrom: <sip:a@b>;tag=1\nTo: \"Mr. J. User <sip:j.user@example.com>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n"),
			wantWarn: WarnNoTo,
		},
		{
			name:     "missing mandatory headers (RFC 4475 3.3.1 insuf)",
			in:       crlf("INVITE sip:user@example.com SIP/2.0\nContent-Length: 0\n\n"),
			wantWarn: WarnNoCallID | WarnNoFrom | WarnNoTo | WarnNoCSeq | WarnNoVia,
		},
		{
			name:     "CSeq overflow (RFC 4475 3.1.2.3 scalar02)",
			in:       crlf("REGISTER sip:a@b SIP/2.0\nCall-ID: s2\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 36893488147419103232 REGISTER\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\n\n"),
			wantWarn: WarnNoCSeq,
		},
		{
			name: "escaped chars in URI user (RFC 4475 3.1.1.7 esc02)",
			in:   crlf("RE%47IST%45R sip:registrar.example.com SIP/2.0\nTo: \"%Z%45\" <sip:resource@example.com>\nFrom: \"%Z%45\" <sip:resource@example.com>;tag=f232jadfj23\nCall-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf\nVia: SIP/2.0/TCP host1.example.com;branch=z9hG4bK209823\nCSeq: 29344 RE%47IST%45R\nContact: <sip:alias1@host1.example.com>\nContact: <sip:%22Quoted%22@host1.example.com>\nContact: <sip:alias3@host1.example.com;transport=TCP>\n\n"),
			check: func(t *testing.T, m *Message) {
				if m.Warnings != 0 || len(m.Contact) != 3 || string(m.Contact[1].URI.User) != "%22Quoted%22" {
					t.Errorf("warn %v contacts %d", m.Warnings, len(m.Contact))
				}
			},
		},
		{
			name: "lws before display < (RFC 4475 3.1.1.6 lwsdisp)",
			in:   crlf("OPTIONS sip:user@example.com SIP/2.0\nTo: sip:user@example.com\nFrom: caller<sip:caller@example.com>;tag=323\nCall-ID: lwsdisp.1234abcd@funky.example.com\nCSeq: 60 OPTIONS\nVia: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw\n\n"),
			check: func(t *testing.T, m *Message) {
				if string(m.From.Display) != "caller" || string(m.From.Tag) != "323" || string(m.From.URI.User) != "caller" {
					t.Errorf("from %q %q", m.From.Display, m.From.Tag)
				}
			},
		},
		{
			name: "commas inside quotes and <> do not split",
			in:   crlf("INVITE sip:a@b SIP/2.0\nCall-ID: c\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContact: \"Doe, John\" <sip:j@h;x=a,b>;expires=60, <sip:k@h>\nRecord-Route: <sip:p1;lr>, <sip:p2;lr>\nRecord-Route: <sip:p3;lr>\n\n"),
			check: func(t *testing.T, m *Message) {
				if len(m.Contact) != 2 || m.Contact[0].DisplayName() != "Doe, John" || string(m.Contact[1].URI.User) != "k" {
					t.Errorf("contacts %d %q", len(m.Contact), m.Contact[0].Display)
				}
			},
		},
		{
			name: "Reason Q.850 and History-Info and Diversion",
			in:   crlf("BYE sip:a@b SIP/2.0\nCall-ID: r\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCSeq: 2 BYE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nReason: Q.850;cause=16;text=\"Normal call clearing\"\nReason: SIP;cause=200;text=\"x\"\nDiversion: <sip:100@h>;reason=unconditional, <sip:101@h>;reason=user-busy\nHistory-Info: <sip:a@h>;index=1, <sip:b@h>;index=1.1\nHistory-Info: <sip:c@h>;index=1.1.1\n\n"),
			check: func(t *testing.T, m *Message) {
				if !m.HasReason || string(m.Reason.Protocol) != "Q.850" || m.Reason.Cause != 16 || string(m.Reason.Text) != "Normal call clearing" {
					t.Errorf("reason %+v", m.Reason)
				}
				if m.DiversionN != 2 || string(m.Diversion.URI.User) != "100" || m.HistoryInfoN != 3 {
					t.Errorf("diversion %d %q history %d", m.DiversionN, m.Diversion.URI.User, m.HistoryInfoN)
				}
			},
		},
		{
			name:     "bare LF line ends and header line without colon",
			in:       []byte("SIP/2.0 180 Ringing\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>;tag=2\nCall-ID: lf\nCSeq: 1 INVITE\ngarbage line\n\n"),
			wantWarn: WarnBadHeaderLine,
			check: func(t *testing.T, m *Message) {
				if m.StatusCode != 180 || string(m.CallID) != "lf" || m.Skipped != 1 {
					t.Errorf("%d %q skipped %d", m.StatusCode, m.CallID, m.Skipped)
				}
			},
		},
		{
			name:     "no blank line after headers",
			in:       []byte("SIP/2.0 100 Trying\r\nCall-ID: nb\r\nCSeq: 1 INVITE"),
			wantWarn: WarnNoHeaderEnd,
			check: func(t *testing.T, m *Message) {
				if string(m.CallID) != "nb" || m.CSeq != 1 {
					t.Errorf("%q %d", m.CallID, m.CSeq)
				}
			},
		},
		{
			name: "multipart/mixed with SDP and ISUP",
			in: withBody("INVITE sip:a@b SIP/2.0\nCall-ID: mp\nFrom: <sip:a@b>;tag=1\nTo: <sip:a@b>\nCSeq: 1 INVITE\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nContent-Type: multipart/mixed;boundary=unique-boundary-1\nContent-Length: X\n",
				"--unique-boundary-1\nContent-Type: application/sdp\n\nv=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 5004 RTP/AVP 8\n\n--unique-boundary-1\nContent-Type: application/ISUP; version=itu-t92+\n\n\x01\x00\x49\x00\x00\x03\x02\x00\x07\n--unique-boundary-1--\n"),
			check: func(t *testing.T, m *Message) {
				if !m.HasSDP || len(m.SDP.Media) != 1 || m.SDP.Media[0].Port != 5004 || m.SDP.Conn.IP.String() != "192.0.2.1" {
					t.Errorf("sdp %v %+v", m.HasSDP, m.SDP)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m Message
			err := m.Unmarshal(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if m.Warnings&tt.wantWarn != tt.wantWarn {
				t.Errorf("warnings = %v, want at least %v", m.Warnings, tt.wantWarn)
			}
			if tt.check != nil {
				tt.check(t, &m)
			}
		})
	}
}

func TestUnmarshalReuseClearsState(t *testing.T) {
	var m Message
	if err := m.Unmarshal(withBody(inviteHead, sdpOffer)); err != nil {
		t.Fatal(err)
	}
	if err := m.Unmarshal(crlf("SIP/2.0 100 Trying\nCall-ID: x\n\n")); err != nil {
		t.Fatal(err)
	}
	if m.Request || len(m.Via) != 0 || m.HasSDP || m.HasPAI || len(m.XCallID) != 0 || len(m.Method) != 0 || m.From.Tag != nil {
		t.Errorf("state leaked from previous message: %+v", m)
	}
}

func TestUnmarshalAllocs(t *testing.T) {
	b := withBody(inviteHead, sdpOffer)
	var m Message
	if err := m.Unmarshal(b); err != nil { // warm up slice capacity
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(200, func() { _ = m.Unmarshal(b) }); n != 0 {
		t.Fatalf("Unmarshal allocs = %v, want 0", n)
	}
	w := withBody(wsinvHead, wsinvBody)
	_ = m.Unmarshal(w)
	if n := testing.AllocsPerRun(200, func() { _ = m.Unmarshal(w) }); n != 0 {
		t.Fatalf("Unmarshal(wsinv) allocs = %v, want 0", n)
	}
}

func BenchmarkUnmarshalInvite(b *testing.B) {
	msg := withBody(inviteHead, sdpOffer)
	b.Run("reused", func(b *testing.B) {
		var m Message
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			_ = m.Unmarshal(msg)
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			var m Message
			_ = m.Unmarshal(msg)
		}
	})
}

func TestUnbracketedIPv6URI(t *testing.T) {
	// seen in sip-ipv6-udp-basic-call.pcap: invalid, but recoverable
	var u URI
	if u.parse([]byte("sip:4321@fec0:0:0:0:216:d3ff:fe0d:22c:5060")) {
		t.Error("unbracketed IPv6 must report !ok")
	}
	if string(u.Host) != "fec0:0:0:0:216:d3ff:fe0d:22c" || u.Port != 5060 || string(u.User) != "4321" {
		t.Errorf("host %q port %d", u.Host, u.Port)
	}
	if !u.parse([]byte("sip:4321@[fec0::22c]:5062;transport=udp")) || string(u.Host) != "fec0::22c" || u.Port != 5062 {
		t.Errorf("bracketed: host %q port %d", u.Host, u.Port)
	}
	u.parse([]byte("sip:9876@fe80:0:0:0:21a:a0ff:fe07:32e0"))
	if string(u.Host) != "fe80:0:0:0:21a:a0ff:fe07:32e0" || u.Port != 0 {
		t.Errorf("no port: host %q port %d", u.Host, u.Port)
	}
}
