package sipflow

import (
	"net/netip"
	"strings"
	"time"
)

// Negotiation is one completed SDP offer/answer exchange (RFC 3264):
// INVITE/2xx (or 18x), 2xx/ACK for an INVITE without SDP, a re-INVITE
// from either side, UPDATE or PRACK (RFC 3311, RFC 3262).
type Negotiation struct {
	Method     string         `json:"method"` // of the transaction that carried the offer
	CSeq       uint32         `json:"cseq"`
	OfferTime  time.Time      `json:"offer_time"`
	AnswerTime time.Time      `json:"answer_time"`
	OfferFrom  netip.AddrPort `json:"offer_from"` // signalling source of the offer
	AnswerFrom netip.AddrPort `json:"answer_from"`
	Offer      []MediaSummary `json:"offer"`
	Answer     []MediaSummary `json:"answer"`
}

// maxNegotiations bounds SDPHistory: session refreshes with SDP every few
// minutes would otherwise grow it without end. The first exchange is
// kept, then the latest; the rest are counted as dropped.
const maxNegotiations = 32

// negotiated reports whether the call completed an exchange (call.neg):
// an answer comes after its offer, so its index is never 0.
func (c *call) negotiated() bool { return c.neg.answer != 0 }

// negRec is a completed exchange as the call keeps it: the offering and
// answering messages (indexes into call.msgs), which hold everything a
// Negotiation shows.
type negRec struct{ offer, answer uint32 }

// negotiation writes the Negotiation r stands for into *n, its media
// offer and answer (nil: built from a).
func (c *call) negotiation(n *Negotiation, r negRec, a *summaryAlloc, offer, answer []MediaSummary) {
	o, an := &c.msgs[r.offer], &c.msgs[r.answer]
	of, _ := c.srcDst(o)
	af, _ := c.srcDst(an)
	if offer == nil {
		offer = c.sdpOf(r.offer, a)
	}
	if answer == nil {
		answer = c.sdpOf(r.answer, a)
	}
	*n = Negotiation{Method: c.methodOf(o), CSeq: o.cseq, OfferTime: timeOf(c.tOf(o)), AnswerTime: timeOf(c.tOf(an)),
		OfferFrom: c.eps[of], AnswerFrom: c.eps[af], Offer: offer, Answer: answer}
}

// sdpHistory is the summary's SDPHistory, built for a reader from a.
// offer and answer are the summary's Offer and Answer, which are the
// latest exchange's: its entry shares them (readers never change a
// summary's slices) instead of building them again.
func (c *call) sdpHistory(a *summaryAlloc, offer, answer []MediaSummary) []Negotiation {
	if !c.negotiated() {
		return nil
	}
	earlier := c.rareR().negs
	out := a.negsN(len(earlier) + 1)
	for i, r := range earlier {
		c.negotiation(&out[i], r, a, nil, nil)
	}
	c.negotiation(&out[len(earlier)], c.neg, a, offer, answer)
	return out
}

// pending is the message whose offer awaits its answer (call.pendM),
// nil when none. The message holds what the answer is matched by: its
// CSeq, its method, whether it is a request (then the answer comes in
// its response; else in the ACK or PRACK). A pointer to a copy of them
// was an allocation for nearly every call.
func (c *call) pending() *storedMsg {
	if c.pendM == 0 {
		return nil
	}
	return &c.msgs[c.pendM-1]
}

