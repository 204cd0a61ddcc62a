package engine

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// MaxTLSFailures bounds the TLS connections kept with their failure
// reasons (the most recent ones); older ones are counted in
// TLSReport.Dropped.
const MaxTLSFailures = 256

// TLSSession is one ended TLS connection whose records were not all
// decrypted, with why (capture/tlsdec's per-session counters).
type TLSSession struct {
	Client     netip.AddrPort `json:"client"`
	Server     netip.AddrPort `json:"server"`
	Version    string         `json:"version"` // "TLS 1.3", "0x7f15" for a draft, "" before the ServerHello
	Suite      uint16         `json:"suite"`   // IANA cipher suite number, 0 before the ServerHello
	Records    int            `json:"records"`
	Decrypted  int            `json:"decrypted"`
	Reason     string         `json:"reason"` // tlsdec.Reason.Code of the first failure
	Detail     string         `json:"detail"` // its explanation
	Reasons    map[string]int `json:"reasons"`
	LateKeys   bool           `json:"late_keys,omitempty"`         // the key log had the secrets only after records waited
	KeyWaitCut bool           `json:"key_wait_exceeded,omitempty"` // records waited for keys past the bound
}

// TLSReport is what the engine knows of decrypted TLS connections that
// ended: sessions by first reason (ReasonNone: fully decrypted), and the
// most recent failed ones.
type TLSReport struct {
	ByReason [tlsdec.NumReasons]int64
	Failed   []TLSSession // oldest first, at most MaxTLSFailures
	Dropped  int64        // failed sessions no longer in Failed
}

// tlsLog keeps the TLS report; the capture pipeline's goroutine writes,
// any reader copies.
type tlsLog struct {
	mu      sync.Mutex
	byRsn   [tlsdec.NumReasons]int64
	ring    []TLSSession
	next    int // ring position of the oldest once full
	dropped int64
}

func (l *tlsLog) add(client, server netip.AddrPort, st tlsdec.SessionStats) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if int(st.Reason) < len(l.byRsn) {
		l.byRsn[st.Reason]++
	}
	if st.Reason == tlsdec.ReasonNone {
		return
	}
	s := TLSSession{
		Client: client, Server: server, Version: versionName(st.Version), Suite: st.Suite,
		Records: st.Dir[0].Records + st.Dir[1].Records, Decrypted: st.Dir[0].Decrypted + st.Dir[1].Decrypted,
		Reason: st.Reason.Code(), Detail: st.Reason.String(), Reasons: map[string]int{},
		LateKeys: st.LateKeys, KeyWaitCut: st.KeyWaitExceeded,
	}
	for r, n := range st.Undecrypted {
		if n > 0 {
			s.Reasons[tlsdec.Reason(r).Code()] = n
		}
	}
	if len(l.ring) < MaxTLSFailures {
		l.ring = append(l.ring, s)
		return
	}
	l.ring[l.next] = s
	l.next = (l.next + 1) % MaxTLSFailures
	l.dropped++
}

func (l *tlsLog) report() TLSReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := TLSReport{ByReason: l.byRsn, Dropped: l.dropped}
	r.Failed = append(append(make([]TLSSession, 0, len(l.ring)), l.ring[l.next:]...), l.ring[:l.next]...)
	return r
}

func versionName(v uint16) string {
	switch v {
	case 0:
		return ""
	case tlsdec.VersionTLS10:
		return "TLS 1.0"
	case tlsdec.VersionTLS11:
		return "TLS 1.1"
	case tlsdec.VersionTLS12:
		return "TLS 1.2"
	case tlsdec.VersionTLS13:
		return "TLS 1.3"
	case 0x0300:
		return "SSL 3.0"
	}
	return fmt.Sprintf("%#04x", v)
}

// TLS returns a copy of the report on ended TLS connections (with
// Options.Capture.Stream.TLSKeys set): counts by reason and the recent
// failed connections with their reasons.
func (e *Engine) TLS() TLSReport { return e.tls.report() }

// reasonsLine says the failure reasons with their session counts, most
// common first: "no key 3, gap 1" ("" when none failed). It copies no
// session: Status calls it at every tick of a UI.
func (l *tlsLog) reasonsLine() string {
	l.mu.Lock()
	by := l.byRsn
	l.mu.Unlock()
	type rc struct {
		r tlsdec.Reason
		n int64
	}
	var list []rc
	for i, n := range by {
		if i != int(tlsdec.ReasonNone) && n > 0 {
			list = append(list, rc{tlsdec.Reason(i), n})
		}
	}
	for i := 1; i < len(list); i++ { // a handful: insertion sort
		for j := i; j > 0 && list[j].n > list[j-1].n; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = strings.ReplaceAll(x.r.Code(), "_", " ") + " " + fmt.Sprint(x.n)
	}
	return strings.Join(parts, ", ")
}
