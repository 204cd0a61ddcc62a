package hep

import "strconv"

// ChunkType is a HEP3 chunk type. With vendor id 0 it names a generic chunk
// from the table below; with any other vendor id its meaning is private to
// that vendor and this package keeps the chunk opaque.
//
// Sources for the table: HEP3 Network Protocol Specification (sipcapture/HEP,
// docs/HEP3_Network_Protocol_Specification_REV_37.pdf); the wire layouts of
// 0x0001-0x0013 are cross-checked against sipcapture/heplify-server
// decoder/decoder.go and decoder/hep.go, sipcapture/hep-wireshark lua/hep.lua
// and irontec/sngrep src/capture_eep.c; 0x0020 (u16 MOS) and 0x0024
// (transaction type string) against sipcapture/hep-js index.js. 0x0014-0x0029
// other than those two follow the project brief's transcription of rev 37
// and could not be cross-checked against a second implementation.
type ChunkType uint16

// Generic chunk types (vendor id 0x0000).
const (
	ChunkIPFamily          ChunkType = 0x0001 // u8: 2 = IPv4, 10 = IPv6
	ChunkIPProtocol        ChunkType = 0x0002 // u8: IANA protocol number (6 TCP, 17 UDP, 132 SCTP)
	ChunkIPv4Src           ChunkType = 0x0003 // 4 octets
	ChunkIPv4Dst           ChunkType = 0x0004 // 4 octets
	ChunkIPv6Src           ChunkType = 0x0005 // 16 octets
	ChunkIPv6Dst           ChunkType = 0x0006 // 16 octets
	ChunkSrcPort           ChunkType = 0x0007 // u16
	ChunkDstPort           ChunkType = 0x0008 // u16
	ChunkTimeSec           ChunkType = 0x0009 // u32: Unix seconds
	ChunkTimeUsec          ChunkType = 0x000a // u32: microseconds offset
	ChunkProtoType         ChunkType = 0x000b // u8: see ProtoType
	ChunkCaptureID         ChunkType = 0x000c // u32: capture agent id
	ChunkKeepAlive         ChunkType = 0x000d // u16: keep-alive timer, seconds
	ChunkAuthKey           ChunkType = 0x000e // octet-string
	ChunkPayload           ChunkType = 0x000f // octet-string: captured payload
	ChunkCompressedPayload ChunkType = 0x0010 // octet-string: zlib/gzip/deflate payload
	ChunkCorrelationID     ChunkType = 0x0011 // octet-string: internal correlation id
	ChunkVLAN              ChunkType = 0x0012 // u16
	ChunkGroupID           ChunkType = 0x0013 // octet-string; heplify-server calls it NodeName
	ChunkSrcMAC            ChunkType = 0x0014 // u64 (6-byte values are accepted on decode)
	ChunkDstMAC            ChunkType = 0x0015 // u64 (6-byte values are accepted on decode)
	ChunkEtherType         ChunkType = 0x0016 // u16
	ChunkTCPFlags          ChunkType = 0x0017 // u8
	ChunkIPTOS             ChunkType = 0x0018 // u8
	// 0x0019-0x001f are reserved; such chunks are kept opaque in Packet.Extra.
	ChunkMOS             ChunkType = 0x0020 // u16
	ChunkRFactor         ChunkType = 0x0021 // u16
	ChunkGeoLocation     ChunkType = 0x0022 // string
	ChunkJitter          ChunkType = 0x0023 // u32
	ChunkTransactionType ChunkType = 0x0024 // string
	ChunkPayloadJSONKeys ChunkType = 0x0025 // string
	ChunkTagsValues      ChunkType = 0x0026 // string
	ChunkTagType         ChunkType = 0x0027 // u16
	ChunkEventType       ChunkType = 0x0028 // u16
	ChunkGroupIDString   ChunkType = 0x0029 // string

	maxKnownChunk = ChunkGroupIDString // presence bits fit in a uint64
)

// Chunk is one HEP3 chunk this package does not interpret: a vendor chunk,
// an unknown or reserved generic type, or a generic chunk whose value has the
// wrong size for its type. Marshal writes it back byte for byte.
//
// After Unmarshal, Value aliases the input buffer (its capacity is clipped to
// its length, so appending to it never overwrites the next chunk).
type Chunk struct {
	Vendor uint16
	Type   ChunkType
	Value  []byte
}

// ProtoType is the HEP3 "protocol type" (chunk 0x000b) of the payload.
// Values without a constant are kept as they are.
type ProtoType uint8

// Protocol types. 1-12 from the HEP3 spec; 32-100 as used by the HOMER
// collectors (heplify-server decoder/hep.go, hep-wireshark lua/hep.lua).
const (
	ProtoSIP        ProtoType = 1
	ProtoXMPP       ProtoType = 2
	ProtoSDP        ProtoType = 3
	ProtoRTP        ProtoType = 4
	ProtoRTCPJSON   ProtoType = 5
	ProtoMGCP       ProtoType = 6
	ProtoMEGACO     ProtoType = 7
	ProtoM2UA       ProtoType = 8
	ProtoM3UA       ProtoType = 9
	ProtoIAX        ProtoType = 10
	ProtoH322       ProtoType = 11
	ProtoH321       ProtoType = 12
	ProtoJSON       ProtoType = 32 // QoS JSON reports
	ProtoRTPAgent   ProtoType = 34 // RTP agent JSON (heplify-server "rtpagent")
	ProtoRTCPXR     ProtoType = 35 // heplify-server "rtcpxr"
	ProtoHoraclifix ProtoType = 38 // heplify-server "horaclifix"
	ProtoDNS        ProtoType = 53
	ProtoLog        ProtoType = 100 // free-text log line
)

var protoNames = [...]string{
	ProtoSIP: "SIP", ProtoXMPP: "XMPP", ProtoSDP: "SDP", ProtoRTP: "RTP",
	ProtoRTCPJSON: "RTCP-JSON", ProtoMGCP: "MGCP", ProtoMEGACO: "MEGACO",
	ProtoM2UA: "M2UA", ProtoM3UA: "M3UA", ProtoIAX: "IAX", ProtoH322: "H322",
	ProtoH321: "H321", ProtoJSON: "JSON", ProtoRTPAgent: "RTP-AGENT",
	ProtoRTCPXR: "RTCP-XR", ProtoHoraclifix: "HORACLIFIX", ProtoDNS: "DNS",
	ProtoLog: "LOG",
}

// String returns the protocol name, or its number for values without one.
func (t ProtoType) String() string {
	if int(t) < len(protoNames) && protoNames[t] != "" {
		return protoNames[t]
	}
	return strconv.Itoa(int(t)) // never string(t): that would be a rune
}

// String returns "0x00NN".
func (t ChunkType) String() string {
	const hex = "0123456789abcdef"
	return string([]byte{'0', 'x', hex[t>>12], hex[t>>8&0xf], hex[t>>4&0xf], hex[t&0xf]})
}
