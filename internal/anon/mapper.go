package anon

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"io"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/sipflow"
)

// Options choose what is kept. The zero value anonymises everything.
type Options struct {
	KeepDomains bool // keep domain names (addresses are still mapped)
	KeepDigits  int  // keep the first N digits of every number (after + or 00)
	KeepBodies  bool // keep bodies that are not SDP or multipart instead of removing them
	// MaxEntries bounds the pseudonym table (for WriteMap) and the set of
	// original identifiers (for the leak check); 0 means 1<<20 each. What
	// does not fit is counted in Stats.TableFull / Identifiers().Dropped.
	MaxEntries int
}

// Stats counts replacements per category and what the mapper refused.
type Stats struct {
	Replaced  [leak.Token + 1]int // by leak.Category
	Secrets   int                 // nonces, responses, keys, ICE passwords replaced
	Bodies    int                 // bodies removed (not SDP or multipart)
	TableFull int                 // pseudonyms not recorded for WriteMap: table full
	Unparsed  int                 // messages or parts that did not parse and were scrubbed as text
	// media
	RTPSilenced int // RTP payloads replaced by silence of the codec
	RTPZeroed   int // RTP payloads of a codec without a known silence, zeroed (flagged)
	RTPDropped  int // RTP packets dropped (RTPDrop)
	DTMFHidden  int // RFC 4733 events whose code was replaced
	RTCPItems   int // RTCP SDES items, BYE reasons and APP data replaced
}

// Mapper turns original identifiers into pseudonyms. Every method is a pure
// function of the key and its argument; the mapper also records each
// original it replaced (for the leak check) and each pair (for WriteMap).
// Not safe for concurrent use.
type Mapper struct {
	opt    Options
	ff1    *FF1
	pan    *CryptoPAn
	mac    hash.Hash // HMAC-SHA-256 under the token subkey
	ids    *leak.Set
	table  map[mapKey]string
	maxTab int
	// memo caches results by function and input: the same identifiers
	// recur in every message of a call. Bounded by maxTab.
	memo     map[memoKey]memoVal
	addrMemo map[netip.Addr]netip.Addr
	msgs     []*sipflow.Message // by nesting depth
	Stats    Stats
	sum      [sha256.Size]byte
}

type mapKey struct {
	cat  leak.Category
	orig string
}

// NewMapper returns a mapper for key.
func NewMapper(key Key, o Options) *Mapper {
	if o.KeepDigits < 0 {
		o.KeepDigits = 0
	}
	ff, err := NewFF1(key.subkey("ff1")[:32], 10)
	if err != nil {
		panic(err) // unreachable: 32-byte AES key, radix 10
	}
	pan, err := NewCryptoPAn(key.subkey("cryptopan"))
	if err != nil {
		panic(err) // unreachable: 32-byte key
	}
	max := o.MaxEntries
	if max <= 0 {
		max = 1 << 20
	}
	return &Mapper{
		opt:      o,
		ff1:      ff,
		pan:      pan,
		mac:      hmac.New(sha256.New, key.subkey("token")),
		ids:      leak.NewSet(max),
		table:    make(map[mapKey]string),
		maxTab:   max,
		memo:     make(map[memoKey]memoVal),
		addrMemo: make(map[netip.Addr]netip.Addr),
	}
}

// Identifiers returns the originals replaced so far, for leak.NewChecker.
func (m *Mapper) Identifiers() *leak.Set { return m.ids }

// Options returns the options of the mapper.
func (m *Mapper) Options() Options { return m.opt }

type memoKey struct {
	fn uint8
	v  string
}

type memoVal struct {
	r   string
	cat leak.Category // 0: nothing recorded
}

// Memo function kinds.
const (
	fnNumber uint8 = iota + 1
	fnUser
	fnName
	fnHost
	fnCallID
	fnTag
	fnBranch
	fnToken
	fnSecret
)

// cached returns a result computed before, counting it again.
func (m *Mapper) cached(fn uint8, s string) (string, bool) {
	v, ok := m.memo[memoKey{fn, s}]
	if !ok {
		return "", false
	}
	if v.cat != 0 {
		m.Stats.Replaced[v.cat]++
	}
	if fn == fnSecret {
		m.Stats.Secrets++
	}
	return v.r, true
}

func (m *Mapper) store(fn uint8, s, r string, cat leak.Category) string {
	if len(m.memo) < m.maxTab {
		if s == r {
			cat = 0
		}
		m.memo[memoKey{fn, s}] = memoVal{r, cat}
	}
	return r
}

