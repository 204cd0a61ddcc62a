package anon

import (
	"net/netip"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/sipflow"
)

// RewriteHEP returns a pseudonymised copy of one HEP packet (v1, v2 or
// v3): the captured addresses, ports kept, MACs, correlation id (the
// Call-ID, mapped like it), the SIP payload through RewriteSIP (inflated
// and written uncompressed), other payloads (RTCP JSON, logs) scrubbed as
// text, RTP payloads silenced; the auth key, node names and geolocation
// replaced. Vendor chunks the hep package does not interpret are dropped
// (counted in Stats.Bodies): their content is unknown. HEPv1/v2 stay
// v1/v2.
func (m *Mapper) RewriteHEP(b []byte, mode RTPMode) ([]byte, error) {
	var p hep.Packet
	if err := p.Unmarshal(b); err != nil {
		return nil, err
	}
	if p.Compressed {
		pl, err := p.Decompress(nil)
		if err != nil {
			return nil, err
		}
		p.Payload, p.Compressed = pl, false
	}
	if p.Src.Addr().IsValid() {
		p.Src = netipAddrPort(m.Addr(p.Src.Addr()), p.Src.Port())
	}
	if p.Dst.Addr().IsValid() {
		p.Dst = netipAddrPort(m.Addr(p.Dst.Addr()), p.Dst.Port())
	}
	if p.SrcMAC != 0 {
		p.SrcMAC = m.mac64(p.SrcMAC)
	}
	if p.DstMAC != 0 {
		p.DstMAC = m.mac64(p.DstMAC)
	}
	if len(p.CorrelationID) > 0 {
		p.CorrelationID = []byte(m.CallID(string(p.CorrelationID)))
	}
	if len(p.AuthKey) > 0 {
		p.AuthKey = []byte(m.Secret(string(p.AuthKey)))
	}
	for _, f := range []*[]byte{&p.GroupID, &p.GroupIDString, &p.GeoLocation} {
		if len(*f) > 0 {
			*f = []byte(m.Token(string(*f)))
		}
	}
	for _, f := range []*[]byte{&p.TransactionType, &p.PayloadJSONKeys, &p.TagsValues} {
		if len(*f) > 0 {
			*f = m.scrubCopy(*f)
		}
	}
	if len(p.Extra) > 0 {
		m.Stats.Bodies += len(p.Extra)
		p.Extra = p.Extra[:0]
	}
	switch p.ProtoType {
	case hep.ProtoSIP:
		if out, err := m.RewriteSIP(p.Payload); err == nil {
			p.Payload = out
		} else {
			p.Payload = m.ScrubText(p.Payload)
		}
	case hep.ProtoRTP:
		pl := append([]byte(nil), p.Payload...)
		if _, err := m.RewriteRTP(pl, mode, ""); err != nil {
			pl = pl[:0]
		}
		p.Payload = pl
	default:
		p.Payload = m.scrubCopy(p.Payload)
	}
	return p.Marshal()
}

// scrubCopy is ScrubText without counting an unparsed message.
func (m *Mapper) scrubCopy(b []byte) []byte {
	ed := sipflow.NewEditor(b)
	m.scrub(ed, b, scrubFull)
	return ed.Apply()
}

func (m *Mapper) mac64(v uint64) uint64 {
	var a [6]byte
	for i := 0; i < 6; i++ {
		a[i] = byte(v >> (40 - 8*i))
	}
	r := m.MAC(a)
	var o uint64
	for i := 0; i < 6; i++ {
		o = o<<8 | uint64(r[i])
	}
	return o
}

func netipAddrPort(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }
