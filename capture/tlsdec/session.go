package tlsdec

import (
	"crypto/cipher"
	"encoding/binary"
	"time"
)

// Direction of a TCP byte stream within a TLS connection.
type Direction uint8

// Directions.
const (
	ClientToServer Direction = 0
	ServerToClient Direction = 1
)

// String names the direction.
func (d Direction) String() string {
	if d == ClientToServer {
		return "client->server"
	}
	return "server->client"
}

// Reason says why records of a session were not decrypted.
type Reason uint8

// Reasons, each counted per session in SessionStats.Undecrypted.
const (
	ReasonNone               Reason = iota
	ReasonNoHandshake               // the capture started after the handshake
	ReasonNoKey                     // the key log has no secret for the client random
	ReasonCBC                       // CBC suites are refused
	ReasonUnsupportedSuite          // a suite this package does not implement
	ReasonUnsupportedVersion        // SSL 3.0, TLS 1.0 or 1.1
	ReasonGap                       // a hole in the TCP stream
	ReasonAuth                      // AEAD authentication failed
	ReasonMalformed                 // not a TLS record or handshake message
	ReasonOverflow                  // more bytes buffered than the limit
	ReasonEarlyData                 // TLS 1.3 0-RTT data (not decrypted)
	reasonCount
)

var reasonText = [reasonCount]string{
	ReasonNone:               "decrypted",
	ReasonNoHandshake:        "no handshake: the capture started after it, so client random and cipher suite are unknown",
	ReasonNoKey:              "no key: the key log has no secret for this client random",
	ReasonCBC:                "CBC suites are not decrypted: MAC-then-encrypt cannot be checked reliably",
	ReasonUnsupportedSuite:   "unsupported cipher suite",
	ReasonUnsupportedVersion: "unsupported TLS version (only TLS 1.2 and 1.3 are decrypted, not SSL 3.0, TLS 1.0/1.1 or TLS 1.3 drafts)",
	ReasonGap:                "gap in the TCP stream: record boundaries and sequence numbers are lost",
	ReasonAuth:               "authentication failed: wrong key or damaged record",
	ReasonMalformed:          "malformed TLS record or handshake message",
	ReasonOverflow:           "too many bytes buffered waiting for the other direction's handshake",
	ReasonEarlyData:          "TLS 1.3 early data (0-RTT) is not decrypted",
}

var reasonCode = [reasonCount]string{
	ReasonNone:               "decrypted",
	ReasonNoHandshake:        "no_handshake",
	ReasonNoKey:              "no_key",
	ReasonCBC:                "cbc_suite",
	ReasonUnsupportedSuite:   "unsupported_suite",
	ReasonUnsupportedVersion: "unsupported_version",
	ReasonGap:                "gap",
	ReasonAuth:               "auth_failed",
	ReasonMalformed:          "malformed",
	ReasonOverflow:           "overflow",
	ReasonEarlyData:          "early_data",
}

// NumReasons is the number of Reasons (ReasonNone included), for arrays
// indexed by Reason.
const NumReasons = int(reasonCount)

// Code is a short stable name of the reason, for JSON and metrics.
func (r Reason) Code() string {
	if r < reasonCount {
		return reasonCode[r]
	}
	return "unknown"
}

// String explains the reason in a sentence fragment.
func (r Reason) String() string {
	if r < reasonCount {
		return reasonText[r]
	}
	return "unknown reason"
}

// TLS record content types (RFC 8446 B.1).
const (
	typeChangeCipherSpec = 20
	typeAlert            = 21
	typeHandshake        = 22
	typeApplicationData  = 23
	typeHeartbeat        = 24
)

// Handshake message types (RFC 8446 B.3).
const (
	hsClientHello      = 1
	hsServerHello      = 2
	hsNewSessionTicket = 4
	hsFinished         = 20
	hsKeyUpdate        = 24
)

