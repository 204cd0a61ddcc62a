// Package anon pseudonymises VoIP captures so that they can be shared under
// the GDPR: every identifier (telephone number, SIP user, domain, address,
// MAC, Call-ID, tag, display name, credential) is replaced by a keyed
// pseudonym that is the same everywhere it occurs, in every layer and in
// every run with the same key, and keeps its shape so the capture can still
// be analysed: numbers stay digit strings of the same length (FF1
// format-preserving encryption, NIST SP 800-38G), addresses stay addresses of
// the same family with their prefixes related as before (Crypto-PAn), users
// stay valid users, domains stay domains under example.invalid.
//
//	key, err := anon.KeyFromString("team secret")  // or KeyFromFile, NewRandomKey
//	m := anon.NewMapper(key, anon.Options{KeepDigits: 3})
//	out, err := m.RewriteSIP(msg)                  // one SIP message, SDP and multipart bodies included
//	m.RewriteRTP(pkt, anon.RTPSilence, codec)      // payload silence, RFC 4733 events hidden
//	m.RewriteRTCP(pkt)                             // SDES items replaced
//	c := leak.NewChecker(m.Identifiers())          // then prove nothing is left
//
// A whole capture: AnonymizeFile(in, out, key, FileOptions{...}) runs two
// passes through capture's decoder (LearnCapture, AnonymizeCapture: headers
// located by Event.Layers, lengths and checksums by capture/fixup) and then
// leak.ScanFile over every byte of out.
//
// Number rule: a leading "+" or "00" marks an international number; it is
// kept as written and the digits after it are encrypted, so "+4930123" and
// "004930123" map to "+X" and "00X" with the same X. The first KeepDigits
// digits after that prefix (or of a number without one) are kept and serve
// as the FF1 tweak. Visual separators (RFC 3966: - . ( )) keep their places.
// A national form ("030123") cannot be tied to its international form without
// knowing the country, so it maps independently; the leak checker still
// searches the national forms of every international number.
//
// Kept on purpose: ports (Via rport=, SDP m= and a=rtcp ports, UDP/TCP
// ports: they name no one, and RTP is matched to its call through them),
// SSRCs, sequence numbers and timestamps, CSeq, SDP session ids and
// versions, methods, status codes, codecs and User-Agent product strings
// (whose words that are known identifiers are replaced).
//
// A Mapper is used by one goroutine (it reuses its HMAC state).
package anon
