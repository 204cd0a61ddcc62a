package sipflow

import (
	"strings"

	"github.com/voiptool/voiptool/internal/siplex"
)

// NameAddr is a name-addr or addr-spec with header parameters, as in From,
// To, Contact, P-Asserted-Identity and Diversion (RFC 3261 20.10, 25.1).
// All fields alias the decoded message.
type NameAddr struct {
	Raw     []byte
	Display []byte // between the quotes (escapes kept) or the bare tokens
	URI     URI
	Params  []byte // header parameters after the URI, e.g. ";tag=1;x=y"
	Tag     []byte // value of the tag parameter, nil when absent
}

// DisplayName returns the display name with quoted-pair escapes resolved
// (RFC 3261 25.1 quoted-pair). It allocates.
func (n *NameAddr) DisplayName() string {
	d := n.Display
	if indexByte(d, '\\') < 0 {
		return string(d)
	}
	var sb strings.Builder
	for i := 0; i < len(d); i++ {
		if d[i] == '\\' && i+1 < len(d) {
			i++
		}
		sb.WriteByte(d[i])
	}
	return sb.String()
}

// zero reports whether n is the zero NameAddr (Message.reset clears it
// only when not).
func (n *NameAddr) zero() bool {
	return n.Raw == nil && n.Display == nil && n.URI.zero() && n.Params == nil && n.Tag == nil
}

// parse decodes one name-addr / addr-spec element; ok is false when no URI
// could be found.
func (n *NameAddr) parse(v []byte) (ok bool) {
	// Each field is written once (URI by URI.parse) rather than the
	// struct cleared first: while the GC marks, every pointer write
	// pays a barrier.
	v = siplex.TrimLWS(v)
	n.Raw = v
	var display []byte
	rest := v
	quoted := false
	if len(rest) > 0 && rest[0] == '"' {
		quoted = true
		j := 1
		for ; j < len(rest); j++ {
			if rest[j] == '\\' {
				j++
				continue
			}
			if rest[j] == '"' {
				break
			}
		}
		if j >= len(rest) {
			n.Display, n.URI, n.Params, n.Tag = rest[1:], URI{}, nil, nil
			return false
		}
		display = rest[1:j]
		rest = rest[j+1:]
	}
	var uri, params []byte
	// The '<' nearly always follows the display name's closing quote
	// and a space, or opens the value: found by a look at the first
	// byte after white space instead of a bytes.IndexByte call.
	lt := 0
	for lt < len(rest) && siplex.IsLWS(rest[lt]) {
		lt++
	}
	if lt == len(rest) || rest[lt] != '<' {
		lt = indexByte(rest, '<')
	}
	if lt >= 0 {
		if !quoted {
			display = siplex.TrimLWS(rest[:lt])
		}
		n.Display = display
		gt := indexByte(rest[lt:], '>')
		if gt < 0 {
			n.Params, n.Tag = nil, nil
			n.URI.parse(siplex.TrimLWS(rest[lt+1:]))
			return false
		}
		uri = siplex.TrimLWS(rest[lt+1 : lt+gt])
		params = rest[lt+gt+1:]
	} else {
		n.Display = display
		if quoted {
			n.URI, n.Params, n.Tag = URI{}, nil, nil
			return false
		}
		// addr-spec: parameters after the URI are header parameters
		// (RFC 3261 20.10), so the URI ends at the first ';'.
		rest = siplex.TrimLWS(rest)
		end := len(rest)
		if i := indexByte(rest, ';'); i >= 0 {
			end = i
		}
		uri, params = siplex.TrimLWS(rest[:end]), rest[end:]
	}
	n.Params, n.Tag = params, tagParam(params)
	return n.URI.parse(uri)
}

// tagParam returns the tag parameter's value (Param(params, "tag"), nil
// when absent). Nearly every list that has one starts with it: then its
// value ends at the first ';', found in the walk that makes sure no
// quote comes first (NextParam's case to leave to it).
func tagParam(params []byte) []byte {
	if len(params) == 0 {
		return nil
	}
	if len(params) >= len(";tag=") && params[0] == ';' && params[1]|0x20 == 't' && params[2]|0x20 == 'a' && params[3]|0x20 == 'g' && params[4] == '=' {
		v := params[len(";tag="):]
		end := len(v)
		if len(v) <= shortParams {
			for i, c := range v {
				if c == ';' {
					end = i
					break
				}
				if c == '"' {
					end = -1
					break
				}
			}
		} else {
			// long tags (a B2BUA's, 40 bytes and more): two vectorised
			// searches cost less than a step per byte
			if i := indexByte(v, ';'); i >= 0 {
				end = i
			}
			if indexByte(v[:end], '"') >= 0 {
				end = -1
			}
		}
		if end >= 0 {
			return siplex.TrimLWS(v[:end])
		}
	}
	if t, found := Param(params, "tag"); found {
		return t
	}
	return nil
}