const (
	recordHeaderLen = 5
	// maxRecordLen is the largest TLSCiphertext.length allowed: 2^14 +
	// 2048 (RFC 5246 6.2.3; TLS 1.3 allows 2^14 + 256).
	maxRecordLen = 1<<14 + 2048
	// DefaultMaxBuffer bounds the bytes held per direction when
	// Options.MaxBuffer is 0: several full records.
	DefaultMaxBuffer = 8 * (recordHeaderLen + maxRecordLen)
	// maxHandshakeMsg bounds a buffered handshake message; longer ones
	// (certificate chains) are skipped without being buffered.
	maxHandshakeMsg      = 1 << 16
	extSupportedVersions = 43
	extSessionTicket     = 35
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest
// (RFC 8446 4.1.3): SHA-256 of "HelloRetryRequest".
var helloRetryRandom = [32]byte{
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
}

// Options bound a Session. The zero value is useful.
type Options struct {
	// MaxBuffer bounds the undecoded bytes held per direction, 0 means
	// DefaultMaxBuffer. A direction that exceeds it stops being decoded
	// (ReasonOverflow).
	MaxBuffer int
	// MaxKeyWait bounds the complete records held (both directions) while
	// the key log has no secret for the session yet: an application
	// writes its key log line after the handshake, and a live capture
	// sees the first protected records before it. 0 means
	// DefaultMaxKeyWait. When the bound is hit the session stops
	// waiting (SessionStats.KeyWaitExceeded) and counts those records
	// as ReasonNoKey.
	MaxKeyWait int
}

// DefaultMaxKeyWait is Options.MaxKeyWait when 0: a TLS 1.3 handshake's
// protected flight and the first SIP messages of both sides.
const DefaultMaxKeyWait = 32

// DirStats counts one direction of a session.
type DirStats struct {
	Records      int   // TLS records parsed
	Decrypted    int   // records decrypted and authenticated
	AppRecords   int   // application data records emitted
	AppBytes     int64 // plaintext bytes emitted
	Undecrypted  int   // encrypted records not decrypted (reasons in SessionStats)
	Alerts       int   // alert records (plaintext or decrypted)
	KeyUpdates   int   // TLS 1.3 KeyUpdate messages followed
	DroppedBytes int64 // stream bytes not parsed (after a gap, overflow or damage)
}

// SessionStats describes a session: what was negotiated, what was
// decrypted and, per reason, how many records were not.
type SessionStats struct {
	ClientRandom     [32]byte
	HaveClientRandom bool
	Version          uint16 // negotiated version (0 until the ServerHello)
	Suite            uint16 // negotiated cipher suite (0 until the ServerHello)
	HelloRetry       bool   // the server sent a TLS 1.3 HelloRetryRequest
	Dir              [2]DirStats
	// Reason is the first reason records were not decrypted, ReasonNone
	// if every encrypted record was decrypted.
	Reason      Reason
	Undecrypted [reasonCount]int // records (or, for stream damage, events) per reason
	// LateKeys: the key log had no secret when the first protected
	// record came; records waited and were decrypted once it had.
	// KeyWaitExceeded: they waited for MaxKeyWait records and were
	// then counted as ReasonNoKey.
	LateKeys, KeyWaitExceeded bool
}

// dirState is one direction: its unparsed bytes, its cipher and its
// handshake reassembly.
type dirState struct {
	buf  []byte
	dead bool // stopped: a gap, overflow or damage; bytes are counted, not parsed

	encrypted bool // records from here on are protected (TLS 1.2 after CCS, 1.3 after ServerHello)
	aead      cipher.AEAD
	iv        [12]byte
	seq       uint64
	appPhase  bool // TLS 1.3: application traffic keys in use
	secret    [maxSecretLen]byte
	secretLen int

	hold int // trailing bytes of buf a replay has not released yet

	hs     []byte // partial handshake message
	hsSkip int    // bytes of an oversized handshake message still to skip

	nonce [12]byte
	aad   [13]byte
}

// Session decrypts one TLS connection. Feed it each TCP direction's
// reassembled bytes in order, in capture-time order between directions
// (as a TCP reassembler delivers them); it calls emit with the decrypted
// application data of each record. The plaintext passed to emit aliases
// the Session's buffer and is valid only during the call. A Session is not
// safe for concurrent use.
type Session struct {
	keys  *KeyLog
	emit  func(Direction, []byte)
	max   int
	dir   [2]dirState
	stats SessionStats

	suite        suite
	serverRandom [32]byte
	master       []byte // TLS 1.2 master secret, once known

	// TLS 1.2 resumption: the ClientHello's ticket and the ServerHello's
	// session id, hashed, to find or remember the master secret.
	ticket, sessionID         [32]byte
	haveTicket, haveSessionID bool
	haveServer                bool // a ServerHello (not a HelloRetryRequest) was parsed
	keyReason                 Reason
	secrets                   Secrets

	// pending: the suite is one decrypted, but the key log has no
	// (complete) secrets yet; protected records wait in the direction
	// buffers, and each new record looks again (findKeys).
	pending bool
	kick    bool      // keys arrived or waiting ended: both directions' records can go (drain)
	replay  bool      // keys arrived: release the waiting bytes in the order they came
	maxWait int       // Options.MaxKeyWait
	now     time.Time // packet time of the bytes being fed (SetMark)
	ref     uint64    // the caller's reference for them
	// markT, markRef: the mark of the bytes being decrypted (Mark):
	// the fed ones, or during a replay those of the feed replayed.
	markT    time.Time
	markRef  uint64
	arrivals []arrival // feeds while waiting for keys, at most maxArrivals
}

// arrival is one Feed made while records waited for keys: replayed in
// order once the keys come, so plaintext of both directions is emitted
// in capture order, each with its own mark.
type arrival struct {
	d   Direction
	n   int
	t   time.Time
	ref uint64
}

// maxArrivals bounds the feeds remembered while waiting; later feeds
// join the last one (their plaintext then takes its mark).
const maxArrivals = 256

// NewSession returns a session looking keys up in keys (nil: none) and
// emitting application data to emit.
func NewSession(keys *KeyLog, emit func(Direction, []byte), o Options) *Session {
	if o.MaxBuffer <= 0 {
		o.MaxBuffer = DefaultMaxBuffer
	}
	if o.MaxKeyWait <= 0 {
		o.MaxKeyWait = DefaultMaxKeyWait
	}
	return &Session{keys: keys, emit: emit, max: o.MaxBuffer, maxWait: o.MaxKeyWait}
}

// SetMark gives the packet time of the bytes fed next and an opaque
// reference for them (a packet number). A followed key log
// (KeyLog.Follow) is read again on a miss at most once per its interval
// of this clock; Mark returns them with the plaintext they carry.
func (s *Session) SetMark(t time.Time, ref uint64) {
	s.now, s.ref = t, ref
	s.markT, s.markRef = t, ref
}

// Mark returns the mark (SetMark) of the bytes whose plaintext is being
// emitted, for emit to call: the last fed ones, or, when keys arrived
// late and waiting records are released in capture order, those of the
// feed that brought the record's last byte.
func (s *Session) Mark() (time.Time, uint64) { return s.markT, s.markRef }

// Waiting reports whether protected records wait for the key log.
func (s *Session) Waiting() bool { return s.pending }

// Retry looks for the session's secrets now (reading a followed key log
// at once) and decrypts the records waiting for them; they keep waiting
// if the secrets are still missing. For a direction about to end.
func (s *Session) Retry() {
	if s.pending && s.findKeys(true) {
		s.keysArrived()
		s.drain()
	}
}

// End is called when the connection is over: a last look for the
// secrets, then records still waiting are counted as not decrypted.
func (s *Session) End() {
	if !s.pending {
		return
	}
	if s.findKeys(true) {
		s.keysArrived()
	} else {
		s.pending = false
		s.arrivals = s.arrivals[:0]
		s.kick = true
	}
	s.drain()
}

// drain processes both directions after keys arrived or the wait ended
// while another direction's records were being parsed (process is not
// re-entered for a direction it is already in).
func (s *Session) drain() {
	if s.replay {
		s.replayArrivals()
	}
	for s.kick {
		s.kick = false
		s.process(ClientToServer)
		s.process(ServerToClient)
	}
}

// Stats returns the session's counters.
func (s *Session) Stats() SessionStats { return s.stats }

// Held is the memory direction d holds, by capacity: its unparsed bytes
// (a record split across TCP segments, or records waiting for keys) and
// a partial handshake message. A reassembler that budgets its buffers
// counts it with the direction's own (capture/sipstream does).
func (s *Session) Held(d Direction) int {
	ds := &s.dir[d&1]
	return cap(ds.buf) + cap(ds.hs)
}

// Pending is the bytes direction d holds that no record was made of yet
// (by length): what is lost if the connection ends now.
func (s *Session) Pending(d Direction) int {
	ds := &s.dir[d&1]
	return len(ds.buf) + len(ds.hs)
}

// Trim gives back direction d's emptied buffers whose capacity is above
// keep (0: every emptied buffer), so that a record once large, or a
// direction that went quiet, does not pin memory.
func (s *Session) Trim(d Direction, keep int) {
	ds := &s.dir[d&1]
	if len(ds.buf) == 0 && cap(ds.buf) > keep {
		ds.buf = nil
	}
	if len(ds.hs) == 0 && cap(ds.hs) > keep {
		ds.hs = nil
	}
}

// Feed adds the next bytes of direction d and decrypts every complete
// record. b is copied; the caller may reuse it.
func (s *Session) Feed(d Direction, b []byte) {
	ds := &s.dir[d&1]
	if ds.dead {
		s.stats.Dir[d&1].DroppedBytes += int64(len(b))
		return
	}
	if s.pending && len(ds.buf)+len(b) > s.max {
		s.giveUp() // the buffer is full of records waiting for keys
		s.process(d)
		s.drain()
		if ds.dead {
			s.stats.Dir[d&1].DroppedBytes += int64(len(b))
			return
		}
	}
	if len(ds.buf)+len(b) > s.max {
		s.stats.Dir[d&1].DroppedBytes += int64(len(ds.buf) + len(b))
		ds.buf = nil
		s.stop(d, ReasonOverflow)
		return
	}
	if s.pending {
		s.arrive(d, len(b))
	}
	ds.buf = append(ds.buf, b...)
	s.process(d)
	s.drain()
}

// arrive remembers a feed made while waiting for keys.
func (s *Session) arrive(d Direction, n int) {
	if k := len(s.arrivals); k >= maxArrivals {
		s.arrivals[k-1].n += n // the bound: later bytes join the last feed
		s.arrivals[k-1].t, s.arrivals[k-1].ref = s.now, s.ref
		return
	}
	s.arrivals = append(s.arrivals, arrival{d: d & 1, n: n, t: s.now, ref: s.ref})
}

// replayArrivals releases the bytes that waited for keys feed by feed,
// in the order they came: every remembered feed's bytes are held back
// (the older ones, fed before the wait began, go first), then released
// one feed at a time with its mark.
func (s *Session) replayArrivals() {
	s.replay = false
	for _, a := range s.arrivals {
		s.dir[a.d].hold += a.n
	}
	for i := range s.dir {
		// Records parsed from a remembered feed before the wait began
		// (a ServerHello and the first protected record in one segment)
		// are gone from buf: take them off the oldest feeds.
		excess := s.dir[i].hold - len(s.dir[i].buf)
		for j := range s.arrivals {
			if excess <= 0 {
				break
			}
			if a := &s.arrivals[j]; a.d == Direction(i) {
				take := min(a.n, excess)
				a.n -= take
				excess -= take
				s.dir[i].hold -= take
			}
		}
	}
	s.markT, s.markRef = s.now, s.ref // bytes fed before the wait began take the first feed's mark, if any
	if len(s.arrivals) > 0 {
		s.markT, s.markRef = s.arrivals[0].t, s.arrivals[0].ref
	}
	s.process(ClientToServer)
	s.process(ServerToClient)
	for _, a := range s.arrivals {
		ds := &s.dir[a.d]
		ds.hold = max(0, ds.hold-a.n)
		s.markT, s.markRef = a.t, a.ref
		s.process(a.d)
	}
	for i := range s.dir {
		s.dir[i].hold = 0
	}
	s.arrivals = s.arrivals[:0]
	s.markT, s.markRef = s.now, s.ref
	s.kick = true
}

// Gap tells the session that direction d lost bytes (the reassembler gave
// up on a hole): the record boundaries and sequence numbers behind it are
// unknown, so the direction is no longer decoded.
func (s *Session) Gap(d Direction) {
	ds := &s.dir[d&1]
	if ds.dead {
		return
	}
	s.stats.Dir[d&1].DroppedBytes += int64(len(ds.buf))
	ds.buf = nil
	s.stop(d, ReasonGap)
}

// stop ends decoding of direction d; the caller counts the bytes left.
func (s *Session) stop(d Direction, r Reason) {
	ds := &s.dir[d&1]
	ds.dead = true
	ds.hs = nil
	s.fail(r)
}

func (s *Session) fail(r Reason) {
	s.stats.Undecrypted[r]++
	if s.stats.Reason == ReasonNone {
		s.stats.Reason = r
	}
}

// process parses the complete records of direction d.
//
//	struct {
//	    ContentType type;                  // 20..24
//	    ProtocolVersion legacy_record_version; // 0x03XX
//	    uint16 length;
//	    opaque fragment[length];
//	} TLSPlaintext / TLSCiphertext;        // RFC 8446 5.1, 5.2
func (s *Session) process(d Direction) {
	ds := &s.dir[d&1]
	off := 0
	end := len(ds.buf) - ds.hold // bytes held back by a replay are not there yet
	for !ds.dead && end-off >= recordHeaderLen {
		h := ds.buf[off : off+recordHeaderLen]
		typ, n := h[0], int(binary.BigEndian.Uint16(h[3:]))
		if typ < typeChangeCipherSpec || typ > typeHeartbeat || h[1] != 3 || n > maxRecordLen {
			s.stop(d, ReasonMalformed)
			break
		}
		if end-off < recordHeaderLen+n {
			break
		}
		if s.mustWait(d, typ) {
			break // the other direction's ServerHello is needed first
		}
		if s.pending && ds.encrypted && (!s.tls13Family() || typ == typeApplicationData) {
			// A protected record and no secrets yet: look again (the
			// application may have logged them since), else wait.
			if s.findKeys(false) {
				s.keysArrived()
				break // drain replays the waiting records in capture order
			} else if s.waiting(d, off) < s.maxWait {
				break
			} else {
				s.giveUp()
			}
		}
		rec := ds.buf[off : off+recordHeaderLen+n]
		off += recordHeaderLen + n
		s.stats.Dir[d&1].Records++
		s.record(d, rec)
	}
	if ds.dead {
		s.stats.Dir[d&1].DroppedBytes += int64(len(ds.buf) - off)
		ds.buf = nil
		return
	}
	ds.buf = ds.buf[:copy(ds.buf, ds.buf[off:])]
}

// tls13Family reports TLS 1.3 or one of its drafts (0x7fNN).
func (s *Session) tls13Family() bool {
	return s.stats.Version == VersionTLS13 || s.stats.Version>>8 == 0x7f
}

// mustWait holds a client's records from its ChangeCipherSpec or first
// protected record on until the server's ServerHello says which suite and
// version apply: a reassembler may deliver the client's second flight
// before the ServerHello it answers.
func (s *Session) mustWait(d Direction, typ byte) bool {
	return d == ClientToServer && !s.haveServer && (typ == typeApplicationData || typ == typeChangeCipherSpec && !s.tls13Family()) &&
		s.stats.HaveClientRandom && !s.dir[1].dead
}

func (s *Session) record(d Direction, rec []byte) {
	ds := &s.dir[d&1]
	st := &s.stats.Dir[d&1]
	typ := rec[0]
	body := rec[recordHeaderLen:]
	if typ == typeChangeCipherSpec {
		// TLS 1.3 sends it in the clear for middlebox compatibility only;
		// in TLS 1.2 it switches this direction to the negotiated keys.
		if !s.tls13Family() && !ds.encrypted {
			s.startEncryption12(d)
		}
		return
	}
	// TLS 1.3 protects records under the outer type application_data
	// only (RFC 8446 5.2); TLS 1.2 everything after ChangeCipherSpec.
	protected := ds.encrypted && (!s.tls13Family() || typ == typeApplicationData)
	if !protected {
		switch typ {
		case typeHandshake:
			s.handshake(d, body)
		case typeAlert:
			st.Alerts++
		case typeApplicationData:
			st.Undecrypted++
			switch {
			case !s.stats.HaveClientRandom:
				s.fail(ReasonNoHandshake)
			case d == ClientToServer && !s.haveServer:
				s.fail(ReasonEarlyData)
			default:
				s.fail(ReasonMalformed)
			}
		}
		return
	}
	if ds.aead == nil {
		st.Undecrypted++
		r := s.keyReason
		if r == ReasonNone {
			r = ReasonMalformed // keys derived but not installable
		}
		s.fail(r)
		return
	}
	plain, inner, ok := s.open(d, rec)
	if !ok && s.stats.Version == VersionTLS13 && !ds.appPhase {
		// A handshake message this package did not follow (say, one cut
		// by a skipped oversized message): try the application keys.
		if s.switchTo13(d, true) {
			plain, inner, ok = s.open(d, rec)
		}
	}
	if !ok {
		st.Undecrypted++
		s.fail(ReasonAuth)
		return
	}
	st.Decrypted++
	switch inner {
	case typeApplicationData:
		if len(plain) > 0 {
			st.AppRecords++
			st.AppBytes += int64(len(plain))
			if s.emit != nil {
				s.emit(d, plain)
			}
		}
	case typeHandshake:
		s.handshake(d, plain)
	case typeAlert:
		st.Alerts++
	}
}

// open decrypts rec in place. It returns the plaintext and the content
// type (TLS 1.3: the inner type behind the padding).
func (s *Session) open(d Direction, rec []byte) ([]byte, byte, bool) {
	ds := &s.dir[d&1]
	ct := rec[recordHeaderLen:]
	seq := ds.seq
	typ := rec[0]
	if s.stats.Version == VersionTLS13 {
		// nonce = iv XOR seq (left-padded), aad = record header (RFC 8446 5.3, 5.2)
		ds.nonce = ds.iv
		for i := range 8 {
			ds.nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
		plain, err := ds.aead.Open(ct[:0], ds.nonce[:], ct, rec[:recordHeaderLen])
		if err != nil {
			return nil, 0, false
		}
		ds.seq++
		i := len(plain) - 1
		for i >= 0 && plain[i] == 0 {
			i--
		}
		if i < 0 {
			return nil, 0, false // no content type: a protocol error
		}
		return plain[:i], plain[i], true
	}
	// TLS 1.2 AEAD (RFC 5246 6.2.3.3): aad = seq || type || version || plaintext length.
	var plainLen int
	var nonce []byte
	if s.suite.kind == aeadAESGCM {
		// RFC 5288 3: nonce = 4-byte salt || 8-byte explicit nonce from the record.
		if len(ct) < 8+16 {
			return nil, 0, false
		}
		copy(ds.nonce[:4], ds.iv[:4])
		copy(ds.nonce[4:], ct[:8])
		ct = ct[8:]
	} else {
		// RFC 7905 2: nonce = iv XOR seq (left-padded).
		if len(ct) < 16 {
			return nil, 0, false
		}
		ds.nonce = ds.iv
		for i := range 8 {
			ds.nonce[4+i] ^= byte(seq >> (56 - 8*i))
		}
	}
	nonce = ds.nonce[:]
	plainLen = len(ct) - 16
	binary.BigEndian.PutUint64(ds.aad[:8], seq)
	ds.aad[8] = typ
	ds.aad[9], ds.aad[10] = rec[1], rec[2]
	binary.BigEndian.PutUint16(ds.aad[11:], uint16(plainLen))
	plain, err := ds.aead.Open(ct[:0], nonce, ct, ds.aad[:])
	if err != nil {
		return nil, 0, false
	}
	ds.seq++
	return plain, typ, true
}

// handshake reassembles handshake messages from record bodies.
//
//	struct {
//	    HandshakeType msg_type;  // 1 byte
//	    uint24 length;
//	    opaque body[length];
//	} Handshake;                 // RFC 8446 4
func (s *Session) handshake(d Direction, b []byte) {
	ds := &s.dir[d&1]
	for len(b) > 0 {
		if ds.hsSkip > 0 {
			n := min(ds.hsSkip, len(b))
			ds.hsSkip -= n
			b = b[n:]
			continue
		}
		if len(ds.hs) == 0 && len(b) >= 4 {
			// Whole messages are parsed straight from b, without a copy.
			n := u24(b[1:])
			if n <= maxHandshakeMsg && len(b) >= 4+n {
				s.message(d, b[0], b[4:4+n])
				b = b[4+n:]
				continue
			}
		}
		if len(ds.hs) < 4 {
			take := min(4-len(ds.hs), len(b))
			ds.hs = append(ds.hs, b[:take]...)
			b = b[take:]
			if len(ds.hs) < 4 {
				continue
			}
			if n := u24(ds.hs[1:]); n > maxHandshakeMsg {
				if ds.hs[0] == hsClientHello || ds.hs[0] == hsServerHello {
					s.stop(d, ReasonMalformed)
					return
				}
				ds.hsSkip = n // a certificate chain, say: not needed
				ds.hs = ds.hs[:0]
				continue
			}
		}
		n := u24(ds.hs[1:])
		take := min(4+n-len(ds.hs), len(b))
		ds.hs = append(ds.hs, b[:take]...)
		b = b[take:]
		if len(ds.hs) == 4+n {
			s.message(d, ds.hs[0], ds.hs[4:])
			ds.hs = ds.hs[:0]
		}
	}
}

func u24(b []byte) int { return int(b[0])<<16 | int(b[1])<<8 | int(b[2]) }

// message acts on one handshake message.
func (s *Session) message(d Direction, typ byte, body []byte) {
	ds := &s.dir[d&1]
	switch typ {
	case hsClientHello:
		if d == ClientToServer && !ds.encrypted {
			s.clientHello(body)
		}
	case hsServerHello:
		if d == ServerToClient && !ds.encrypted {
			s.serverHello(body)
		}
	case hsFinished:
		if s.stats.Version == VersionTLS13 && !ds.appPhase {
			s.switchTo13(d, true)
		}
	case hsKeyUpdate:
		if s.stats.Version == VersionTLS13 && ds.appPhase {
			s.keyUpdate(d)
		}
	case hsNewSessionTicket:
		// TLS 1.2 (RFC 5077 3.3), in the clear before the server's
		// ChangeCipherSpec: lifetime(4) ticket<0..2^16-1>.
		if s.stats.Version == VersionTLS12 && d == ServerToClient && s.master != nil && len(body) > 6 {
			s.keys.remember(resumptionKey(resumeTicket, body[6:]), s.master)
		}
	}
}

// clientHello takes the client random (RFC 8446 4.1.2):
// legacy_version(2) random(32) ...
func (s *Session) clientHello(b []byte) {
	if len(b) < 34 {
		s.fail(ReasonMalformed)
		return
	}
	copy(s.stats.ClientRandom[:], b[2:34])
	s.stats.HaveClientRandom = true
	// For TLS 1.2 resumption: the session_ticket extension (RFC 5077 3.2).
	// legacy_session_id<0..32> cipher_suites<2..2^16-2>
	// legacy_compression_methods<1..2^8-1> extensions<8..2^16-1>
	p := b[34:]
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return
	}
	p = p[1+int(p[0]):]
	if len(p) < 2 || len(p) < 2+int(binary.BigEndian.Uint16(p)) {
		return
	}
	p = p[2+int(binary.BigEndian.Uint16(p)):]
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return
	}
	p = p[1+int(p[0]):]
	if len(p) < 2 {
		return
	}
	ext := p[2:min(len(p), 2+int(binary.BigEndian.Uint16(p)))]
	for len(ext) >= 4 {
		et, el := binary.BigEndian.Uint16(ext), int(binary.BigEndian.Uint16(ext[2:]))
		if 4+el > len(ext) {
			break
		}
		if et == extSessionTicket && el > 0 {
			s.ticket = resumptionKey(resumeTicket, ext[4:4+el])
			s.haveTicket = true
		}
		ext = ext[4+el:]
	}
}