func (m *Mapper) record(c leak.Category, orig, repl string) {
	if orig == repl {
		return
	}
	m.Stats.Replaced[c]++
	k := mapKey{c, orig}
	if _, ok := m.table[k]; ok {
		return
	}
	m.ids.Add(c, orig)
	if len(m.table) >= m.maxTab {
		m.Stats.TableFull++
		return
	}
	m.table[k] = repl
}

// WriteMap writes the pseudonym table, one "category TAB original TAB
// pseudonym" line per pair, sorted. The table is as personal as the capture:
// keep it with the key, never with the shared file.
func (m *Mapper) WriteMap(w io.Writer) error {
	keys := make([]mapKey, 0, len(m.table))
	for k := range m.table {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].cat != keys[j].cat {
			return keys[i].cat < keys[j].cat
		}
		return keys[i].orig < keys[j].orig
	})
	bw := bufio.NewWriter(w)
	for _, k := range keys {
		bw.WriteString(k.cat.String())
		bw.WriteByte('\t')
		bw.WriteString(escapeTSV(k.orig))
		bw.WriteByte('\t')
		bw.WriteString(escapeTSV(m.table[k]))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func escapeTSV(s string) string {
	if !strings.ContainsAny(s, "\t\n\r\\") {
		return s
	}
	r := strings.NewReplacer("\\", "\\\\", "\t", "\\t", "\n", "\\n", "\r", "\\r")
	return r.Replace(s)
}

// prf fills out with pseudorandom bytes for (domain, v): HMAC-SHA-256 in
// counter mode under the token subkey.
func (m *Mapper) prf(domain string, v string, out []byte) {
	var ctr [4]byte
	for i := 0; len(out) > 0; i++ {
		m.mac.Reset()
		binary.BigEndian.PutUint32(ctr[:], uint32(i))
		m.mac.Write(ctr[:])
		m.mac.Write([]byte(domain))
		m.mac.Write([]byte{0})
		m.mac.Write([]byte(v))
		s := m.mac.Sum(m.sum[:0])
		n := copy(out, s)
		out = out[n:]
	}
}

const (
	alnum   = "abcdefghijklmnopqrstuvwxyz0123456789"
	letters = "abcdefghijklmnopqrstuvwxyz"
	hexLow  = "0123456789abcdef"
	b64url  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// token returns n characters from alphabet for (domain, v); the first one a
// letter when letterFirst, so a token is never taken for a number.
func (m *Mapper) token(domain, v string, n int, alphabet string, letterFirst bool) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, n)
	for try := 0; ; try++ {
		d := domain
		if try > 0 {
			d += "#" + strconv.Itoa(try)
		}
		m.prf(d, v, b)
		for i := range b {
			if i == 0 && letterFirst {
				b[i] = letters[int(b[i])%len(letters)]
				continue
			}
			b[i] = alphabet[int(b[i])%len(alphabet)]
		}
		// A short pseudonym can equal another original of the capture
		// ("u1234" → "u233" where u233 is a user too): a reader would
		// take it for that one, and the leak check rightly flags it.
		// Draw again; after the learning pass every original is known.
		if try == 7 || !m.isOriginal(string(b)) {
			return string(b)
		}
	}
}

// isOriginal reports whether s is an identifier of the capture (any text
// category), so that no pseudonym is drawn equal to one.
func (m *Mapper) isOriginal(s string) bool {
	_, ok := m.ids.Lookup(s)
	return ok
}

