package sipflow

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/internal/siplex"
)

// The helpers below were rewritten for speed (IndexByte where no quote is
// in the way, one walk for short lists, a dotted quad before any ':').
// Their walks as they were serve as oracles, as lookupLinear does for
// LookupHeader, over random inputs built from the bytes that matter.

func nextElemWalk(v []byte) (elem, rest []byte) {
	inQuote, inAngle := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inQuote:
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
		case c == '"':
			inQuote = true
		case c == '<':
			inAngle = true
		case c == '>':
			inAngle = false
		case c == ',' && !inAngle:
			return siplex.TrimLWS(v[:i]), v[i+1:]
		}
	}
	return siplex.TrimLWS(v), nil
}

func nextParamWalk(params []byte) (name, value, rest []byte, ok bool) {
	for len(params) > 0 && (params[0] == ';' || siplex.IsLWS(params[0])) {
		params = params[1:]
	}
	if len(params) == 0 {
		return nil, nil, nil, false
	}
	end := len(params)
	inQuote := false
	for i := 0; i < len(params); i++ {
		c := params[i]
		if inQuote {
			if c == '\\' {
				i++
			} else if c == '"' {
				inQuote = false
			}
			continue
		}
		if c == '"' {
			inQuote = true
		} else if c == ';' {
			end = i
			break
		}
	}
	p := params[:end]
	eq := bytes.IndexByte(p, '=')
	if eq < 0 {
		return siplex.TrimLWS(p), p[len(p):], params[end:], true
	}
	return siplex.TrimLWS(p[:eq]), siplex.TrimLWS(p[eq+1:]), params[end:], true
}

func parseIPWalk(b []byte) netip.Addr {
	if len(b) == 0 {
		return netip.Addr{}
	}
	if bytes.IndexByte(b, ':') < 0 {
		var a [4]byte
		k, n, digits := 0, 0, 0
		for _, c := range b {
			switch {
			case c >= '0' && c <= '9':
				n = n*10 + int(c-'0')
				digits++
				if n > 255 || digits > 3 {
					return netip.Addr{}
				}
			case c == '.' && digits > 0 && k < 3:
				a[k] = byte(n)
				k++
				n, digits = 0, 0
			default:
				return netip.Addr{}
			}
		}
		if k != 3 || digits == 0 {
			return netip.Addr{}
		}
		a[3] = byte(n)
		return netip.AddrFrom4(a)
	}
	ip, err := netip.ParseAddr(string(b))
	if err != nil || len(b) > 64 {
		return netip.Addr{}
	}
	return ip
}

// same reports whether two results are equal, nil and empty told apart.
func same(a, b []byte) bool { return bytes.Equal(a, b) && (a == nil) == (b == nil) }

func randBytes(r *rand.Rand, alphabet string, max int) []byte {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func TestLexHelpersAgainstWalks(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 40))
	const sipBytes = "ab;=\",<>\\ \t\r\n:@.?[]1"
	for k := 0; k < 200000; k++ {
		v := randBytes(r, sipBytes, 40)
		e1, r1 := nextElem(v)
		e2, r2 := nextElemWalk(v)
		if !same(e1, e2) || !same(r1, r2) {
			t.Fatalf("nextElem(%q) = %q %q, walk %q %q", v, e1, r1, e2, r2)
		}
		n1, v1, rest1, ok1 := NextParam(v)
		n2, v2, rest2, ok2 := nextParamWalk(v)
		if ok1 != ok2 || !same(n1, n2) || !same(v1, v2) || !same(rest1, rest2) {
			t.Fatalf("NextParam(%q) = %q %q %q %v, walk %q %q %q %v", v, n1, v1, rest1, ok1, n2, v2, rest2, ok2)
		}
		for _, c := range []byte("@:;") {
			if got, want := lastIndexByte(v, c), bytes.LastIndexByte(v, c); got != want {
				t.Fatalf("lastIndexByte(%q, %q) = %d, want %d", v, c, got, want)
			}
		}
		ip := randBytes(r, "0123456789.:af%", 20)
		if got, want := parseIP(ip), parseIPWalk(ip); got != want {
			t.Fatalf("parseIP(%q) = %v, walk %v", ip, got, want)
		}
	}
}

// TestLookupHeaderEveryName: every name of headerNames is found in any
// case (LookupHeader's switch spells each out).
func TestLookupHeaderEveryName(t *testing.T) {
	for _, h := range headerNames {
		for _, n := range []string{h.name, strings.ToUpper(h.name), strings.ToLower(h.name)} {
			if k := LookupHeader([]byte(n)); k != h.kind {
				t.Errorf("LookupHeader(%q) = %v, want %v", n, k, h.kind)
			}
		}
	}
}
