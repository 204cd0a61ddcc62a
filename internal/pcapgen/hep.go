package pcapgen

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// HEP3 chunk types (vendor 0), from the HEP3 specification
// (github.com/sipcapture/HEP, "HEP3 Network Protocol Specification").
const (
	HEPChunkIPFamily  = 0x0001
	HEPChunkIPProto   = 0x0002
	HEPChunkSrcIPv4   = 0x0003
	HEPChunkDstIPv4   = 0x0004
	HEPChunkSrcIPv6   = 0x0005
	HEPChunkDstIPv6   = 0x0006
	HEPChunkSrcPort   = 0x0007
	HEPChunkDstPort   = 0x0008
	HEPChunkTimeSec   = 0x0009
	HEPChunkTimeUsec  = 0x000a
	HEPChunkProtoType = 0x000b
	HEPChunkCaptureID = 0x000c
	HEPChunkPayload   = 0x000f

	HEPProtoSIP  = 1 // proto type chunk value for SIP
	HEPProtoRTCP = 5
	HEPPort      = 9060 // customary HEP collector port

	hepChunkHeaderLen = 6 // vendor(2) type(2) length(2), length includes these 6
	hepFamilyIPv4     = 2 // AF_INET
	hepFamilyIPv6     = 10
)

// HEP3 returns a HEPv3 packet describing payload captured at t between
// src and dst over transport ipProto (ProtoUDP, ProtoTCP, …).
func HEP3(src, dst netip.AddrPort, ipProto uint8, t time.Time, protoType uint8, captureID uint32, payload []byte) []byte {
	b := []byte{'H', 'E', 'P', '3', 0, 0}
	chunk := func(typ uint16, v []byte) {
		b = binary.BigEndian.AppendUint16(b, 0)
		b = binary.BigEndian.AppendUint16(b, typ)
		b = binary.BigEndian.AppendUint16(b, uint16(hepChunkHeaderLen+len(v)))
		b = append(b, v...)
	}
	u16 := func(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
	if src.Addr().Is4() {
		chunk(HEPChunkIPFamily, []byte{hepFamilyIPv4})
	} else {
		chunk(HEPChunkIPFamily, []byte{hepFamilyIPv6})
	}
	chunk(HEPChunkIPProto, []byte{ipProto})
	if src.Addr().Is4() {
		chunk(HEPChunkSrcIPv4, src.Addr().AsSlice())
		chunk(HEPChunkDstIPv4, dst.Addr().AsSlice())
	} else {
		chunk(HEPChunkSrcIPv6, src.Addr().AsSlice())
		chunk(HEPChunkDstIPv6, dst.Addr().AsSlice())
	}
	chunk(HEPChunkSrcPort, u16(src.Port()))
	chunk(HEPChunkDstPort, u16(dst.Port()))
	chunk(HEPChunkTimeSec, u32(uint32(t.Unix())))
	chunk(HEPChunkTimeUsec, u32(uint32(t.Nanosecond()/1000)))
	chunk(HEPChunkProtoType, []byte{protoType})
	chunk(HEPChunkCaptureID, u32(captureID))
	chunk(HEPChunkPayload, payload)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)))
	return b
}
