package args

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/voiptool/voiptool/sipflow"
)

var (
	// ErrNoCall: no call has the Call-ID or a Call-ID starting with it.
	ErrNoCall = errors.New("args: no such call")
	// ErrAmbiguous: the prefix starts several Call-IDs.
	ErrAmbiguous = errors.New("args: ambiguous Call-ID prefix")
	// ErrBadAlias: an alias is not IP=NAME.
	ErrBadAlias = errors.New("args: bad alias")
)

// Calls is what ResolveCallID looks calls up in (the engine, the store).
type Calls interface {
	Call(id string) (sipflow.CallDetail, bool)
	Calls(f sipflow.Filter, offset, limit int) []sipflow.CallSummary
}

// ResolveCallID returns the Call-ID id names: itself when a call has it,
// else the one Call-ID it is a prefix of. The errors wrap ErrNoCall or
// ErrAmbiguous and say what to do.
func ResolveCallID(c Calls, id string) (string, error) {
	if _, ok := c.Call(id); ok {
		return id, nil
	}
	var found []string
	for _, s := range c.Calls(sipflow.Filter{}, 0, -1) {
		if strings.HasPrefix(s.CallID, id) {
			found = append(found, s.CallID)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: no call with Call-ID %q (list them with 'voiptool calls')", ErrNoCall, id)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%w: %q matches %d calls (%s, ...): give more of it", ErrAmbiguous, id, len(found), strings.Join(found[:2], ", "))
}

// ParseAliases reads IP=NAME pairs (spaces around either side ignored).
func ParseAliases(list []string) (map[netip.Addr]string, error) {
	m := make(map[netip.Addr]string, len(list))
	for _, a := range list {
		ip, name, ok := strings.Cut(a, "=")
		addr, err := netip.ParseAddr(strings.TrimSpace(ip))
		if !ok || err != nil || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("%w %q (want IP=NAME)", ErrBadAlias, a)
		}
		m[addr] = strings.TrimSpace(name)
	}
	return m, nil
}

// CallsOnly restricts a filter expression to INVITE dialogs.
func CallsOnly(filter string) string {
	if filter == "" {
		return "type=CALL"
	}
	return "type=CALL and (" + filter + ")"
}