// serverHello takes version and suite (RFC 8446 4.1.3):
// legacy_version(2) random(32) session_id<0..32> cipher_suite(2)
// compression(1) extensions<6..2^16-1>, with supported_versions (43)
// carrying the real version in TLS 1.3.
func (s *Session) serverHello(b []byte) {
	if len(b) < 38 {
		s.fail(ReasonMalformed)
		return
	}
	var random [32]byte
	copy(random[:], b[2:34])
	if random == helloRetryRandom {
		// Only TLS 1.3 retries; the real ServerHello follows the second
		// ClientHello. Knowing the version now keeps the server's
		// compatibility ChangeCipherSpec from being taken for TLS 1.2's.
		s.stats.HelloRetry = true
		s.stats.Version = VersionTLS13
		return // a HelloRetryRequest: the real ServerHello follows the second ClientHello
	}
	version := binary.BigEndian.Uint16(b)
	if version>>8 == 0x7f {
		// A TLS 1.3 draft (0x7fNN): before draft 22 the ServerHello had
		// neither session id nor compression; such sessions are counted,
		// not parsed further.
		s.stats.Version = version
		s.stats.Suite = binary.BigEndian.Uint16(b[34:]) // version, random, cipher_suite
		s.haveServer = true
		s.keyReason = ReasonUnsupportedVersion
		s.dir[0].encrypted, s.dir[1].encrypted = true, true
		return
	}
	sidLen := int(b[34])
	p := b[35:]
	if sidLen > 32 || len(p) < sidLen+3 {
		s.fail(ReasonMalformed)
		return
	}
	if sidLen > 0 {
		s.sessionID = resumptionKey(resumeSessionID, p[:sidLen])
		s.haveSessionID = true
	}
	p = p[sidLen:]
	id := binary.BigEndian.Uint16(p)
	p = p[3:]
	if len(p) >= 2 {
		ext := p[2:min(len(p), 2+int(binary.BigEndian.Uint16(p)))]
		for len(ext) >= 4 {
			et, el := binary.BigEndian.Uint16(ext), int(binary.BigEndian.Uint16(ext[2:]))
			if 4+el > len(ext) {
				break
			}
			if et == extSupportedVersions && el == 2 {
				version = binary.BigEndian.Uint16(ext[4:])
			}
			ext = ext[4+el:]
		}
	}
	s.stats.Version, s.stats.Suite = version, id
	s.serverRandom = random
	s.haveServer = true
	s.keyReason = s.prepareKeys(version, id)
	if version == VersionTLS13 && s.keyReason == ReasonNone {
		s.switchTo13(ServerToClient, false)
		s.switchTo13(ClientToServer, false)
	}
	if s.tls13Family() {
		s.dir[0].encrypted, s.dir[1].encrypted = true, true
	}
	// The client's records held back by mustWait can go now.
	if !s.dir[0].dead && len(s.dir[0].buf) > 0 {
		s.process(ClientToServer)
	}
}

