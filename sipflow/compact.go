package sipflow

import (
	"cmp"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"

	"github.com/voiptool/voiptool/internal/siplex"
	"github.com/voiptool/voiptool/pcap"
)

// Compact per-message storage. A store holding every call of a 24-hour
// capture keeps only what the lists, filters, KPIs and ladders need per
// message: times as int64, addresses as indexes into the call's endpoint
// table, strings interned, and the raw bytes only when they cannot be
// re-read from the capture file (see RawReader).

// noTime stands for the zero time.Time in an int64 time.
const noTime = math.MinInt64

// unixNS is t in nanoseconds since 1970, noTime for the zero time. Times
// outside int64 nanoseconds (before 1678, after 2262) are clamped: no
// capture clock reaches them, and the order of messages is kept.
func unixNS(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	const lo, hi = -9223372036, 9223372035 // seconds that fit
	if s := t.Unix(); s < lo {
		return noTime + 1
	} else if s > hi {
		return math.MaxInt64
	}
	return t.UnixNano()
}

// timeOf turns unixNS's value back into a UTC time (every reader and
// the HEP decoder give UTC times).
func timeOf(ns int64) time.Time {
	if ns == noTime {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// epScan bounds the search of a call's endpoint table: a new address is
// looked for among the latest entries only, so a call with very many
// endpoints costs a bounded time per message (a duplicate entry is
// harmless: indexes are only read back).
const epScan = 8

// endpoint returns ap's index in the call's endpoint table, adding it.
func (c *call) endpoint(ap netip.AddrPort) uint32 {
	n := len(c.eps)
	for i := n - 1; i >= 0 && i >= n-epScan; i-- {
		if c.eps[i] == ap {
			return uint32(i)
		}
	}
	c.eps = append(c.eps, ap)
	return uint32(n)
}

// corrIndex returns 1 + the index of a correlation id in the call's
// table, 0 for none.
func (c *call) corrIndex(id string) uint32 {
	if id == "" {
		return 0
	}
	rare := c.rareW()
	n := len(rare.corrs)
	for i := n - 1; i >= 0 && i >= n-epScan; i-- {
		if rare.corrs[i] == id {
			return uint32(i + 1)
		}
	}
	rare.corrs = append(rare.corrs, id)
	return uint32(n + 1)
}

// Message flags.
const (
	fRequest uint8 = 1 << iota
	fRetrans
	fToTag
	fInitialInv
	fDup   // a retransmission within DuplicateWindow: the same packet seen twice
	fWide  // the fields below that do not fit are in the extra table's msgWide
	fSDP   // the message has an SDP body: its m= lines are in call.media
	fExtra // the message has an entry in call.extra (kept bytes, or fWide)
)

// Narrow time: a message's time is kept as its distance from the call's
// first message (call.base), in the 48 high bits of storedMsg.tv.
const (
	tvShift = 16
	maxDT   = 1<<(63-tvShift) - 1 // 39 hours of nanoseconds either way
)

// storedMsg is what the store keeps per message (48 bytes: a 7-message
// call is a 352-byte block). The narrow fields hold what a message read
// from a file usually has; a message with a value that does not fit, or
// seen on another source, interface, link type or transport than the
// call's first message (call.ctx), keeps its exact values in a msgWide
// (fWide) and only its location, hashes, CSeq, code and flags here, with
// the index of its extra entry in frame.
type storedMsg struct {
	hash  uint64
	off   int64  // Meta.Offset
	tv    uint64 // time - call.base (ns) << tvShift | Via count << 8 | capture length - payload offset - length
	txn   uint32 // hash of top Via branch, CSeq number and method
	cseq  uint32
	frame uint32 // index into call.extra when fWide
	n     uint16 // length of the message
	code  int16
	pl    uint16 // payload offset in the record, 0 when unknown
	warn  uint16
	src   uint8 // index into call.eps
	dst   uint8
	mi    uint8 // request method, or CSeq method of a response: index into call.methods
	flags uint8
}

// msgWide holds a message's fields at full width (fWide), and a record
// that is not the message's own frame (HEP, or a Meta built without one).
type msgWide struct {
	t, frame             int64
	recT, recOff, recNum int64
	capLen, wireLen      int32
	ifIdx, source, pl    int32
	n                    uint32
	link                 pcap.LinkType
	src, dst, mi, corr   uint32
	warn                 Warnings
	vias                 uint16
	tr                   Transport
}

// msgCtx is what a call's messages usually share: where they were
// captured and how they travelled (the call's first message's).
type msgCtx struct {
	source, ifIdx int32
	link          pcap.LinkType
	tr            Transport
}

func ctxOf(meta *Meta) msgCtx {
	return msgCtx{source: clampInt32(meta.Source), ifIdx: clampInt32(meta.Record.InterfaceIndex), link: meta.Record.LinkType, tr: meta.Transport}
}

// msgExtra is what only some messages have (fExtra): the raw bytes when
// they cannot be re-read, fields that do not fit storedMsg. Entries are
// in message order.
type msgExtra struct {
	raw   []byte
	wide  *msgWide
	msg   uint32 // index of the message in call.msgs
	spill uint32 // where StoreOptions.Spill holds the bytes, 0 when not spilled (fits the padding)
}

// extraOf returns the extra fields of message i (zero when it has none).
func (c *call) extraOf(i int) *msgExtra {
	if c.msgs[i].flags&fExtra == 0 {
		return &noExtra
	}
	j, ok := slices.BinarySearchFunc(c.extra, uint32(i), func(x msgExtra, i uint32) int { return cmp.Compare(x.msg, i) })
	if !ok {
		return &noExtra
	}
	return &c.extra[j]
}

// noExtra is read only.
var noExtra msgExtra

func (sm *storedMsg) request() bool { return sm.flags&fRequest != 0 }
func (sm *storedMsg) retrans() bool { return sm.flags&fRetrans != 0 }
func (sm *storedMsg) dup() bool     { return sm.flags&fDup != 0 }
func (sm *storedMsg) initialInv() bool {
	return sm.flags&fInitialInv != 0
}

func (sm *storedMsg) setFlag(f uint8, on bool) {
	if on {
		sm.flags |= f
	} else {
		sm.flags &^= f
	}
}

// wideOf returns the full-width fields of a message stored with fWide.
func (c *call) wideOf(sm *storedMsg) *msgWide { return c.extra[sm.frame].wide }

// tOf is the message's time (unixNS).
func (c *call) tOf(sm *storedMsg) int64 {
	if sm.flags&fWide != 0 {
		return c.wideOf(sm).t
	}
	return c.base + int64(sm.tv)>>tvShift
}

// nOf is the message's length.
func (c *call) nOf(sm *storedMsg) uint32 {
	if sm.flags&fWide != 0 {
		return c.wideOf(sm).n
	}
	return uint32(sm.n)
}

// srcDst are the indexes into call.eps of the message's addresses.
func (c *call) srcDst(sm *storedMsg) (uint32, uint32) {
	if sm.flags&fWide != 0 {
		w := c.wideOf(sm)
		return w.src, w.dst
	}
	return uint32(sm.src), uint32(sm.dst)
}

// methodIdx is the message's index into call.methods.
func (c *call) methodIdx(sm *storedMsg) uint32 {
	if sm.flags&fWide != 0 {
		return c.wideOf(sm).mi
	}
	return uint32(sm.mi)
}

// viasOf is the number of Via headers (clamped to 65535).
func (c *call) viasOf(sm *storedMsg) int {
	if sm.flags&fWide != 0 {
		return int(c.wideOf(sm).vias)
	}
	return int(sm.tv >> 8 & 0xff)
}

// payloadOf is Meta.PayloadOffset.
func (c *call) payloadOf(sm *storedMsg) int32 {
	if sm.flags&fWide != 0 {
		return c.wideOf(sm).pl
	}
	return int32(sm.pl)
}

// warnOf is the message's parse warnings.
func (c *call) warnOf(sm *storedMsg) Warnings {
	if sm.flags&fWide != 0 {
		return c.wideOf(sm).warn
	}
	return Warnings(sm.warn)
}

// clampInt32 keeps a record field in an int32 (records are far smaller).
func clampInt32(v int) int32 {
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	if v < math.MinInt32 {
		return math.MinInt32
	}
	return int32(v)
}

// pack fills sm's location and the fields given in w (mi, vias, warn,
// n), narrow when everything fits, and the raw bytes kept (nil when
// re-read) or their spill location (0 when not spilled). The message is about to be filed as c.msgs[len(c.msgs)]. It
// returns what the message's extra entry costs (0 when it has none).
func (c *call) pack(sm *storedMsg, meta *Meta, w msgWide, raw []byte, spill uint32) int {
	w.t = unixNS(meta.Time)
	sm.off = meta.Offset
	w.frame = int64(meta.Frame)
	w.capLen, w.wireLen = clampInt32(meta.Record.CaptureLength), clampInt32(meta.Record.Length)
	w.ifIdx, w.link = clampInt32(meta.Record.InterfaceIndex), meta.Record.LinkType
	w.source = clampInt32(meta.Source)
	w.pl = meta.PayloadOffset
	w.src, w.dst = c.endpoint(meta.Src), c.endpoint(meta.Dst)
	w.corr = c.corrIndex(meta.CorrelationID)
	w.tr = meta.Transport
	rec := &meta.Record
	own := rec.Timestamp.Equal(meta.Time) && rec.Number == meta.Frame && rec.Offset == meta.Offset
	w.recT, w.recOff, w.recNum = w.t, sm.off, w.frame
	if !own {
		w.recT, w.recOff, w.recNum = unixNS(rec.Timestamp), rec.Offset, int64(rec.Number)
	}
	dt := w.t - c.base
	trail := int64(w.capLen) - int64(w.pl) - int64(w.n)
	const u8 = math.MaxUint8
	narrow := own && (w.t^c.base)&(w.t^dt) >= 0 && dt >= -maxDT && dt <= maxDT && // no overflow, and it fits
		w.frame >= 0 && w.frame <= math.MaxUint32 && w.wireLen == w.capLen && trail >= 0 && trail <= u8 &&
		w.n <= math.MaxUint16 && w.pl >= 0 && w.pl <= math.MaxUint16 && w.warn <= math.MaxUint16 && w.vias <= u8 &&
		w.src <= u8 && w.dst <= u8 && w.mi <= u8 && w.corr == 0 &&
		msgCtx{source: w.source, ifIdx: w.ifIdx, link: w.link, tr: w.tr} == c.ctx
	if narrow {
		sm.tv = uint64(dt)<<tvShift | uint64(w.vias)<<8 | uint64(trail)
		sm.frame, sm.n, sm.pl = uint32(w.frame), uint16(w.n), uint16(w.pl)
		sm.warn = uint16(w.warn)
		sm.src, sm.dst, sm.mi = uint8(w.src), uint8(w.dst), uint8(w.mi)
		if raw == nil && spill == 0 {
			return 0
		}
	}
	x := msgExtra{raw: raw, msg: uint32(len(c.msgs)), spill: spill}
	sm.flags |= fExtra
	cost := extraOverhead
	if !narrow {
		sm.flags |= fWide
		sm.frame = uint32(len(c.extra))
		x.wide = new(msgWide) // w itself stays on the stack for the narrow message
		*x.wide = w
		cost += wideOverhead
	}
	c.extra = append(c.extra, x)
	return cost
}

// wide returns the message's fields at full width.
func (c *call) wide(sm *storedMsg) msgWide {
	if sm.flags&fWide != 0 {
		return *c.wideOf(sm)
	}
	t := c.tOf(sm)
	capLen := int32(sm.pl) + int32(sm.n) + int32(sm.tv&0xff)
	return msgWide{
		t: t, frame: int64(sm.frame), recT: t, recOff: sm.off, recNum: int64(sm.frame),
		capLen: capLen, wireLen: capLen, ifIdx: c.ctx.ifIdx, source: c.ctx.source, pl: int32(sm.pl),
		n: uint32(sm.n), link: c.ctx.link, src: uint32(sm.src), dst: uint32(sm.dst), mi: uint32(sm.mi),
		warn: Warnings(sm.warn), vias: uint16(sm.tv >> 8 & 0xff), tr: c.ctx.tr,
	}
}

// meta rebuilds the message's Meta.
func (c *call) meta(sm *storedMsg) Meta {
	w := c.wide(sm)
	m := Meta{
		Time:      timeOf(w.t),
		Src:       c.eps[w.src],
		Dst:       c.eps[w.dst],
		Transport: w.tr,
		Source:    int(w.source),
		Frame:     int(w.frame),
		Offset:    sm.off,
		Record: pcap.Packet{
			Timestamp:      timeOf(w.recT),
			CaptureLength:  int(w.capLen),
			Length:         int(w.wireLen),
			InterfaceIndex: int(w.ifIdx),
			LinkType:       w.link,
			Number:         int(w.recNum),
			Offset:         w.recOff,
		},
	}
	if w.corr > 0 {
		m.CorrelationID = c.rareR().corrs[w.corr-1]
	}
	return m
}

// maxInterned bounds the interner: beyond it strings are copied as they
// come. maxInternLen keeps long (and rarely repeated) values out.
const (
	maxInterned  = 4096
	maxInternLen = 96
)

// interner shares the copies of values that repeat across calls (user
// agents, display names, reason phrases, codec names). Bounded: at most
// maxInterned strings of at most maxInternLen bytes are held.
type interner struct{ m map[string]string }

// str returns a string equal to b, shared when it was seen before.
func (in *interner) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxInternLen {
		return string(b)
	}
	if s, ok := in.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if in.m == nil {
		in.m = make(map[string]string)
	}
	if len(in.m) < maxInterned {
		in.m[s] = s
	}
	return s
}

// method returns a method name: a constant for the common ones.
func (in *interner) method(b []byte) string {
	if s, ok := knownMethod(b); ok {
		return s
	}
	return in.str(b)
}

// txTagsScan is how many initial INVITE transactions beyond the call's
// first callMore.txs holds in a list before they all move to a map in
// callRare (a call has one or two initial INVITE transactions; an
// authentication loop can have many).
const txTagsScan = 8

// txTag is an initial INVITE transaction and the To-tags (tagHash) of
// its 101-299 responses.
type txTag struct {
	txn  uint32
	tags []uint64
}

// The call's first initial INVITE transaction with at most one To-tag
// (most calls have nothing else) is inline: call.tx1, call.tags1 and
// call.txN, which is 0 when there is none, else 1 + its number of tags.

// hasInitialTx reports whether the call knows an initial INVITE
// transaction.
func (c *call) hasInitialTx() bool {
	return c.txN > 0 || len(c.moreR().txs) > 0 || len(c.rareR().txm) > 0
}

// txTagsOf returns the To-tags of an initial INVITE transaction, and
// whether it is one. The tags may be the call's own storage: append to
// them and give them back to setTxTags.
func (c *call) txTagsOf(txn uint32) ([]uint64, bool) {
	if m := c.rareR().txm; m != nil {
		v, ok := m[txn]
		return v, ok
	}
	if c.txN > 0 && c.tx1 == txn {
		return c.tags1[:c.txN-1], true
	}
	for _, e := range c.moreR().txs {
		if e.txn == txn {
			return e.tags, true
		}
	}
	return nil, false
}

// setTxTags records an initial INVITE transaction's To-tags.
func (c *call) setTxTags(txn uint32, tags []uint64) {
	if m := c.rareR().txm; m != nil {
		m[txn] = tags
		return
	}
	if c.txN > 0 && c.tx1 == txn {
		if len(tags) <= len(c.tags1) {
			copy(c.tags1[:], tags)
			c.txN = uint8(1 + len(tags))
			return
		}
		c.txN = 0 // forked: to the list
	} else {
		for i, e := range c.moreR().txs {
			if e.txn == txn {
				c.moreR().txs[i].tags = tags
				return
			}
		}
	}
	if c.txN == 0 && len(tags) <= len(c.tags1) {
		c.tx1, c.txN = txn, uint8(1+len(tags))
		copy(c.tags1[:], tags)
		return
	}
	more := c.moreW()
	if len(more.txs) < txTagsScan {
		more.txs = append(more.txs, txTag{txn, tags})
		return
	}
	m := make(map[uint32][]uint64, 2*txTagsScan)
	for _, e := range more.txs {
		m[e.txn] = e.tags
	}
	if c.txN > 0 {
		m[c.tx1] = append([]uint64(nil), c.tags1[:c.txN-1]...)
	}
	m[txn] = tags
	more.txs, c.txN = nil, 0
	c.rareW().txm = m
}

// allocSize is about what the allocator hands out for n bytes: Go's size
// classes step by an eighth of the power of two below them (600 -> 640,
// 1300 -> 1408), so counting n alone undercounts held messages.
func allocSize(n int) int {
	if n <= 16 {
		return n
	}
	step := 1 << (bits.Len(uint(n-1)) - 4) // an eighth of the power of two at or above n
	return (n + step - 1) / step * step
}

// SDP summaries. A call keeps each m= line of its messages' bodies as a
// mediaRec: the addresses, and a pointer to what the line shares with
// other calls' (type, protocol, codecs, direction, ptime), interned by
// the store. A MediaSummary is 152 bytes; a mediaRec is 32, and the
// summaries are built for the reader who asks.

// maxShapes bounds the store's table of media shapes (its strings come
// from the wire): past it a call's new shape is its own.
const maxShapes = 4096

// mediaShape is a MediaSummary without its addresses, and how they are
// stored in the mediaRec that points to it.
type mediaShape struct {
	typ, proto, dir string
	codecs          []string
	ptime           int
	srtp            bool
	addr            bool // Addr is valid (else the zero AddrPort)
	v6              bool // Addr is IPv6 (else IPv4)
	rtcp            bool // RTCP is valid, on Addr's address (else the zero AddrPort)
}

// shapeKey finds a shape in the store's table: codecs is a shared list
// (strLists), so equal lists are one pointer.
type shapeKey struct {
	typ, proto, dir      string
	codecs               *strList
	ptime                int
	srtp, addr, v6, rtcp bool
}

// mediaRec is one m= line of a message's SDP as the call keeps it.
// Records of one message are contiguous in call.media, in message order.
type mediaRec struct {
	shape      *mediaShape // nil: the summary is callRare.media[wideIdx]
	ip         [16]byte    // Addr's address (As16); wideIdx in the first 4 bytes when shape is nil
	port, rtcp uint16
	msg        uint32 // index of the message in call.msgs
}

func (r *mediaRec) wideIdx() uint32 {
	return uint32(r.ip[0]) | uint32(r.ip[1])<<8 | uint32(r.ip[2])<<16 | uint32(r.ip[3])<<24
}

// mediaSummaryOf summarizes media i of sd. l is its codec list in the
// store's shared table and shared whether it is there (or has none);
// else the summary's codecs are a list of its own.
func mediaSummaryOf(sd *SDP, i int, in *interner, lists *strLists) (ms MediaSummary, l *strList, shared bool) {
	md := &sd.Media[i]
	ms = MediaSummary{
		Type:  in.str(md.Type),
		Proto: in.str(md.Proto),
		Dir:   sd.Direction(i).String(),
		SRTP:  sd.Secure(i),
		Ptime: md.Ptime,
	}
	if a := sd.Addr(i); a.IsValid() {
		ms.Addr = netip.AddrPortFrom(a, md.Port)
	}
	if r, ok := sd.RTCPEndpoint(i); ok {
		ms.RTCP = r
	}
	if l, ok := sharedCodecs(sd, i, in, lists); ok {
		ms.Codecs = l.list()
		return ms, l, true
	}
	codecs := make([]string, 0, max(len(md.Payloads), 1))
	if len(md.Payloads) == 0 && len(md.Formats) > 0 {
		codecs = append(codecs, in.str(md.Formats)) // udptl t38, etc.
	}
	for _, pt := range md.Payloads {
		codecs = append(codecs, codecName(sd, i, pt, in))
	}
	ms.Codecs = nilIfEmpty(codecs)
	return ms, nil, false
}

// summarizeSDP summarizes a body's media, as the call's records give
// them back (call.sdpOf).
func summarizeSDP(sd *SDP, in *interner, lists *strLists) []MediaSummary {
	out := make([]MediaSummary, len(sd.Media))
	for i := range sd.Media {
		out[i], _, _ = mediaSummaryOf(sd, i, in, lists)
	}
	return out
}

// addMedia files the media of message msg's SDP; it returns what they
// cost beyond their records (shapes of their own, wide summaries).
func (c *call) addMedia(sd *SDP, msg uint32, s *Store) int {
	cost := 0
	if c.media == nil {
		c.media = make([]mediaRec, 0, max(len(sd.Media), 2)) // an offer and its answer, one m= line each
	}
	for i := range sd.Media {
		if r, ok := s.memo.rec(sd, i, msg); ok {
			c.media = append(c.media, r) // a table shape: costs the call nothing
			continue
		}
		ms, l, shared := mediaSummaryOf(sd, i, &s.in, &s.lists)
		r, n := c.mediaRecOf(&ms, l, shared, msg, s)
		c.media = append(c.media, r)
		cost += n
		if r.shape != nil && n == 0 { // the shape is the store's table's
			s.memo.add(r.shape)
		}
	}
	return cost
}

// shapeMemoN is how many of the latest table shapes the memo holds: a
// load test's offers and answers have one or two, a trunk's a few.
const shapeMemoN = 4

// shapeMemo holds the shapes of the store's table that m= lines had
// lately, so that a line like one of them finds its shape by comparing
// its bytes with the shape's strings: mediaSummaryOf and the table cost
// some ten map lookups a line (interner, codec lists, shapes), a good
// part of a call's filing on a SIP-heavy capture. A shape matches a line
// exactly when the slow path would find it in the table (and change
// nothing: the interner, the lists and the table only grow, and the
// memo holds shapes the slow path put there). Writer only; init resets it.
type shapeMemo struct {
	sh   [shapeMemoN]*mediaShape
	savp [shapeMemoN]bool // sh's proto is an SRTP profile (SDP.Secure without a=crypto)
	next int              // the entry add replaces
}

// add remembers sh, a shape of the store's table.
func (m *shapeMemo) add(sh *mediaShape) {
	m.sh[m.next], m.savp[m.next] = sh, siplex.ContainsFold([]byte(sh.proto), "SAVP")
	m.next = (m.next + 1) % shapeMemoN
}

// rec is the record of media i of sd for message msg, when a shape of the
// memo matches it; mediaRecOf's otherwise.
func (m *shapeMemo) rec(sd *SDP, i int, msg uint32) (mediaRec, bool) {
	if m.sh[0] == nil {
		return mediaRec{}, false
	}
	md := &sd.Media[i]
	var addr netip.AddrPort
	a := sd.Addr(i)
	if a.IsValid() {
		if a.Zone() != "" {
			return mediaRec{}, false // not narrow (mediaRecOf)
		}
		addr = netip.AddrPortFrom(a, md.Port)
	}
	rtcp, hasRTCP := sd.RTCPEndpoint(i)
	if hasRTCP && rtcp.Addr() != a {
		return mediaRec{}, false // not narrow
	}
	dir := sd.Direction(i).String()
	for j, sh := range m.sh {
		if sh == nil || sh.addr != a.IsValid() || sh.v6 != a.Is6() || sh.rtcp != hasRTCP || sh.ptime != md.Ptime ||
			sh.dir != dir || sh.typ != string(md.Type) || sh.proto != string(md.Proto) ||
			sh.srtp != (md.Crypto || m.savp[j]) || !sameCodecs(sd, i, sh.codecs) { // (SDP.Secure, the proto being sh's)
			continue
		}
		r := mediaRec{shape: sh, ip: a.As16(), port: addr.Port(), msg: msg}
		if hasRTCP {
			r.rtcp = rtcp.Port()
		}
		return r, true
	}
	return mediaRec{}, false
}

// sameCodecs reports whether media i of sd has the codec names l
// (sharedCodecs's, as codecName and mediaSummaryOf name them).
func sameCodecs(sd *SDP, i int, l []string) bool {
	md := &sd.Media[i]
	if len(md.Payloads) == 0 {
		if len(md.Formats) == 0 {
			return len(l) == 0
		}
		return len(l) == 1 && l[0] == string(md.Formats)
	}
	if len(l) != len(md.Payloads) {
		return false
	}
	for j, pt := range md.Payloads {
		enc, ok := sd.RTPMap(i, pt)
		switch {
		case ok && len(enc) > 0:
			if l[j] != string(enc) {
				return false
			}
		case !ok && StaticPayloadName(pt) != "":
			if l[j] != StaticPayloadName(pt) {
				return false
			}
		default:
			if l[j] != ptString(pt) {
				return false
			}
		}
	}
	return true
}

// mediaRecOf compacts ms; the second result is what it costs beyond the
// record.
func (c *call) mediaRecOf(ms *MediaSummary, l *strList, shared bool, msg uint32, s *Store) (mediaRec, int) {
	r := mediaRec{msg: msg}
	a := ms.Addr.Addr()
	k := shapeKey{typ: ms.Type, proto: ms.Proto, dir: ms.Dir, codecs: l, ptime: ms.Ptime, srtp: ms.SRTP,
		addr: a.IsValid(), v6: a.Is6(), rtcp: ms.RTCP.IsValid()}
	narrow := a.Zone() == "" && (k.addr || ms.Addr == netip.AddrPort{})
	if k.rtcp {
		narrow = narrow && ms.RTCP.Addr() == a
	} else {
		narrow = narrow && ms.RTCP == netip.AddrPort{}
	}
	if !narrow {
		rare := c.rareW()
		r.ip[0], r.ip[1], r.ip[2], r.ip[3] = byte(len(rare.media)), byte(len(rare.media)>>8), byte(len(rare.media)>>16), byte(len(rare.media)>>24)
		rare.media = append(rare.media, *ms)
		return r, wideMediaOverhead
	}
	r.ip = a.As16()
	r.port, r.rtcp = ms.Addr.Port(), ms.RTCP.Port()
	cost := 0
	if shared {
		r.shape = s.shapes[k]
	}
	if r.shape == nil {
		r.shape = &mediaShape{typ: ms.Type, proto: ms.Proto, dir: ms.Dir, codecs: ms.Codecs, ptime: ms.Ptime, srtp: ms.SRTP,
			addr: k.addr, v6: k.v6, rtcp: k.rtcp}
		if shared && len(s.shapes) < maxShapes {
			s.shapes[k] = r.shape
		} else {
			cost = shapeOverhead + allocSize(16*len(ms.Codecs)) // its own
		}
	}
	return r, cost
}

// srtpOf is the record's SRTP.
func (c *call) srtpOf(r *mediaRec) bool {
	if r.shape == nil {
		return c.rareR().media[r.wideIdx()].SRTP
	}
	return r.shape.srtp
}

// addrOf is the record's Addr.
func (c *call) addrOf(r *mediaRec) netip.AddrPort {
	sh := r.shape
	switch {
	case sh == nil:
		return c.rareR().media[r.wideIdx()].Addr
	case !sh.addr:
		return netip.AddrPort{}
	case sh.v6:
		return netip.AddrPortFrom(netip.AddrFrom16(r.ip), r.port)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(r.ip[12:])), r.port)
}

