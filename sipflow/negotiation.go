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

// pendingOffer is an offer waiting for its answer.
type pendingOffer struct {
	sdp     []MediaSummary
	t       time.Time
	from    netip.AddrPort
	method  string
	cseq    uint32
	x       uint32 // the offering message's storedMsg.x (its SDP in call.extra)
	fromReq bool   // offered in a request (answer in its response) or in a response (answer in ACK/PRACK)
}

// negotiate follows the offer/answer state of the dialog for one
// non-retransmitted message (RFC 3261 13.2.1, RFC 3264, RFC 3262, RFC 3311).
func (c *call) negotiate(sm *storedMsg, meta *Meta, sdp []MediaSummary) {
	if sm.request() {
		switch c.methodOf(sm) {
		case "INVITE", "UPDATE":
			if sdp == nil {
				if c.methodOf(sm) == "INVITE" {
					c.pend = nil // INVITE without SDP: the offer comes in the 2xx
				}
				return // an UPDATE without SDP (a session refresh) leaves offer/answer alone
			}
			c.offerSeen(&pendingOffer{sdp: sdp, t: meta.Time, from: meta.Src, method: c.methodOf(sm), cseq: sm.cseq, x: sm.x, fromReq: true})
		case "ACK", "PRACK":
			if sdp == nil {
				return
			}
			if p := c.pend; p != nil && !p.fromReq {
				c.complete(p, sm, meta, sdp)
				return
			}
			if c.methodOf(sm) == "PRACK" {
				c.offerSeen(&pendingOffer{sdp: sdp, t: meta.Time, from: meta.Src, method: c.methodOf(sm), cseq: sm.cseq, x: sm.x, fromReq: true})
			}
		}
		return
	}
	switch c.methodOf(sm) {
	case "INVITE", "UPDATE", "PRACK":
	default:
		return
	}
	p := c.pend
	mine := p != nil && p.fromReq && p.cseq == sm.cseq && p.method == c.methodOf(sm)
	if sm.code >= minRedirect {
		if mine {
			c.pend = nil // the offer was rejected: the previous exchange stands (RFC 3261 14.1)
		}
		return
	}
	if sm.code <= codeTrying || sdp == nil {
		return
	}
	switch {
	case mine:
		c.complete(p, sm, meta, sdp)
	case len(c.negs) > 0 && c.negs[len(c.negs)-1].CSeq == sm.cseq && c.negs[len(c.negs)-1].Method == c.methodOf(sm):
		// The 2xx repeating (or, from another fork, replacing) the
		// answer an 18x already gave.
		n := c.negs[len(c.negs)-1]
		n.Answer, n.AnswerTime, n.AnswerFrom = sdp, meta.Time, meta.Src
		c.negs = append(c.negs[:len(c.negs)-1:len(c.negs)-1], n)
	default:
		// An offer in a response: the request had no SDP.
		c.offerSeen(&pendingOffer{sdp: sdp, t: meta.Time, from: meta.Src, method: c.methodOf(sm), cseq: sm.cseq, x: sm.x})
	}
}

func (c *call) offerSeen(p *pendingOffer) {
	c.pend = p
	if len(c.negs) == 0 {
		c.offerX = p.x // shown until the first answer
	}
}

func (c *call) complete(p *pendingOffer, sm *storedMsg, meta *Meta, sdp []MediaSummary) {
	n := Negotiation{Method: p.method, CSeq: p.cseq, OfferTime: p.t, AnswerTime: meta.Time,
		OfferFrom: p.from, AnswerFrom: meta.Src, Offer: p.sdp, Answer: sdp}
	negs := c.negs[:len(c.negs):len(c.negs)] // published slices are immutable
	if len(negs) >= maxNegotiations {
		negs = append(negs[:1:1], negs[2:]...)
		c.coldW().negsCut++
	}
	c.negs = append(negs, n)
	c.offerX = 0 // negs' last holds it now
	c.pend = nil
}

// offerSDP is the summary's Offer: the latest completed exchange's
// offer, before any the latest offer.
func (c *call) offerSDP() []MediaSummary {
	if len(c.negs) > 0 {
		return c.negs[len(c.negs)-1].Offer
	}
	if c.offerX > 0 {
		return c.extra[c.offerX-1].sdp
	}
	return nil
}

// answerSDP is the summary's Answer: the latest completed exchange's.
func (c *call) answerSDP() []MediaSummary {
	if len(c.negs) > 0 {
		return c.negs[len(c.negs)-1].Answer
	}
	return nil
}

// codec is the negotiated voice codec: the first audio codec of the
// answer that is not an event or comfort-noise format, or, when an RTP
// stream of the call carries another of the answer's codecs, that one.
func (c *call) codec() string {
	for _, s := range c.coldR().streams {
		if s.Codec == "" {
			continue
		}
		if x := c.answerCodec(s.Codec); x != "" {
			return x
		}
	}
	return c.answerCodec("")
}

// answerCodec returns the answer's first voice codec named name (any
// case), or its first voice codec when name is "".
func (c *call) answerCodec(name string) string {
	for _, m := range c.answerSDP() {
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