// prepareKeys looks the session's secrets up and says why they cannot
// be used, if they cannot.
func (s *Session) prepareKeys(version, id uint16) Reason {
	if version != VersionTLS12 && version != VersionTLS13 {
		return ReasonUnsupportedVersion
	}
	su, ok := lookupSuite(id)
	switch {
	case !ok || su.tls13 != (version == VersionTLS13):
		return ReasonUnsupportedSuite
	case su.kind == aeadCBC:
		return ReasonCBC
	}
	s.suite = su
	if !s.stats.HaveClientRandom {
		return ReasonNoHandshake // the ClientHello was not captured
	}
	if s.keys == nil {
		return ReasonNoKey
	}
	if !s.findKeys(false) {
		s.pending = true // looked up again when the first protected record needs them
		return ReasonNoKey
	}
	return ReasonNone
}

// findKeys looks the session's secrets up (on a miss reading a followed
// key log further, when due or forced) and takes them when complete.
func (s *Session) findKeys(force bool) bool {
	sec, ok := s.lookup()
	if !ok && s.keys.refresh(s.now, force) {
		sec, ok = s.lookup()
	}
	if !ok {
		return false
	}
	s.secrets = sec
	if s.stats.Version == VersionTLS12 {
		s.master = s.secrets.Get(LabelClientRandom)
		if s.haveSessionID {
			s.keys.remember(s.sessionID, s.master)
		}
	}
	return true
}

