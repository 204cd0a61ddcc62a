package leak

import (
	"net/netip"
	"strconv"
	"strings"
)

// Category is the kind of an original identifier.
type Category uint8

// Categories of identifiers.
const (
	Number Category = iota + 1 // telephone number (digits, optional + / 00)
	User                       // user part of a SIP URI, auth username
	Host                       // domain name
	IP                         // IPv4 or IPv6 address
	MAC                        // Ethernet address
	CallID                     // Call-ID and its correlation copies
	Tag                        // From/To tag, Via branch
	Name                       // display name
	Token                      // any other identifying value (instance id, cell id, CNAME ...)
)

var categoryNames = [...]string{"", "number", "user", "host", "ip", "mac", "call-id", "tag", "name", "token"}

func (c Category) String() string {
	if int(c) < len(categoryNames) && c != 0 {
		return categoryNames[c]
	}
	return "category(" + strconv.Itoa(int(c)) + ")"
}

// MinLen is the shortest identifier of each category that is searched, in
// bytes (digits for numbers). Shorter ones cannot be told from ports, CSeq
// numbers, lengths or protocol words: a 4-digit extension would "leak" in
// every Content-Length of 1001. They are still rewritten by the anonymiser,
// only not proven absent.
func MinLen(c Category) int {
	switch c {
	case Number:
		return 5
	case User, Host, Name:
		return 4
	case CallID, Tag, Token:
		return 6
	}
	return 1
}

// DefaultMaxIdentifiers bounds a Set whose bound is not given.
const DefaultMaxIdentifiers = 1 << 20

type entry struct {
	cat Category
	val string
}

// Set is a bounded set of original identifiers. Not safe for concurrent use.
type Set struct {
	m   map[entry]struct{}
	max int
	// text indexes the case-folded text identifiers (every category
	// but Number, IP and MAC) for Lookup: free text is checked word by
	// word against all of them at once.
	text map[string]Category
	// Dropped counts identifiers refused because the set was full; a
	// non-zero value means the proof is incomplete.
	Dropped int
	// Exempt counts identifiers not searched: too short, kept on purpose,
	// or a word of the protocol grammar.
	Exempt int
}

// NewSet returns a set holding at most max identifiers (0: the default).
func NewSet(max int) *Set {
	if max <= 0 {
		max = DefaultMaxIdentifiers
	}
	return &Set{m: make(map[entry]struct{}), max: max, text: make(map[string]Category)}
}

// Len returns the number of identifiers held.
func (s *Set) Len() int { return len(s.m) }

// Add records an original identifier. It returns false when the identifier
// is exempt (see Exempt) or the set is full (counted in Dropped).
func (s *Set) Add(c Category, v string) bool {
	if Exempt(c, v) {
		s.Exempt++
		return false
	}
	if c == Host || c == User || c == Name || c == CallID || c == Tag || c == Token {
		v = asciiLower(v)
	}
	e := entry{c, v}
	if _, ok := s.m[e]; ok {
		return true
	}
	if len(s.m) >= s.max {
		s.Dropped++
		return false
	}
	s.m[e] = struct{}{}
	if c != Number && c != IP && c != MAC {
		if _, ok := s.text[v]; !ok {
			s.text[v] = c
		}
	} else if c == Number {
		if _, ok := s.text[v]; !ok {
			s.text[v] = c
		}
	}
	return true
}

// Lookup returns the category of a text identifier (or number, as
// written) equal to v, ASCII case-insensitively.
func (s *Set) Lookup(v string) (Category, bool) {
	for i := 0; i < len(v); i++ {
		if 'A' <= v[i] && v[i] <= 'Z' {
			v = asciiLower(v)
			break
		}
	}
	c, ok := s.text[v]
	return c, ok
}

// Contains reports whether the identifier is in the set.
func (s *Set) Contains(c Category, v string) bool {
	if c == Host || c == User || c == Name || c == CallID || c == Tag || c == Token {
		v = asciiLower(v)
	}
	_, ok := s.m[entry{c, v}]
	return ok
}

// Exempt reports whether an identifier is not searched for: shorter than
// MinLen, an address the anonymiser keeps (loopback, unspecified,
// multicast, broadcast, link-local), a reserved name ("localhost",
// ".invalid", "anonymous"), text without a letter or digit, or text that
// occurs inside a word of the SIP/SDP grammar, which every output keeps.
func Exempt(c Category, v string) bool {
	switch c {
	case Number:
		if countDigits(v) < MinLen(Number) {
			return true
		}
		return false
	case IP:
		a, err := netip.ParseAddr(v)
		if err != nil {
			return true
		}
		return KeptAddr(a)
	case MAC:
		m, ok := parseMAC(v)
		return !ok || m[0]&1 != 0 || m == [6]byte{}
	}
	if len(v) < MinLen(c) || !hasAlnum(v) {
		return true
	}
	l := asciiLower(v)
	if l == "localhost" || l == "anonymous" || strings.HasSuffix(l, ".invalid") || l == "invalid" {
		return true
	}
	return strings.Contains(grammar, l) || rtpmapShaped(l)
}