// summaryOf rebuilds the record's MediaSummary.
func (c *call) summaryOf(r *mediaRec) MediaSummary {
	sh := r.shape
	if sh == nil {
		return c.rareR().media[r.wideIdx()]
	}
	ms := MediaSummary{Type: sh.typ, Proto: sh.proto, Codecs: sh.codecs, Dir: sh.dir, SRTP: sh.srtp, Ptime: sh.ptime}
	if sh.addr {
		ms.Addr = c.addrOf(r)
		if sh.rtcp {
			ms.RTCP = netip.AddrPortFrom(ms.Addr.Addr(), r.rtcp)
		}
	}
	return ms
}

// mediaOf is the records of message i's SDP.
func (c *call) mediaOf(i uint32) []mediaRec {
	lo, _ := slices.BinarySearchFunc(c.media, i, func(r mediaRec, i uint32) int { return cmp.Compare(r.msg, i) })
	hi := lo
	for hi < len(c.media) && c.media[hi].msg == i {
		hi++
	}
	return c.media[lo:hi]
}

// sdpOf is message i's SDP summary, built for a reader in a slice from
// a: nil when the message has no SDP, empty when its SDP has no m= line.
func (c *call) sdpOf(i uint32, a *summaryAlloc) []MediaSummary {
	if c.msgs[i].flags&fSDP == 0 {
		return nil
	}
	recs := c.mediaOf(i)
	out := a.mediaN(len(recs))
	for j := range recs {
		out[j] = c.summaryOf(&recs[j])
	}
	return out
}