// lookup returns the session's secrets when the key log has all it needs.
func (s *Session) lookup() (Secrets, bool) {
	sec, ok := s.keys.Lookup(s.stats.ClientRandom)
	if s.stats.Version == VersionTLS12 {
		if !ok {
			// A resumed TLS 1.2 session: some key logs (Go's) hold only the
			// full handshake's master secret; find it by ticket or session id.
			ok = s.haveTicket && s.keys.resumed(s.ticket, &sec) || s.haveSessionID && s.keys.resumed(s.sessionID, &sec)
		}
		return sec, ok && sec.Get(LabelClientRandom) != nil
	}
	if !ok {
		return sec, false
	}
	for _, l := range [...]Label{LabelClientHandshake, LabelServerHandshake, LabelClientTraffic0, LabelServerTraffic0} {
		if len(sec.Get(l)) != s.suite.hashLen() {
			return sec, false // not logged yet, or logged for another suite
		}
	}
	return sec, true
}

// keysArrived installs the secrets found after records began to wait:
// nothing protected was read yet, so each direction starts at its first
// protected record.
func (s *Session) keysArrived() {
	s.pending = false
	s.keyReason = ReasonNone
	s.stats.LateKeys = true
	s.kick, s.replay = true, true
	if s.stats.Version == VersionTLS13 {
		s.switchTo13(ServerToClient, false)
		s.switchTo13(ClientToServer, false)
		return
	}
	for d := range s.dir {
		if s.dir[d].encrypted && s.dir[d].aead == nil {
			s.install12(Direction(d))
		}
	}
}

