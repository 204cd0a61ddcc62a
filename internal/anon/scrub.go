package anon

import (
	"net/netip"

	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/sipflow"
)

// scrubMode chooses what free text loses.
type scrubMode uint8

const (
	// scrubFull: URIs, user@host, addresses, MACs, domain names, digit
	// runs of 5 or more, and words already known as identifiers.
	scrubFull scrubMode = iota
	// scrubNoDigits: as scrubFull but digit runs and domain-like words
	// are kept (SDP attributes, where 48000 is a clock rate).
	scrubNoDigits
	// scrubProduct: User-Agent and Server: only URIs, user@host, MACs,
	// IPv6 and known identifiers; product versions like 1.0.11.23 stay.
	scrubProduct
)

// minScrubDigits is the shortest digit run free text loses: shorter runs are
// ports, codes, counts and versions.
const minScrubDigits = 5

func isUserChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) ||
		c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' ||
		c == '%' || c == '+' || c == '&' || c == '=' || c == '$'
}

func isHostChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || c == '-' || c == '.'
}

func isHexColon(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.'
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func hasPrefixFold(b []byte, s string) bool {
	if len(b) < len(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func isURIEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '<' || c == '>' || c == '"' || c == ','
}

// scrub pseudonymises what looks like an identifier in free text t, a slice
// of ed.base, pushing its edits to ed.
func (m *Mapper) scrub(ed *editor, t []byte, mode scrubMode) {
	i := 0
	for i < len(t) {
		c := t[i]
		wordStart := i == 0 || !isUserChar(t[i-1])
		// words already known as identifiers (from structured fields of
		// this or an earlier message), whole or between - . / separators
		if wordStart && (isAlpha(c) || isDigit(c)) {
			j := i
			for j < len(t) && (isHostChar(t[j]) || t[j] == '_') {
				j++
			}
			if j < len(t) && t[j] == '@' {
				// user@host: handled below
			} else if m.knownWord(ed, t[i:j]) {
				i = j
				continue
			}
			// known parts were replaced; the rest of the word is scanned
			// as usual (edits inside a replaced part are dropped by apply)
		}
		// URIs
		if wordStart && isAlpha(c) {
			if n := m.scrubURI(ed, t[i:]); n > 0 {
				i += n
				continue
			}
		}
		// IPv6 and MAC literals
		if (i == 0 || !isHexColon(t[i-1]) && !isAlpha(t[i-1])) && (isHexColon(c)) {
			j := i
			colons := 0
			for j < len(t) && isHexColon(t[j]) {
				if t[j] == ':' {
					colons++
				}
				j++
			}
			if colons >= 2 && (j == len(t) || !isAlpha(t[j])) {
				lit := t[i:j]
				if a, ok := parseMACBytes(lit); ok {
					r := m.MAC(a)
					ed.Set(lit, formatMACLike(lit, r))
					i = j
					continue
				}
				if a, err := netip.ParseAddr(string(lit)); err == nil && a.Is6() {
					ed.Set(lit, m.Addr(a).String())
					i = j
					continue
				}
			}
		}
		// user@host
		if c == '@' && i > 0 && i+1 < len(t) {
			l := i
			for l > 0 && isUserChar(t[l-1]) {
				l--
			}
			r := i + 1
			if r < len(t) && t[r] == '[' {
				if k := indexByte(t[r:], ']'); k > 0 {
					r += k + 1
				}
			} else {
				for r < len(t) && isHostChar(t[r]) {
					r++
				}
			}
			if l < i && r > i+1 {
				ed.Set(t[l:i], m.User(string(t[l:i])))
				host := t[i+1 : r]
				if host[0] == '[' {
					host = host[1 : len(host)-1]
				}
				ed.Set(host, m.Host(string(host)))
				i = r
				continue
			}
		}
		// dotted quads and digit runs
		if isDigit(c) && (i == 0 || !isDigit(t[i-1]) && t[i-1] != '.') {
			j := i
			for j < len(t) && (isDigit(t[j]) || t[j] == '.') {
				j++
			}
			run := t[i:j]
			for len(run) > 0 && run[len(run)-1] == '.' {
				run = run[:len(run)-1]
			}
			if a, ok := dottedQuad(run); ok && mode != scrubProduct {
				ed.Set(run, m.Addr(a).String())
				i += len(run)
				continue
			}
			k := i
			for k < len(t) && isDigit(t[k]) {
				k++
			}
			if mode == scrubFull && k-i >= minScrubDigits {
				s := i
				if s > 0 && t[s-1] == '+' {
					s--
				}
				ed.Set(t[s:k], m.Number(string(t[s:k])))
			}
			i = j
			continue
		}
		// words: domain names and known identifiers
		if wordStart && isAlpha(c) {
			j := i
			for j < len(t) && (isHostChar(t[j]) || t[j] == '_') {
				j++
			}
			w := t[i:j]
			for len(w) > 0 && (w[len(w)-1] == '.' || w[len(w)-1] == '-') {
				w = w[:len(w)-1]
			}
			m.scrubWord(ed, w, mode)
			i = j
			continue
		}
		i++
	}
}

// knownWord replaces w when it is a known original identifier and reports
// so; otherwise it replaces the parts of w between '-', '.' and '/' that are
// known and reports false, for the caller to scan the rest.
func (m *Mapper) knownWord(ed *editor, w []byte) bool {
	for len(w) > 0 && (w[len(w)-1] == '.' || w[len(w)-1] == '-') {
		w = w[:len(w)-1]
	}
	if len(w) == 0 {
		return false
	}
	if m.replaceKnown(ed, w) {
		return true
	}
	for k := 0; k < len(w); {
		e := k
		for e < len(w) && w[e] != '-' && w[e] != '.' && w[e] != '/' {
			e++
		}
		if e-k < len(w) {
			m.replaceKnown(ed, w[k:e])
		}
		k = e + 1
	}
	return false
}

// replaceKnown replaces w when it is a known original identifier.
func (m *Mapper) replaceKnown(ed *editor, w []byte) bool {
	cat, ok := m.ids.Lookup(string(w))
	if !ok {
		return false
	}
	s := string(w)
	switch cat {
	case leak.User:
		ed.Set(w, m.User(s))
	case leak.Host:
		ed.Set(w, m.Host(s))
	case leak.Name:
		ed.Set(w, m.Name(s))
	case leak.CallID:
		ed.Set(w, m.CallID(s))
	case leak.Tag:
		ed.Set(w, m.Tag(s))
	case leak.Number:
		ed.Set(w, m.Number(s))
	default:
		ed.Set(w, m.Token(s))
	}
	return true
}

// scrubWord replaces a word that is a known original identifier, or (full
// mode) looks like a domain name.
func (m *Mapper) scrubWord(ed *editor, w []byte, mode scrubMode) {
	if len(w) == 0 || m.replaceKnown(ed, w) {
		return
	}
	if mode == scrubFull && looksLikeDomain(w) {
		ed.Set(w, m.Host(string(w)))
	}
}

// looksLikeDomain: two or more labels of host characters, the last one
// alphabetic and at least two long (a TLD), no empty label.
func looksLikeDomain(w []byte) bool {
	dots, last := 0, -1
	for i, c := range w {
		if !isHostChar(c) {
			return false
		}
		if c == '.' {
			if i == last+1 {
				return false
			}
			dots++
			last = i
		}
	}
	if dots == 0 || last == len(w)-1 {
		return false
	}
	tld := w[last+1:]
	if len(tld) < 2 {
		return false
	}
	for _, c := range tld {
		if !isAlpha(c) {
			return false
		}
	}
	return true
}

// scrubURI rewrites a sip:, sips:, tel: or scheme:// URI at the start of t
// and returns its length, or 0 when t does not start with one.
func (m *Mapper) scrubURI(ed *editor, t []byte) int {
	switch {
	case hasPrefixFold(t, "sip:"), hasPrefixFold(t, "sips:"), hasPrefixFold(t, "tel:"):
		end := 0
		for end < len(t) && !isURIEnd(t[end]) {
			end++
		}
		raw := t[:end]
		if u, ok := sipflow.ParseURI(raw); ok {
			m.uri(ed, u, 0)
			return end
		}
		return 0
	}
	// scheme://host
	k := 0
	for k < len(t) && (isAlpha(t[k]) || isDigit(t[k]) || t[k] == '+' || t[k] == '-' || t[k] == '.') {
		k++
	}
	if k == 0 || k+3 > len(t) || string(t[k:k+3]) != "://" {
		return 0
	}
	h := k + 3
	e := h
	if e < len(t) && t[e] == '[' {
		if j := indexByte(t[e:], ']'); j > 0 {
			host := t[e+1 : e+j]
			if a, err := netip.ParseAddr(string(host)); err == nil {
				ed.Set(host, m.Addr(a).String())
			}
			return e + j + 1
		}
	}
	// userinfo
	for e < len(t) && (isUserChar(t[e]) || t[e] == ':') {
		e++
	}
	if e < len(t) && t[e] == '@' {
		ui := t[h:e]
		if c := indexByte(ui, ':'); c >= 0 {
			ed.Set(ui[:c], m.User(string(ui[:c])))
			ed.Set(ui[c+1:], m.Secret(string(ui[c+1:])))
		} else {
			ed.Set(ui, m.User(string(ui)))
		}
		h = e + 1
	}
	e = h
	for e < len(t) && isHostChar(t[e]) {
		e++
	}
	if e > h {
		ed.Set(t[h:e], m.Host(string(t[h:e])))
	}
	return e
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// dottedQuad parses exactly a.b.c.d with 1-3 digit parts up to 255.
func dottedQuad(b []byte) (netip.Addr, bool) {
	var a [4]byte
	k, n, digits := 0, 0, 0
	for _, c := range b {
		switch {
		case isDigit(c):
			n = n*10 + int(c-'0')
			digits++
			if n > 255 || digits > 3 {
				return netip.Addr{}, false
			}
		case c == '.' && digits > 0 && k < 3:
			a[k] = byte(n)
			k++
			n, digits = 0, 0
		default:
			return netip.Addr{}, false
		}
	}
	if k != 3 || digits == 0 {
		return netip.Addr{}, false
	}
	a[3] = byte(n)
	return netip.AddrFrom4(a), true
}

// parseMACBytes parses six hex pairs separated by ':' or '-'.
func parseMACBytes(b []byte) ([6]byte, bool) {
	var a [6]byte
	if len(b) != 17 {
		return a, false
	}
	for i := 0; i < 6; i++ {
		h, l := unhex(b[3*i]), unhex(b[3*i+1])
		if h < 0 || l < 0 || (i < 5 && b[3*i+2] != b[2]) || (b[2] != ':' && b[2] != '-') {
			return a, false
		}
		a[i] = byte(h<<4 | l)
	}
	return a, true
}

func unhex(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// formatMACLike writes a in the separator and case of orig.
func formatMACLike(orig []byte, a [6]byte) string {
	digits := "0123456789abcdef"
	for _, c := range orig {
		if 'A' <= c && c <= 'F' {
			digits = "0123456789ABCDEF"
			break
		}
	}
	out := make([]byte, 0, 17)
	for i, x := range a {
		if i > 0 {
			out = append(out, orig[2])
		}
		out = append(out, digits[x>>4], digits[x&15])
	}
	return string(out)
}
