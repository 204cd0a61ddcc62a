package heptransport

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (or an
// error from net, crypto/tls, os or the hep codec) with the address, offset
// or value that caused it; branch with errors.Is.
var (
	// ErrBadAddress: a target or listen address is not "udp:HOST:PORT",
	// "tcp:HOST:PORT" or "tls:HOST:PORT".
	ErrBadAddress = errors.New("heptransport: bad address")
	// ErrNoTargets: SenderOptions.To is empty.
	ErrNoTargets = errors.New("heptransport: no targets")
	// ErrBadOptions: an option is out of range (HEP version, TLS files).
	ErrBadOptions = errors.New("heptransport: bad options")
	// ErrQueueFull: Send dropped the packet for at least one target because
	// its queue (and spool, if any) was full. The drop is counted in
	// TargetStats.Dropped; capture should carry on.
	ErrQueueFull = errors.New("heptransport: queue full, packet dropped")
	// ErrClosed: Send after Run returned, or Run called twice.
	ErrClosed = errors.New("heptransport: sender closed")
	// ErrSpoolFull: the spool file reached SenderOptions.SpoolMaxBytes.
	ErrSpoolFull = errors.New("heptransport: spool full")
	// ErrSpoolCorrupt: a spool record has an impossible length (a torn
	// write from a crash); the rest of the spool is discarded and counted.
	ErrSpoolCorrupt = errors.New("heptransport: corrupt spool record")
	// ErrNotHEP3Stream: bytes on a TCP/TLS connection do not start a HEP3
	// packet (HEPv1/v2 have no length framing, so TCP is HEP3 only). The
	// listener skips to the next "HEP3" magic and counts the skip.
	ErrNotHEP3Stream = errors.New("heptransport: TCP stream is not HEP3")
	// ErrAuth: a packet's auth key (chunk 0x000e) does not match.
	ErrAuth = errors.New("heptransport: auth key mismatch")
	// ErrBadRTCP: RTCPJSONPacket could not parse the RTCP bytes.
	ErrBadRTCP = errors.New("heptransport: bad RTCP packet")
	// ErrRefused: the collector refused the TLS session after the
	// handshake (a client certificate required or not trusted).
	ErrRefused = errors.New("heptransport: collector refused the TLS session")
)