// giveUp ends the wait for keys: the records held are counted as
// ReasonNoKey as they are parsed.
func (s *Session) giveUp() {
	s.pending = false
	s.arrivals = s.arrivals[:0]
	s.stats.KeyWaitExceeded = true
	s.kick = true
}

// waiting counts the complete records held in both directions (from off
// in d), up to maxWait.
func (s *Session) waiting(d Direction, off int) int {
	n := 0
	for i := range s.dir {
		b := s.dir[i].buf
		if Direction(i) == d&1 {
			b = b[off:]
		}
		for len(b) >= recordHeaderLen && n < s.maxWait {
			l := recordHeaderLen + int(binary.BigEndian.Uint16(b[3:]))
			if len(b) < l {
				break
			}
			n++
			b = b[l:]
		}
	}
	return n
}

// switchTo13 installs direction d's TLS 1.3 handshake (app false) or
// application traffic keys, with the sequence number back at 0.
func (s *Session) switchTo13(d Direction, app bool) bool {
	if s.keyReason != ReasonNone {
		return false
	}
	ds := &s.dir[d&1]
	var l Label
	switch {
	case d == ClientToServer && !app:
		l = LabelClientHandshake
	case d == ClientToServer:
		l = LabelClientTraffic0
	case !app:
		l = LabelServerHandshake
	default:
		l = LabelServerTraffic0
	}
	sec := s.secrets.Get(l)
	ds.secretLen = copy(ds.secret[:], sec)
	ds.appPhase = app
	return s.install13(d)
}