// IsNumber reports whether s is written as a telephone number: an optional
// "+", then digits and RFC 3966 visual separators (- . ( )), at least one
// digit, starting with a digit or "(". Spaces count as separators too, as
// written in display names and SDP p= lines.
func IsNumber(s string) bool {
	if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" || !(isDigit(s[0]) || s[0] == '(') {
		return false
	}
	d := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			d++
		case c == '-' || c == '.' || c == '(' || c == ')' || c == ' ':
		default:
			return false
		}
	}
	return d > 0
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Number maps a telephone number (see the package documentation for the
// rule). Anything that is not IsNumber is returned unchanged.
func (m *Mapper) Number(s string) string {
	if r, ok := m.cached(fnNumber, s); ok {
		return r
	}
	return m.store(fnNumber, s, m.numberUncached(s), leak.Number)
}

func (m *Mapper) numberUncached(s string) string {
	if !IsNumber(s) {
		return s
	}
	var idx []int
	var d []byte
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			idx = append(idx, i)
			d = append(d, s[i])
		}
	}
	start := 0
	if s[0] != '+' && len(d) > 2 && d[0] == '0' && d[1] == '0' {
		start = 2 // "00" international prefix, kept like "+"
	}
	body := d[start:]
	keep := min(m.opt.KeepDigits, len(body))
	x := body[keep:]
	if len(x) == 0 {
		return s
	}
	tweak := body[:keep]
	var y []byte
	if len(x) < ff1MinLen {
		var r [1]byte
		m.prf("digit", string(tweak)+"/"+string(x), r[:])
		y = []byte{'0' + r[0]%10}
	} else {
		nums := make([]uint16, len(x))
		for i, c := range x {
			nums[i] = uint16(c - '0')
		}
		enc, err := m.ff1.Encrypt(nums, tweak)
		if err != nil {
			panic(err) // unreachable: length and numerals checked above
		}
		y = make([]byte, len(enc))
		for i, v := range enc {
			y[i] = byte('0' + v)
		}
	}
	out := []byte(s)
	for i, c := range y {
		out[idx[start+keep+i]] = c
	}
	r := string(out)
	m.record(leak.Number, s, r)
	return r
}

// User maps the user part of a URI (or an auth username): numbers with
// Number, anything else to a token of the same length, starting with a
// letter. "anonymous" (RFC 3323) is kept.
func (m *Mapper) User(s string) string {
	if r, ok := m.cached(fnUser, s); ok {
		return r
	}
	return m.store(fnUser, s, m.userUncached(s), userCat(s))
}

func (m *Mapper) userUncached(s string) string {
	if s == "" || strings.EqualFold(s, "anonymous") {
		return s
	}
	if IsNumber(s) {
		return m.Number(s)
	}
	r := m.token("user", s, len(s), alnum, true)
	m.record(leak.User, s, r)
	return r
}

// Name maps a display name: a number with Number, else every run of
// letters and digits to a token of the same length, so white space and
// punctuation stay where they were.
func (m *Mapper) Name(s string) string {
	if r, ok := m.cached(fnName, s); ok {
		return r
	}
	return m.store(fnName, s, m.nameUncached(s), leak.Name)
}

func (m *Mapper) nameUncached(s string) string {
	if s == "" || strings.EqualFold(s, "anonymous") {
		return s
	}
	if IsNumber(s) {
		return m.Number(s)
	}
	out := []byte(s)
	for i := 0; i < len(out); {
		if !isWordByte(out[i]) {
			i++
			continue
		}
		j := i
		for j < len(out) && isWordByte(out[j]) {
			j++
		}
		w := s[i:j]
		t := m.nameWord(w)
		if len(w) >= 4 && allLetters(w) {
			// a first or last name, found again in free text
			m.record(leak.Name, w, t)
		}
		copy(out[i:], t)
		i = j
	}
	r := string(out)
	m.record(leak.Name, s, r)
	return r
}

// nameWord maps one word of a display name so that it still reads like
// one: letters stay letters with their case ("Alice" -> "Qwmzt"), digits
// stay digits, other bytes (non-ASCII letters) become letters. The same
// word in any case maps to the same letters.
func (m *Mapper) nameWord(w string) string {
	l := asciiLower(w) // same length: strings.ToLower may change it
	b := make([]byte, len(w))
	out := []byte(l)
	for try := 0; try < 8; try++ {
		m.prf("name"+strconv.Itoa(try), l, b)
		m.classMap(out, l, b, false)
		if string(out) != l {
			break
		}
	}
	for k := range out {
		if 'A' <= w[k] && w[k] <= 'Z' {
			out[k] -= 'a' - 'A'
		}
	}
	return string(out)
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c >= 0x80
}

// reservedHost reports names kept as they are: already anonymous or local.
func reservedHost(h string) bool {
	l := strings.ToLower(h)
	return l == "localhost" || l == "invalid" || strings.HasSuffix(l, ".invalid") ||
		strings.HasSuffix(l, ".localhost")
}

// HostSuffix is the reserved domain (RFC 2606) under which mapped names live.
const HostSuffix = ".example.invalid"