// negotiate follows the offer/answer state of the dialog for one
// non-retransmitted message (RFC 3261 13.2.1, RFC 3264, RFC 3262, RFC 3311).
func (c *call) negotiate(sm *storedMsg) {
	hasSDP := sm.flags&fSDP != 0
	if sm.request() {
		switch c.methodOf(sm) {
		case "INVITE", "UPDATE":
			if !hasSDP {
				if c.methodOf(sm) == "INVITE" {
					c.pendM = 0 // INVITE without SDP: the offer comes in the 2xx
				}
				return // an UPDATE without SDP (a session refresh) leaves offer/answer alone
			}
			c.offerSeen()
		case "ACK", "PRACK":
			if !hasSDP {
				return
			}
			if p := c.pending(); p != nil && !p.request() {
				c.complete()
				return
			}
			if c.methodOf(sm) == "PRACK" {
				c.offerSeen()
			}
		}
		return
	}
	switch c.methodOf(sm) {
	case "INVITE", "UPDATE", "PRACK":
	default:
		return
	}
	p := c.pending()
	mine := p != nil && p.request() && p.cseq == sm.cseq && c.methodIdx(p) == c.methodIdx(sm)
	if sm.code >= minRedirect {
		if mine {
			c.pendM = 0 // the offer was rejected: the previous exchange stands (RFC 3261 14.1)
		}
		return
	}
	if sm.code <= codeTrying || !hasSDP {
		return
	}
	switch {
	case mine:
		c.complete()
	case c.negotiated() && c.msgs[c.neg.offer].cseq == sm.cseq && c.methodOf(&c.msgs[c.neg.offer]) == c.methodOf(sm):
		// The 2xx repeating (or, from another fork, replacing) the
		// answer an 18x already gave.
		c.neg.answer = uint32(len(c.msgs)) // sm, about to be filed
	default:
		// An offer in a response: the request had no SDP.
		c.offerSeen()
	}
}

// offerSeen notes the offer of the message about to be filed.
func (c *call) offerSeen() {
	c.pendM = uint32(len(c.msgs)) + 1
	if !c.negotiated() {
		c.offerM = c.pendM // shown until the first answer
	}
}

// complete pairs the pending offer with the answer of the message about
// to be filed.
func (c *call) complete() {
	n := negRec{offer: c.pendM - 1, answer: uint32(len(c.msgs))} // the answer is the message about to be filed
	if c.negotiated() {
		rare := c.rareW()
		if len(rare.negs)+1 >= maxNegotiations {
			rare.negs = append(rare.negs[:1], rare.negs[2:]...) // readers get copies (sdpHistory)
			rare.negsCut++
		} else {
			c.bytes += negOverhead
		}
		rare.negs = append(rare.negs, c.neg)
	}
	c.neg = n
	c.offerM = 0 // neg holds it now
	c.pendM = 0
}

// offerSDP is the summary's Offer: the latest completed exchange's
// offer, before any the latest offer.
func (c *call) offerSDP(a *summaryAlloc) []MediaSummary {
	if c.negotiated() {
		return c.sdpOf(c.neg.offer, a)
	}
	if c.offerM > 0 {
		return c.sdpOf(c.offerM-1, a)
	}
	return nil
}

// answerSDP is the summary's Answer: the latest completed exchange's.
func (c *call) answerSDP(a *summaryAlloc) []MediaSummary {
	if c.negotiated() {
		return c.sdpOf(c.neg.answer, a)
	}
	return nil
}

// codec is the negotiated voice codec: the first audio codec of the
// answer that is not an event or comfort-noise format, or, when an RTP
// stream of the call carries another of the answer's codecs, that one.
// answer is the summary's Answer (answerSDP), built already.
func (c *call) codec(answer []MediaSummary) string {
	for _, s := range c.coldR().streams {
		if s.Codec == "" {
			continue
		}
		if x := answerCodec(answer, s.Codec); x != "" {
			return x
		}
	}
	return answerCodec(answer, "")
}

// answerCodec returns the answer's first voice codec named name (any
// case), or its first voice codec when name is "".
func answerCodec(answer []MediaSummary, name string) string {
	for i := range answer {
		m := &answer[i]
		if m.Type != "audio" || m.Addr.Port() == 0 {
			continue
		}
		for _, x := range m.Codecs {
			if !auxCodec(x) && (name == "" || strings.EqualFold(name, x)) {
				return x
			}
		}
	}
	return ""
}

// auxCodec names formats that ride beside the voice codec.
func auxCodec(name string) bool {
	for _, a := range [...]string{"telephone-event", "cn", "red", "ulpfec", "rtx", "13"} {
		if strings.EqualFold(name, a) {
			return true
		}
	}
	return false
}