// install13 derives key and IV from the direction's current secret
// (RFC 8446 7.3).
func (s *Session) install13(d Direction) bool {
	ds := &s.dir[d&1]
	h := s.suite.hash()
	sec := ds.secret[:ds.secretLen]
	key, err := expandLabel(h, sec, "key", s.suite.keyLen)
	if err != nil {
		return false
	}
	iv, err := expandLabel(h, sec, "iv", 12)
	if err != nil {
		return false
	}
	a, err := s.suite.newAEAD(key)
	if err != nil {
		return false
	}
	ds.aead = a
	copy(ds.iv[:], iv)
	ds.seq = 0
	return true
}

// keyUpdate moves direction d to its next application traffic secret
// (RFC 8446 7.2): HKDF-Expand-Label(secret, "traffic upd", "", Hash.length).
func (s *Session) keyUpdate(d Direction) {
	ds := &s.dir[d&1]
	next, err := expandLabel(s.suite.hash(), ds.secret[:ds.secretLen], "traffic upd", s.suite.hashLen())
	if err != nil {
		return
	}
	copy(ds.secret[:], next)
	if s.install13(d) {
		s.stats.Dir[d&1].KeyUpdates++
	}
}

// startEncryption12 switches direction d to the TLS 1.2 keys after its
// ChangeCipherSpec (RFC 5246 6.3):
//
//	key_block = PRF(master_secret, "key expansion", server_random + client_random)
//	client_write_key, server_write_key, client_write_IV, server_write_IV
//
// (AEAD suites have no MAC keys.)
func (s *Session) startEncryption12(d Direction) {
	ds := &s.dir[d&1]
	ds.encrypted = true
	ds.seq = 0
	if !s.haveServer {
		if s.keyReason == ReasonNone {
			s.keyReason = ReasonNoHandshake
		}
		return
	}
	if s.keyReason != ReasonNone {
		return // no keys (yet: keysArrived installs them)
	}
	s.install12(d)
}

// install12 derives direction d's TLS 1.2 key and IV.
func (s *Session) install12(d Direction) {
	ds := &s.dir[d&1]
	kl, il := s.suite.keyLen, s.suite.fixedIVLen()
	var block [2*32 + 2*12]byte
	seed := make([]byte, 0, 64)
	seed = append(seed, s.serverRandom[:]...)
	seed = append(seed, s.stats.ClientRandom[:]...)
	prf12(s.suite.hash(), s.secrets.Get(LabelClientRandom), "key expansion", seed, block[:2*kl+2*il])
	key := block[kl*int(d) : kl*int(d)+kl]
	iv := block[2*kl+il*int(d) : 2*kl+il*int(d)+il]
	a, err := s.suite.newAEAD(key)
	if err != nil {
		s.keyReason = ReasonUnsupportedSuite
		return
	}
	ds.aead = a
	copy(ds.iv[:], iv)
}