// Host maps a host: an IP literal with Addr, a domain name to
// "h<7 characters>.example.invalid" (unless Options.KeepDomains). Names are
// case-insensitive, so case does not change the pseudonym.
func (m *Mapper) Host(s string) string {
	if r, ok := m.cached(fnHost, s); ok {
		return r
	}
	return m.store(fnHost, s, m.hostUncached(s), hostCat(s))
}

func (m *Mapper) hostUncached(s string) string {
	if s == "" {
		return s
	}
	if a, err := netip.ParseAddr(s); err == nil {
		r := m.Addr(a).String()
		return r
	}
	for i := 0; i < len(s); i++ {
		if !isHostNameByte(s[i]) {
			// not a host name: whatever it is, it keeps its punctuation
			return m.Token(s)
		}
	}
	if m.opt.KeepDomains || reservedHost(s) {
		return s
	}
	l := strings.ToLower(strings.TrimSuffix(s, "."))
	r := "h" + m.token("host", l, 7, alnum, false) + HostSuffix
	m.record(leak.Host, s, r)
	return r
}

// Addr maps an address with Crypto-PAn. Loopback, unspecified and multicast
// addresses and the IPv4 broadcast are kept: they name no one, and analysis
// needs them as they are.
func (m *Mapper) Addr(a netip.Addr) netip.Addr {
	if r, ok := m.addrMemo[a]; ok {
		if r != a {
			m.Stats.Replaced[leak.IP]++
		}
		return r
	}
	r := m.addrUncached(a)
	if len(m.addrMemo) < m.maxTab {
		m.addrMemo[a] = r
	}
	return r
}

func (m *Mapper) addrUncached(a netip.Addr) netip.Addr {
	if leak.KeptAddr(a) {
		return a
	}
	r := m.pan.Anonymize(a)
	m.record(leak.IP, a.WithZone("").String(), r.WithZone("").String())
	return r
}

// MAC maps an Ethernet address: pseudorandom bytes, with the original's
// individual/group and universal/local bits. Group (multicast, broadcast)
// addresses and the all-zero address are kept.
func (m *Mapper) MAC(a [6]byte) [6]byte {
	if a[0]&1 != 0 || a == [6]byte{} {
		return a
	}
	var r [6]byte
	m.prf("mac", string(a[:]), r[:])
	r[0] = r[0]&^3 | a[0]&3
	if r == a || r == [6]byte{} {
		r[5] ^= 1
	}
	m.record(leak.MAC, macString(a), macString(r))
	return r
}

func macString(a [6]byte) string {
	b := make([]byte, 0, 17)
	for i, x := range a {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hexLow[x>>4], hexLow[x&15])
	}
	return string(b)
}

// CallID maps a Call-ID, and every copy of one (X-Call-ID, Replaces,
// Target-Dialog): the part before the last "@" to a token of the same
// length, the part after it with Host.
func (m *Mapper) CallID(s string) string {
	if r, ok := m.cached(fnCallID, s); ok {
		return r
	}
	return m.store(fnCallID, s, m.callIDUncached(s), leak.CallID)
}

func (m *Mapper) callIDUncached(s string) string {
	if s == "" {
		return s
	}
	local, host := s, ""
	at := strings.LastIndexByte(s, '@')
	if at >= 0 {
		local, host = s[:at], s[at+1:]
		if !isHostName(host) {
			// not local@host: keep its punctuation, change the rest
			r := m.Token(s)
			m.record(leak.CallID, s, r)
			return r
		}
	}
	// a short local part ("5@localhost") would have few pseudonyms, and
	// collide with other originals: it gets at least 8 characters
	r := m.token("callid", local, max(len(local), 8), alnum, false)
	if at >= 0 {
		r += "@" + m.Host(host)
	}
	m.record(leak.CallID, s, r)
	if len(local) >= 8 {
		m.ids.Add(leak.CallID, local)
	}
	return r
}

// Tag maps a From/To tag (or to-tag/from-tag of Replaces) to a token of
// the same length.
func (m *Mapper) Tag(s string) string {
	if r, ok := m.cached(fnTag, s); ok {
		return r
	}
	return m.store(fnTag, s, m.tagUncached(s), leak.Tag)
}

func (m *Mapper) tagUncached(s string) string {
	if s == "" {
		return s
	}
	r := m.token("tag", s, len(s), alnum, false)
	m.record(leak.Tag, s, r)
	return r
}

