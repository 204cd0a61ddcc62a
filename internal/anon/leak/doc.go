// Package leak proves that an anonymised capture no longer carries the
// identifiers of the original: it scans every byte of an output (each frame,
// each pcapng block, headers and payloads alike, not just parsed fields) for
// every original identifier in every encoding it could take on the wire.
//
//	set := leak.NewSet(0)                    // filled while anonymising
//	set.Add(leak.Number, "+4930123456")
//	c := leak.NewChecker(set)                // one Aho–Corasick automaton
//	hits := c.Scan(frame, out, nil)          // or c.NewStream() as an io.Writer
//
// Encodings searched: the text as seen (ASCII case-folded), percent-escaped,
// numbers as E.164 digits with and without "+", with "00" and in national
// form ("0" + the digits after a 1–3 digit country code), IPv4 dotted, as 4
// raw bytes in network order and reversed under in-addr.arpa, IPv6
// compressed, expanded, as 16 raw bytes and under ip6.arpa, MAC addresses
// with ':' '-' '.' or no separator and as 6 raw bytes.
//
// False positives: an identifier too short to be told from ordinary protocol
// text is not searched (see MinLen), nor one the anonymiser keeps on purpose
// (loopback, unspecified, multicast and broadcast addresses, the reserved
// ".invalid" names, "anonymous"), nor one that is a word of the SIP/SDP
// grammar (a user called "invite" would otherwise match every INVITE), nor
// text shaped like an rtpmap encoding (NAME/CLOCK), or the name of a VoIP product (asterisk, freeswitch ...),
// which header names (X-Asterisk-HangupCause) and User-Agent strings keep.
// Digit and dotted-quad patterns only match between non-digits, so the number
// 4930123 is not reported inside 4930123999; text identifiers (users,
// hosts, names, ids) only between characters that are not letters or
// digits, so "0@localhost" is not reported inside "o472s4m0@localhost". The raw-byte encodings match
// anywhere, so in encrypted or random payload a coincidental hit is possible
// (about one per 2^32 positions for each IPv4 address); such hits are
// reported with Encoding RawBytes for the reader to judge.
package leak