// rtpmapShaped reports text shaped like an rtpmap encoding,
// NAME/CLOCK[/CHANNELS] ("g726-24/8000"): every SDP keeps those.
func rtpmapShaped(l string) bool {
	parts := strings.Split(l, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		return false
	}
	for _, c := range []byte(parts[0]) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	for _, p := range parts[1:] {
		if p == "" || countDigits(p) != len(p) {
			return false
		}
	}
	return true
}

// KeptAddr reports whether an address is kept as it is by the anonymiser
// and so never an identifier: loopback, unspecified, multicast, link-local
// multicast, the IPv4 limited broadcast.
func KeptAddr(a netip.Addr) bool {
	a = a.Unmap()
	return !a.IsValid() || a.IsLoopback() || a.IsUnspecified() || a.IsMulticast() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// hasAlnum: an identifier without a letter or digit names no one (and
// cannot be changed while keeping its punctuation).
func hasAlnum(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

func countDigits(v string) int {
	n := 0
	for i := 0; i < len(v); i++ {
		if v[i] >= '0' && v[i] <= '9' {
			n++
		}
	}
	return n
}

// grammar holds the words every SIP/SDP message keeps: methods, header
// names, parameter names, schemes, transports, SDP keywords, rtpmap strings
// and VoIP product names, lower case. An identifier found inside it is
// exempt.
const grammar = `invite ack bye cancel options register prack subscribe notify publish info refer message update
sip sips tel urn sip/2.0 udp tcp tls sctp ws wss transport user=phone phone lr maddr ttl method
via from to call-id cseq contact content-length content-type content-encoding supported subject
event allow-events refer-to referred-by session-expires identity accept-contact reject-contact
request-disposition record-route route user-agent server p-asserted-identity p-preferred-identity
diversion history-info x-call-id x-cid reason max-forwards expires allow require proxy-require
authorization proxy-authorization www-authenticate proxy-authenticate authentication-info
digest username realm nonce cnonce response algorithm opaque qop auth-int md5 sha-256 stale
tag branch z9hg4bk received rport alias keep expires q methods +sip.instance reg-id gr
application/sdp multipart/mixed multipart/alternative boundary text/plain
v=0 o=- s=- c=in t=0 m=audio video image application in ip4 ip6 rtp/avp rtp/savp rtp/avpf rtp/savpf
udp/tls/rtp/savpf udptl t38 rtpmap fmtp ptime maxptime sendrecv sendonly recvonly inactive
rtcp rtcp-mux crypto fingerprint ice-ufrag ice-pwd candidate setup actpass active passive
pcmu pcma g722 g729 opus telephone-event speex ilbc amr amr-wb evs h264 vp8
trying ringing session progress ok unauthorized forbidden not found request terminated
busy here decline unavailable temporarily internal error service
example.invalid x-voiptool-anon body removed bytes
pcmu/8000 pcma/8000 g722/8000 g729/8000 gsm/8000 g726-32/8000 ilbc/8000 speex/8000 opus/48000/2
telephone-event/8000 telephone-event/16000 telephone-event/48000 cn/8000 amr/8000 amr-wb/16000
asterisk freeswitch kamailio opensips openser sipxecs yate sems sipp linphone zoiper jitsi
yealink polycom cisco grandstream snom gigaset fritz!box avm audiocodes sonus ribbon oracle acme
broadworks 3cx mitel avaya alcatel panasonic obihai twilio counterpath x-lite bria sip.js jssip
outbound path gruu timer 100rel replaces norefersub precondition histinfo join tdialog eventlist
`

func parseMAC(v string) ([6]byte, bool) {
	var m [6]byte
	k, nib, half := 0, byte(0), false
	for i := 0; i < len(v); i++ {
		c := v[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		case c == ':' || c == '-' || c == '.':
			continue
		default:
			return m, false
		}
		if k >= 6 {
			return m, false
		}
		if half {
			m[k] = nib<<4 | d
			k++
		} else {
			nib = d
		}
		half = !half
	}
	return m, k == 6 && !half
}

// asciiLower folds ASCII only, as the automaton folds its input: Unicode
// case mapping would change the bytes of non-ASCII identifiers and they
// would no longer match themselves.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for k := i; k < len(b); k++ {
				if 'A' <= b[k] && b[k] <= 'Z' {
					b[k] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