// Branch maps a Via branch, keeping the RFC 3261 magic cookie.
func (m *Mapper) Branch(s string) string {
	if r, ok := m.cached(fnBranch, s); ok {
		return r
	}
	return m.store(fnBranch, s, m.branchUncached(s), leak.Tag)
}

func (m *Mapper) branchUncached(s string) string {
	const cookie = "z9hG4bK"
	if strings.HasPrefix(s, cookie) {
		rest := s[len(cookie):]
		if rest == "" {
			return s
		}
		r := cookie + m.token("branch", rest, len(rest), alnum, false)
		m.record(leak.Tag, rest, r[len(cookie):])
		return r
	}
	r := m.token("branch", s, len(s), alnum, false)
	m.record(leak.Tag, s, r)
	return r
}

// Token maps any other identifying value to characters of the same
// classes: digits stay digits, letters stay letters (case kept), every other
// byte stays. Used for instance ids, charging ids, cell ids, CNAMEs.
func (m *Mapper) Token(s string) string {
	if r, ok := m.cached(fnToken, s); ok {
		return r
	}
	return m.store(fnToken, s, m.tokenUncached(s), leak.Token)
}

func (m *Mapper) tokenUncached(s string) string {
	if s == "" {
		return s
	}
	b := make([]byte, len(s))
	out := []byte(s)
	hex := allHex(s) // UUIDs and hex ids stay hex
	for try := 0; try < 8; try++ {
		m.prf("token"+strconv.Itoa(try), s, b)
		m.classMap(out, s, b, hex)
		if string(out) != s && !m.isOriginal(string(out)) {
			break // a short id can map to itself or to another original: draw again
		}
	}
	r := string(out)
	m.record(leak.Token, s, r)
	return r
}

// classMap writes into out the characters of s mapped by the random bytes
// b within their class (digit, hex letter, letter, non-ASCII to letter).
func (m *Mapper) classMap(out []byte, s string, b []byte, hex bool) {
	copy(out, s)
	for i, c := range out {
		switch {
		case isDigit(c):
			out[i] = '0' + b[i]%10
		case hex && 'a' <= c && c <= 'f':
			out[i] = 'a' + b[i]%6
		case hex && 'A' <= c && c <= 'F':
			out[i] = 'A' + b[i]%6
		case 'a' <= c && c <= 'z':
			out[i] = 'a' + b[i]%26
		case 'A' <= c && c <= 'Z':
			out[i] = 'A' + b[i]%26
		case c >= 0x80: // non-ASCII text (names in any script) goes too
			out[i] = 'a' + b[i]%26
		}
	}
}

// Secret replaces a credential or key (nonce, response, SRTP key, ICE
// password, fingerprint) by pseudorandom text of the same length and
// character classes. It is recorded as a Token, so the leak check proves it
// gone; it is not written to the map (a secret has no use there).
func (m *Mapper) Secret(s string) string {
	if r, ok := m.cached(fnSecret, s); ok {
		return r
	}
	return m.store(fnSecret, s, m.secretUncached(s), 0)
}

func (m *Mapper) secretUncached(s string) string {
	if s == "" {
		return s
	}
	m.Stats.Secrets++
	b := make([]byte, len(s))
	m.prf("secret", s, b)
	out := []byte(s)
	for i, c := range out {
		switch {
		case isDigit(c):
			out[i] = '0' + b[i]%10
		case 'a' <= c && c <= 'f' && allHex(s):
			out[i] = hexLow[b[i]%16]
		case 'A' <= c && c <= 'F' && allHex(s):
			out[i] = "0123456789ABCDEF"[b[i]%16]
		case 'a' <= c && c <= 'z':
			out[i] = 'a' + b[i]%26
		case 'A' <= c && c <= 'Z':
			out[i] = 'A' + b[i]%26
		}
	}
	m.ids.Add(leak.Token, s)
	return string(out)
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func isHostName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHostNameByte(s[i]) && s[i] != ':' && s[i] != '[' && s[i] != ']' && s[i] != '%' {
			return false
		}
	}
	return true
}

func isHostNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-' || c == '.'
}

func userCat(s string) leak.Category {
	if IsNumber(s) {
		return leak.Number
	}
	return leak.User
}

func hostCat(s string) leak.Category {
	if _, err := netip.ParseAddr(s); err == nil {
		return leak.IP
	}
	return leak.Host
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlpha(s[i]) && s[i] < 0x80 {
			return false
		}
	}
	return true
}

// asciiLower folds ASCII upper case only, keeping every other byte and so
// the length.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
