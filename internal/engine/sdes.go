package engine

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/voiptool/voiptool/capture/srtpdec"
	"github.com/voiptool/voiptool/sipflow"
)

// maxSDESOffers bounds the SDES offers remembered while their answers are
// awaited; sdesOfferTTL is the packet time after which an unanswered
// offer may be dropped to make room (an INVITE's answer comes within
// Timer C, three minutes, RFC 3261 16.6).
const (
	maxSDESOffers = 4096
	sdesOfferTTL  = 5 * time.Minute
)

// offerKey names one media section of one call.
type offerKey struct {
	callID string
	media  int
}

// sdesOffer is one offered media section's a=crypto lines and the
// offerer's endpoints.
type sdesOffer struct {
	rtp, rtcp netip.AddrPort
	hasRTCP   bool
	keys      [sipflow.MaxCryptoAttrs]srtpdec.Key
	n         int
	t         time.Time
	answered  bool // an answer was seen (a 183 and a 200, or forks, may repeat it)
}

// byTag returns the offered line with the given tag.
func (o *sdesOffer) byTag(tag int) (srtpdec.Key, bool) {
	for _, k := range o.keys[:o.n] {
		if k.Tag == tag {
			return k, true
		}
	}
	return srtpdec.Key{}, false
}

// sdesOffers is the writer's table of offers. Offer and answer are told
// apart by SIP's rules where they are clear (a request other than ACK
// or PRACK makes an offer; RFC 3264, RFC 6337) and otherwise by the
// table: an SDP from the other side of a remembered offer answers it.
// An INVITE without SDP gets its offer in the 200 and its answer in the
// ACK, which these rules read right.
type sdesOffers struct {
	m map[offerKey]*sdesOffer
}

// answered returns the offer that the SDP of m, whose media starts at
// ep, answers, or nil when that SDP is an offer itself.
func (s *sdesOffers) answered(k offerKey, ep netip.AddrPort, m *sipflow.Message, t time.Time) *sdesOffer {
	if m.Request && !bytes.EqualFold(m.Method, []byte("ACK")) && !bytes.EqualFold(m.Method, []byte("PRACK")) {
		return nil
	}
	o := s.m[k]
	if o == nil || o.rtp == ep || t.Sub(o.t) > sdesOfferTTL {
		return nil
	}
	o.answered = true
	return o
}

// offer remembers an offer, replacing the call's previous one for the
// same media; false when the table is full of live offers.
func (s *sdesOffers) offer(k offerKey, o sdesOffer) bool {
	if s.m == nil {
		s.m = make(map[offerKey]*sdesOffer)
	}
	if old := s.m[k]; old != nil {
		*old = o
		return true
	}
	if len(s.m) >= maxSDESOffers {
		for key, v := range s.m {
			if o.t.Sub(v.t) > sdesOfferTTL || v.answered {
				delete(s.m, key)
			}
		}
		if len(s.m) >= maxSDESOffers {
			return false
		}
	}
	s.m[k] = &o
	return true
}
