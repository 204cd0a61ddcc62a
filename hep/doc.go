// Package hep encodes and decodes HEP, the HOMER Encapsulation Protocol
// (also called EEP) that capture agents use to ship packets to HOMER: HEP3
// with its chunk list, and the older fixed-header HEPv1 and HEPv2.
//
// Usage:
//
//	var p hep.Packet
//	if err := p.Unmarshal(udpPayload); err != nil { ... }  // p aliases udpPayload
//	sip, _ := p.Decompress(buf[:0])                        // payload, inflated if chunk 0x0010
//	p.CaptureID = 2001; p.AuthKey = []byte("myHep")
//	n, err := p.MarshalTo(out)                             // HEP3 unless p.Version is 1 or 2
//
// One Packet type serves both directions. Unmarshal decodes in place: the
// byte-slice fields point into the input, and a reused Packet decodes a
// typical SIP packet without allocating. Absent chunks stay distinguishable
// from zero-valued ones (Has, MarkPresent), and chunks the package does not
// interpret (vendor chunks, reserved types, wrongly sized values) are kept
// opaque in Packet.Extra and written back unchanged, so
// Unmarshal→Marshal→Unmarshal preserves everything (checked by FuzzUnmarshal).
//
// HEP3 generic chunks (vendor id 0; see chunk.go for sources):
//
//	type    value             field             type    value      field
//	0x0001  u8 family         Family            0x0014  u64        SrcMAC
//	0x0002  u8 IP proto       Protocol          0x0015  u64        DstMAC
//	0x0003  IPv4 src (4)      Src               0x0016  u16        EtherType
//	0x0004  IPv4 dst (4)      Dst               0x0017  u8         TCPFlags
//	0x0005  IPv6 src (16)     Src               0x0018  u8         TOS
//	0x0006  IPv6 dst (16)     Dst               0x0019-0x001f reserved (Extra)
//	0x0007  u16 src port      Src.Port()        0x0020  u16        MOS
//	0x0008  u16 dst port      Dst.Port()        0x0021  u16        RFactor
//	0x0009  u32 seconds       Time              0x0022  string     GeoLocation
//	0x000a  u32 microseconds  Time              0x0023  u32        Jitter
//	0x000b  u8 proto type     ProtoType         0x0024  string     TransactionType
//	0x000c  u32 capture id    CaptureID         0x0025  string     PayloadJSONKeys
//	0x000d  u16 keep-alive    KeepAlive         0x0026  string     TagsValues
//	0x000e  auth key          AuthKey           0x0027  u16        TagType
//	0x000f  payload           Payload           0x0028  u16        EventType
//	0x0010  compressed        Payload (+flag)   0x0029  string     GroupIDString
//	0x0011  correlation id    CorrelationID
//	0x0012  u16 VLAN          VLAN
//	0x0013  group id          GroupID
//
// All integers are big-endian. HEPv2's time block is the exception: senders
// copy it in host order, and Unmarshal picks the plausible byte order (see
// Packet.V2LittleEndian).
package hep
