package filter

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tEOF  tokKind = iota
	tWord         // keyword, number, address, port range, name
	tOp           // punctuation and operators
)

type token struct {
	kind tokKind
	text string
	off  int
}

// lex splits expr into tokens the way libpcap's scanner does where it
// matters: words are maximal runs of [A-Za-z0-9_.-] (so "5060-5070" is one
// token and "len-1" is a word, not a subtraction, exactly as in tcpdump);
// a run containing ':' is a word only if it is an IPv6 or MAC address, otherwise
// ':' is punctuation (as in "ip[6:2]").
func lex(expr string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isWordByte(c) || c == ':':
			j := i
			for j < len(expr) && (isWordByte(expr[j]) || expr[j] == '-' || expr[j] == '.' || expr[j] == ':') {
				j++
			}
			w := expr[i:j]
			if strings.IndexByte(w, ':') >= 0 {
				if _, err := netip.ParseAddr(w); err != nil && !isMAC(w) {
					k := strings.IndexByte(w, ':')
					if k == 0 {
						toks = append(toks, token{tOp, ":", i})
						i++
						continue
					}
					w = w[:k]
				}
			}
			// A word does not end in '-' (libpcap's ID pattern).
			for len(w) > 1 && w[len(w)-1] == '-' {
				w = w[:len(w)-1]
			}
			toks = append(toks, token{tWord, w, i})
			i += len(w)
			continue
		}
		// Operators, longest first.
		op := ""
		for _, o := range [...]string{"&&", "||", "!=", "==", "<=", ">=", "<<", ">>"} {
			if strings.HasPrefix(expr[i:], o) {
				op = o
				break
			}
		}
		if op == "" {
			if strings.IndexByte("()[]:!=<>&|^+-*/%", c) < 0 {
				_, size := utf8.DecodeRuneInString(expr[i:])
				return nil, &SyntaxError{Offset: i, Token: expr[i : i+size], Err: ErrSyntax, Detail: "unexpected character"}
			}
			op = expr[i : i+1]
		}
		toks = append(toks, token{tOp, op, i})
		i += len(op)
	}
	toks = append(toks, token{tEOF, "", len(expr)})
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// parseMAC reads a MAC address written as six colon-separated groups of
// one or two hex digits, as libpcap does.
func parseMAC(w string) (mac [6]byte, ok bool) {
	parts := strings.Split(w, ":")
	if len(parts) != 6 {
		return mac, false
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return mac, false
		}
		var v byte
		for _, c := range []byte(p) {
			switch {
			case c >= '0' && c <= '9':
				v = v<<4 | (c - '0')
			case c >= 'a' && c <= 'f':
				v = v<<4 | (c - 'a' + 10)
			case c >= 'A' && c <= 'F':
				v = v<<4 | (c - 'A' + 10)
			default:
				return mac, false
			}
		}
		mac[i] = v
	}
	return mac, true
}

func isMAC(w string) bool { _, ok := parseMAC(w); return ok }
