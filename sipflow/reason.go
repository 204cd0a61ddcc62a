package sipflow

import "github.com/voiptool/voiptool/internal/siplex"

// Reason is the first Reason header (RFC 3326 2):
//
//	Reason: Q.850;cause=16;text="Normal call clearing"
type Reason struct {
	Raw      []byte
	Protocol []byte // "SIP", "Q.850", ...
	Cause    int    // -1 when absent or not numeric
	Text     []byte // without quotes, escapes kept
}

// zero reports whether r is the zero Reason (Message.reset clears it
// only when not).
func (r *Reason) zero() bool {
	return r.Raw == nil && r.Protocol == nil && r.Cause == 0 && r.Text == nil
}

func (r *Reason) parse(b []byte) {
	b = siplex.TrimLWS(b)
	*r = Reason{Raw: b, Cause: -1}
	end := len(b)
	if i := indexByte(b, ';'); i >= 0 {
		end = i
	}
	r.Protocol = siplex.TrimLWS(b[:end])
	params := b[end:]
	if c, f := Param(params, "cause"); f {
		if n, ok := atoi(c, 1<<20); ok {
			r.Cause = n
		}
	}
	if t, f := Param(params, "text"); f {
		r.Text = unquote(t)
	}
}
