package sipflow

import "net/netip"

// MinAvgMax summarises a duration in milliseconds. Count is 0 when no call
// contributed; the other fields are then 0.
type MinAvgMax struct {
	Count int     `json:"count"`
	Min   int64   `json:"min_ms"`
	Avg   float64 `json:"avg_ms"`
	Max   int64   `json:"max_ms"`
}

func (s *MinAvgMax) add(v int64) {
	if v < 0 {
		return
	}
	if s.Count == 0 || v < s.Min {
		s.Min = v
	}
	if v > s.Max {
		s.Max = v
	}
	s.Avg += (float64(v) - s.Avg) / float64(s.Count+1)
	s.Count++
}

// KPIs are the signalling key performance indicators of the calls that
// match a filter, in the style of HOMER / RFC 6076.
//
// Counting rules:
//
//   - Methods and Codes count every non-retransmitted message of every
//     matching dialog (a message seen on several hops counts on each hop).
//   - Invites counts initial INVITE transactions: non-retransmitted INVITE
//     requests without To-tag. An INVITE re-sent with credentials after a
//     401/407 is a new transaction and counts again; re-INVITEs do not.
//   - Answered (200), AuthChallenges (401/407), Redirects (3xx), Busy (486),
//     Terminated (487) and Declined (603) count, per initial INVITE
//     transaction, the first final response (retransmissions and later
//     final responses from other forks are not counted).
//   - ASR = Answered / (Invites - AuthChallenges - Redirects) x 100.
//   - NER = (Answered + Busy + Terminated + Declined) / (same) x 100.
//     Both are 0 when the denominator is not positive.
//   - SD (session defects) and ISA (ineffective session attempts) count
//     calls, not transactions: SD are calls whose final code is 500, 503 or
//     504; ISA are calls whose final code is 408, 500, 503 or 504 plus calls
//     in state TIMEOUT (no final response). Percentages are of Calls.
//   - AHR (average hop count) is the mean number of Via entries on initial
//     INVITE requests.
//   - Setup (INVITE -> 200) and PDD (INVITE -> first 18x) are per call.
type KPIs struct {
	Calls           int            `json:"calls"`   // matching INVITE dialogs
	Dialogs         int            `json:"dialogs"` // all matching dialogs
	Methods         map[string]int `json:"methods"`
	Codes           map[int]int    `json:"codes"`
	Retransmissions int            `json:"retransmissions"`
	// Duplicates are copies of a message within DuplicateWindow on the
	// same path: captured twice, not resent (not in Retransmissions).
	Duplicates     int       `json:"duplicates"`
	Invites        int       `json:"invites"`
	Answered       int       `json:"answered"`
	AuthChallenges int       `json:"auth_challenges"`
	Redirects      int       `json:"redirects"`
	Busy           int       `json:"busy"`
	Terminated     int       `json:"terminated"`
	Declined       int       `json:"declined"`
	ASR            float64   `json:"asr"`
	NER            float64   `json:"ner"`
	SD             int       `json:"sd"`
	SDPercent      float64   `json:"sd_percent"`
	ISA            int       `json:"isa"`
	ISAPercent     float64   `json:"isa_percent"`
	AHR            float64   `json:"ahr"`
	Setup          MinAvgMax `json:"setup"`
	PDD            MinAvgMax `json:"pdd"`
}

// KPIs computes the indicators over the calls matching f.
func (s *Store) KPIs(f Filter) KPIs {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := KPIs{Methods: map[string]int{}, Codes: map[int]int{}}
	if s.calls.slots == nil {
		return k
	}
	viaSum := 0
	var sum CallSummary
	var ips []netip.Addr // scratch
	for c := s.order.front; c != nil; c = c.ord.next {
		ips = c.filterInto(&sum, ips) // the filter's fields, and the times read below
		if !f.Match(&sum) {
			continue
		}
		k.Dialogs++
		k.Retransmissions += int(c.retrans)
		k.Duplicates += int(c.dups)
		for i := range c.msgs {
			sm := &c.msgs[i]
			if sm.retrans() {
				continue
			}
			if sm.request() {
				k.Methods[c.methodOf(sm)]++
			} else {
				k.Codes[int(sm.code)]++
			}
		}
		if !c.isInvite {
			continue
		}
		k.Calls++
		// first final response per initial INVITE transaction
		var answered map[uint32]bool
		for i := range c.msgs {
			sm := &c.msgs[i]
			if sm.retrans() || c.methodOf(sm) != "INVITE" || !sm.initialInv() {
				continue
			}
			if sm.request() {
				k.Invites++
				viaSum += c.viasOf(sm)
				continue
			}
			if sm.code < minFinal {
				continue
			}
			if answered == nil {
				answered = make(map[uint32]bool)
			}
			if answered[sm.txn] {
				continue
			}
			answered[sm.txn] = true
			switch {
			case sm.code == codeOK:
				k.Answered++
			case sm.code == codeUnauthorized || sm.code == codeProxyAuthRequired:
				k.AuthChallenges++
			case sm.code >= minRedirect && sm.code < minFailure:
				k.Redirects++
			case sm.code == codeBusyHere:
				k.Busy++
			case sm.code == codeRequestTerminated:
				k.Terminated++
			case sm.code == codeDecline:
				k.Declined++
			}
		}
		switch c.finalCode {
		case codeServerError, codeServiceUnavailable, codeServerTimeout:
			k.SD++
			k.ISA++
		case codeRequestTimeout:
			k.ISA++
		default:
			if c.state == StateTimeout {
				k.ISA++
			}
		}
		k.Setup.add(sum.SetupMS)
		k.PDD.add(sum.PDDMS)
	}
	if d := k.Invites - k.AuthChallenges - k.Redirects; d > 0 {
		k.ASR = float64(k.Answered) / float64(d) * 100
		k.NER = float64(k.Answered+k.Busy+k.Terminated+k.Declined) / float64(d) * 100
	}
	if k.Calls > 0 {
		k.SDPercent = float64(k.SD) / float64(k.Calls) * 100
		k.ISAPercent = float64(k.ISA) / float64(k.Calls) * 100
	}
	if k.Invites > 0 {
		k.AHR = float64(viaSum) / float64(k.Invites)
	}
	return k
}
