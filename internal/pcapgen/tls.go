package pcapgen

import "encoding/binary"

// TLS record content types (RFC 8446 section 5.1).
const (
	TLSChangeCipherSpec = 20
	TLSAlert            = 21
	TLSHandshake        = 22
	TLSApplicationData  = 23
)

// TLS record-layer versions as they appear on the wire.
const (
	TLSVersion10 = 0x0301 // legacy_record_version of a ClientHello
	TLSVersion12 = 0x0303
)

// TLSRecord returns one TLS record: type, version, length, body
// (RFC 8446 5.1). The body is opaque to us: tls-sip.pcap is meant to be
// counted, not decrypted.
func TLSRecord(contentType byte, version uint16, body []byte) []byte {
	b := make([]byte, 5, 5+len(body))
	b[0] = contentType
	binary.BigEndian.PutUint16(b[1:], version)
	binary.BigEndian.PutUint16(b[3:], uint16(len(body)))
	return append(b, body...)
}

// TLSHandshakeMsg returns a handshake message header + body (RFC 8446 4).
func TLSHandshakeMsg(msgType byte, body []byte) []byte {
	b := []byte{msgType, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(b, body...)
}

// helloBody returns a structurally valid TLS 1.3 ClientHello (client) or
// ServerHello body (RFC 8446 4.1.2, 4.1.3) offering/choosing
// TLS_AES_128_GCM_SHA256 with a supported_versions extension; rnd gives
// the 32-byte random and the 32-byte legacy session id.
func helloBody(client bool, rnd []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, TLSVersion12) // legacy_version
	b = append(b, rnd[:32]...)
	b = append(b, 32)
	b = append(b, rnd[32:64]...)
	const aes128gcm = 0x1301
	var ext []byte
	ext = binary.BigEndian.AppendUint16(ext, 0x002b) // supported_versions
	if client {
		b = binary.BigEndian.AppendUint16(b, 2)
		b = binary.BigEndian.AppendUint16(b, aes128gcm)
		b = append(b, 1, 0) // compression methods: null
		ext = binary.BigEndian.AppendUint16(ext, 3)
		ext = append(ext, 2, 0x03, 0x04)
	} else {
		b = binary.BigEndian.AppendUint16(b, aes128gcm)
		b = append(b, 0) // compression method null
		ext = binary.BigEndian.AppendUint16(ext, 2)
		ext = append(ext, 0x03, 0x04)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ext)))
	return append(b, ext...)
}
