package sipflow

import (
	"fmt"
	"hash/maphash"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// retransKey identifies an identical message on the same path. Identical
// bytes imply the same transaction (same Via branch, CSeq and method), so a
// repeat is a retransmission (RFC 3261 17.1.1.2, 17.2.1) — unless it
// comes within DuplicateWindow of the first copy: no timer retransmits
// that fast, so it is the same packet seen twice (a HEP agent sending each
// message several times, a mirror, a capture on a bond and its slave).
type retransKey struct {
	h        uint64
	src, dst netip.AddrPort
}

// DuplicateWindow is how close to the first copy an identical message on
// the same path is taken for a duplicate capture of it rather than a
// retransmission. RFC 3261's fastest retransmission is T1 (500 ms by
// default; operators lower it to 100-250 ms at the very least), so 5 ms
// leaves a wide margin on both sides.
const DuplicateWindow = 5 * time.Millisecond

// maxSourceBit is the last bit of a call's source set: sources from it on
// share it (a session has a few interfaces, listeners and files).
const maxSourceBit = 63

func sourceBit(i int) uint64 { return 1 << uint(min(max(i, 0), maxSourceBit)) }

// seenScan is how many messages a call has before its retransmission
// check moves from a scan of the messages to a map: most dialogs never
// get one.
const seenScan = 32

// call is one dialog. Its layout is what a completed call costs (see
// TestStoreRetainedPerCall): fields a few calls need live in callCold,
// the messages' endpoint table stands for the call's own addresses (and
// gives its IPs), lists and parties that repeat across calls are shared
// (strList, parties), the first initial INVITE transaction and the latest
// offer/answer exchange are inline, and the store's lists run through the
// calls themselves (callLink), so a call is one 384-byte block beside its
// messages.
type call struct {
	id      string
	parties parties // shared with the calls between the same parties
	phrase  string

	// times as unixNS, noTime when not reached
	first, last int64
	base        int64 // the first message's: storedMsg.tv counts from it
	inviteT     int64 // first initial INVITE
	ringT       int64 // first 18x
	answerT     int64 // first 2xx to the initial INVITE
	finalT      int64 // first final response to the initial INVITE
	byeT        int64

	callerTag uint64 // hash of the initial INVITE's From-tag with the low bit set, 0 when it had none
	bytes     int
	sources   uint64 // capture sources the call was seen on (sourceBit)

	msgs    []storedMsg
	extra   []msgExtra       // of the few messages that need more
	media   []mediaRec       // the m= lines of the messages' SDP, in message order
	eps     []netip.AddrPort // endpoints the messages index
	methods *strList
	uas     *strList
	neg     negRec    // the latest completed offer/answer exchange (see negotiated); the earlier ones in callRare.negs
	cold    *callCold // what few calls need, allocated with the first

	ord, q callLink // in the store's creation-order list; in its active or done list (where)
	ctx    msgCtx   // the first message's; storedMsg keeps no copy of it

	tags1          [1]uint64 // To-tags of tx1
	tx1            uint32    // the first initial INVITE transaction
	srcI, dstI     uint32    // the first request's addresses: indexes into eps
	offerM         uint32    // 1 + index into msgs of the latest offer, until the first completed negotiation (then neg)
	inviteCSeq     uint32
	pendM          uint32 // 1 + index into msgs of the offer awaiting its answer, 0 when none (pending)
	forks          int32  // distinct To-tags answering an initial INVITE transaction
	authChallenges int32
	retrans        int32
	warnCount      int32 // messages with parse warnings
	dups           int32 // duplicate copies (see DuplicateWindow)
	finalCode      int16
	lastAuth       int16 // code of the last 401/407 to an INVITE

	isInvite               bool
	state                  State
	expired                bool // closed by idle expiry without a terminal state
	cancelSeen, held, srtp bool
	hangupBy               hangupSide
	where                  uint8 // listActive, listDone or 0
	txN                    uint8 // the first initial INVITE transaction (tx1, tags1): see txTagsOf
}

// hangupSide is CallSummary.HangupBy as a byte.
type hangupSide uint8

const (
	hangupNone hangupSide = iota
	hangupCaller
	hangupCallee
)

var hangupNames = [...]string{"", "caller", "callee"}

// callCold holds what most calls get in the end, but not all: the
// problems internal/diagnose finds, RTP streams (64 bytes); what fewer
// calls need is behind more.
type callCold struct {
	problems []Problem
	streams  []Stream
	more     *callMore
}

// callMore holds what some calls need: events, legs, the Reason header;
// what few need is behind rare.
type callMore struct {
	events    []CallEvent
	legs      []Leg
	reasonHdr string
	reason    string  // phrase with the Reason header, built by publish
	txs       []txTag // initial INVITE transactions besides call.tx1 (see txTagsOf)
	rare      *callRare
}

// noMore is read only: the callMore of a call that has none.
var noMore callMore

// moreW returns the call's callMore for writing, allocating it.
func (c *call) moreW() *callMore {
	cold := c.coldW()
	if cold.more == nil {
		cold.more = &callMore{}
		c.bytes += moreOverhead
	}
	return cold.more
}

// moreR returns the call's callMore for reading.
func (c *call) moreR() *callMore {
	if c.cold == nil || c.cold.more == nil {
		return &noMore
	}
	return c.cold.more
}

// callRare holds what few calls need: a retransmission map past
// seenScan messages, initial INVITE transactions past txTagsScan,
// correlation ids, X-Call-ID links.
type callRare struct {
	seen                  map[retransKey]int64 // first copy's time (unixNS)
	txm                   map[uint32][]uint64  // initial INVITE transactions past callMore.txs's txTagsScan
	corrs, xcids, corrIDs []string
	media                 []MediaSummary // m= lines a mediaRec cannot hold (a zone, RTCP on another address)
	negs                  []negRec       // completed exchanges before call.neg, oldest first
	negsCut               int            // exchanges dropped past maxNegotiations
}

// noRare is read only: the rare part of a call that has none.
var noRare callRare

// rareW returns the call's rare part for writing, allocating it.
func (c *call) rareW() *callRare {
	more := c.moreW()
	if more.rare == nil {
		more.rare = &callRare{}
		c.bytes += rareOverhead
	}
	return more.rare
}

// rareR returns the call's rare part for reading.
func (c *call) rareR() *callRare {
	if more := c.moreR(); more.rare != nil {
		return more.rare
	}
	return &noRare
}

// noCold is read only: the cold part of a call that has none.
var noCold callCold

// coldW returns the call's cold part for writing, allocating it.
func (c *call) coldW() *callCold {
	if c.cold == nil {
		c.cold = &callCold{}
		c.bytes += coldOverhead
	}
	return c.cold
}

// coldR returns the call's cold part for reading.
func (c *call) coldR() *callCold {
	if c.cold == nil {
		return &noCold
	}
	return c.cold
}

func newCall(id string, m *Message, meta *Meta, s *Store) *call {
	t := unixNS(meta.Time)
	c := &call{id: id, first: t, last: t, base: t, inviteT: noTime, ringT: noTime, answerT: noTime, finalT: noTime, byeT: noTime}
	meth := m.Method
	if !m.Request {
		meth = m.CSeqMethod
	}
	// Room for a typical dialog from the start: 7 messages and 2
	// addresses for a call; a request and its answer otherwise.
	if string(meth) == "INVITE" {
		c.isInvite, c.state = true, StateSetup
		c.msgs = make([]storedMsg, 0, 7) // INVITE 100 180 200 ACK BYE 200
	} else {
		c.state = StatePending
		c.msgs = make([]storedMsg, 0, 2)
	}
	c.eps = make([]netip.AddrPort, 0, 2)
	c.ctx = ctxOf(meta)
	c.setParties(m, s)
	// the endpoint table starts with the message's source and
	// destination, as pack would add them
	src, dst := c.endpoint(meta.Src), c.endpoint(meta.Dst)
	if m.Request {
		c.srcI, c.dstI = src, dst
	} else {
		c.srcI, c.dstI = dst, src
	}
	return c
}

// parties are a call's From and To users and display names and its
// P-Asserted-Identity user, as its summary shows them, in one string:
// where the second to fifth start (partiesHdr bytes, 4 each, little
// endian), then the five one after the other. The store shares one
// between the calls that have the same (a load test, a trunk's calls to
// one number); a call's own is one allocation, where five strings took
// 80 bytes in the call and an allocation each.
type parties string

const partiesHdr = 16

// maxParties bounds the store's table of parties (from the wire): past
// it a call's parties are its own.
const maxParties = 4096

// part is the i-th of the five strings.
func (p parties) part(i int) string {
	if len(p) < partiesHdr {
		return ""
	}
	at := func(i int) int {
		if i == 0 {
			return partiesHdr
		}
		if i == 5 {
			return len(p)
		}
		o := 4 * (i - 1)
		return partiesHdr + int(uint32(p[o])|uint32(p[o+1])<<8|uint32(p[o+2])<<16|uint32(p[o+3])<<24)
	}
	return string(p[at(i):at(i+1)])
}

func (p parties) from() string     { return p.part(0) }
func (p parties) to() string       { return p.part(1) }
func (p parties) fromDisp() string { return p.part(2) }
func (p parties) toDisp() string   { return p.part(3) }
func (p parties) pai() string      { return p.part(4) }

// appendParties appends the parties of m (with pai when m has no
// P-Asserted-Identity) to buf.
func appendParties(buf []byte, m *Message, pai string) []byte {
	buf = append(buf, make([]byte, partiesHdr)...)
	start := len(buf)
	for i := range 5 {
		switch i {
		case 0:
			buf = appendUser(buf, &m.From)
		case 1:
			buf = appendUser(buf, &m.To)
		case 2:
			buf = appendDisplay(buf, &m.From)
		case 3:
			buf = appendDisplay(buf, &m.To)
		case 4:
			if m.HasPAI {
				buf = appendUser(buf, &m.PAI)
			} else {
				buf = append(buf, pai...)
			}
		}
		if i < 4 {
			n, o := uint32(len(buf)-start), start-partiesHdr+4*i
			buf[o], buf[o+1], buf[o+2], buf[o+3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
		}
	}
	return buf
}

// appendUser appends n's URI user, its host when there is no user.
func appendUser(buf []byte, n *NameAddr) []byte {
	if len(n.URI.User) > 0 {
		return append(buf, n.URI.User...)
	}
	return append(buf, n.URI.Host...)
}

// appendDisplay appends n's display name, unescaped.
func appendDisplay(buf []byte, n *NameAddr) []byte {
	if indexByte(n.Display, '\\') < 0 {
		return append(buf, n.Display...)
	}
	return append(buf, n.DisplayName()...)
}

func (c *call) setParties(m *Message, s *Store) {
	buf := appendParties(s.pbuf[:0], m, c.parties.pai())
	s.pbuf = buf
	switch p, ok := s.parties[string(buf)]; {
	case string(buf) == string(c.parties):
	case ok:
		c.parties = p
	default:
		c.parties = parties(buf)
		if len(s.parties) < maxParties {
			s.parties[string(c.parties)] = c.parties
		} else {
			c.bytes += allocSize(len(buf)) // its own (once more when the initial INVITE changes them: rare)
		}
	}
}

// knownMethod returns a constant for the common methods so they cost no
// allocation; ok is false for other methods.
func knownMethod(b []byte) (string, bool) {
	switch string(b) {
	case "INVITE":
		return "INVITE", true
	case "ACK":
		return "ACK", true
	case "BYE":
		return "BYE", true
	case "CANCEL":
		return "CANCEL", true
	case "REGISTER":
		return "REGISTER", true
	case "OPTIONS":
		return "OPTIONS", true
	case "PRACK":
		return "PRACK", true
	case "UPDATE":
		return "UPDATE", true
	case "INFO":
		return "INFO", true
	case "SUBSCRIBE":
		return "SUBSCRIBE", true
	case "NOTIFY":
		return "NOTIFY", true
	case "REFER":
		return "REFER", true
	case "MESSAGE":
		return "MESSAGE", true
	case "PUBLISH":
		return "PUBLISH", true
	}
	return "", false
}

// methodString returns a constant for the common methods, a copy
// otherwise.
func methodString(b []byte) string {
	if s, ok := knownMethod(b); ok {
		return s
	}
	return string(b)
}

func (c *call) closed() bool { return c.expired || c.state.Terminal() }

// trimSlack is the room left in a closed call's tables: a BYE's 200, an
// ACK or a retransmission often follow the message that closed it.
const trimSlack = 2

// trim gives back what a closed call's message tables grew by doubling
// and will not use. Readers never hold these slices (they get copies).
func (c *call) trim() {
	if cap(c.msgs)-len(c.msgs) > trimSlack {
		c.msgs = append(make([]storedMsg, 0, len(c.msgs)+trimSlack), c.msgs...)
	}
	if cap(c.extra)-len(c.extra) > trimSlack {
		c.extra = append(make([]msgExtra, 0, len(c.extra)+trimSlack), c.extra...)
	}
}

// typ is CallSummary.Type: TypeCall, or the method of the dialog's first
// message (its request method, or the CSeq method of a response), which
// is the first of the call's methods.
func (c *call) typ() string {
	if c.isInvite {
		return TypeCall
	}
	if l := c.methods.list(); len(l) > 0 {
		return l[0]
	}
	return ""
}

// add files one message; it reports whether it was a retransmission.
// keep says whether the raw bytes must be kept in memory (they cannot be
// re-read from the capture); spilled, when not 0, is where the store's
// Spiller holds them instead.
func (c *call) add(m *Message, meta *Meta, raw []byte, s *Store, keep bool, spilled uint32) bool {
	sm := storedMsg{
		hash: maphash.Bytes(s.seed, raw),
		cseq: m.CSeq,
		code: int16(m.StatusCode),
	}
	w := msgWide{warn: m.Warnings, n: uint32(len(raw))}
	t := unixNS(meta.Time)
	firstT, retrans := c.seenBefore(&sm, meta, t)
	dup := retrans && t-firstT < int64(DuplicateWindow) && firstT-t < int64(DuplicateWindow)
	c.sources |= sourceBit(meta.Source)
	sm.setFlag(fRequest, m.Request)
	sm.setFlag(fRetrans, retrans)
	sm.setFlag(fDup, dup)
	sm.setFlag(fToTag, len(m.To.Tag) > 0)
	w.vias = uint16(min(len(m.Via), math.MaxUint16))
	var kept []byte
	if keep {
		kept = append([]byte(nil), raw...) // the one copy
	}
	var method string
	if m.Request {
		method = s.in.method(m.Method)
	} else {
		method = s.in.method(m.CSeqMethod)
	}
	w.mi = c.methodIndex(&s.lists, method)
	var branch []byte
	if len(m.Via) > 0 {
		branch = m.Via[0].Branch
	}
	sm.txn = txnOf(s.seed, branch, m.CSeq, w.mi)
	if m.HasSDP {
		sm.flags |= fSDP
		c.bytes += sdpOverhead + mediaOverhead*len(m.SDP.Media) + c.addMedia(&m.SDP, uint32(len(c.msgs)), s)
	}
	c.bytes += msgOverhead + c.pack(&sm, meta, w, kept, spilled)
	if kept != nil {
		// a message held in memory (no file to re-read it from: a pipe,
		// a live capture, reassembled or decrypted bytes) costs its copy
		// as the allocator rounds it
		c.bytes += allocSize(len(kept))
	}
	if t > c.last {
		c.last = t
	}
	if c.first == noTime || t < c.first {
		c.first = t
	}
	c.expired = false
	if m.Warnings != 0 {
		c.warnCount++
	}
	if retrans {
		if dup {
			c.dups++
		} else {
			c.retrans++
		}
		c.msgs = append(c.msgs, sm)
		return true
	}
	if ua := m.UA(); len(ua) > 0 && !c.hasUA(ua) {
		c.uas = s.lists.withBytes(c.uas, ua, &s.in)
	}
	if m.HasSDP {
		// the records addMedia filed for m hold SDP.Secure of each line
		recs := c.media[len(c.media)-len(m.SDP.Media):]
		for i := range recs {
			if c.srtpOf(&recs[i]) {
				c.srtp = true
			}
		}
	}
	c.apply(m, meta, &sm, s)
	c.negotiate(&sm)
	c.msgs = append(c.msgs, sm)
	return false
}

// txnOf is storedMsg.txn: the transaction of a message (RFC 3261
// 17.1.3: top Via branch, CSeq number and method) as a hash. Only the
// messages of one call are compared by it, so the method is the call's
// index of it (methodIndex) rather than its name, and the branch's seeded
// hash is mixed with the number and index by a bijection (fmix64 of
// MurmurHash3): one short maphash.Bytes where a maphash.Hash was set
// up and written field by field (seven writes and a Sum64) per message.
func txnOf(seed maphash.Seed, branch []byte, cseq, mi uint32) uint32 {
	x := maphash.Bytes(seed, branch) ^ (uint64(cseq)<<32 | uint64(mi))
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return uint32(x)
}

// seenBefore reports whether an identical message came the same way
// before, and when the first copy came: a scan of the call's messages
// while they are few, a map after. t is this message's time.
func (c *call) seenBefore(sm *storedMsg, meta *Meta, t int64) (int64, bool) {
	if c.rareR().seen == nil && len(c.msgs) < seenScan {
		for i := range c.msgs {
			o := &c.msgs[i]
			if o.hash != sm.hash {
				continue
			}
			if src, dst := c.srcDst(o); c.eps[src] == meta.Src && c.eps[dst] == meta.Dst {
				return c.tOf(o), true
			}
		}
		return 0, false
	}
	rare := c.rareW()
	if rare.seen == nil {
		rare.seen = make(map[retransKey]int64, 2*seenScan)
		for i := range c.msgs {
			o := &c.msgs[i]
			src, dst := c.srcDst(o)
			k := retransKey{o.hash, c.eps[src], c.eps[dst]}
			if _, ok := rare.seen[k]; !ok {
				rare.seen[k] = c.tOf(o)
			}
		}
	}
	k := retransKey{sm.hash, meta.Src, meta.Dst}
	if first, ok := rare.seen[k]; ok {
		return first, true
	}
	rare.seen[k] = t
	return 0, false
}

// nilIfEmpty keeps an empty list null in JSON, as before any element.
func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// strList is a list of strings (a call's methods, its user agents, an
// SDP media's codecs) shared by every call that has the same one: most
// calls have one of a few. A shared list never changes: adding a string
// moves a call to another list. A list outside the table (the table is
// full, or the list long) belongs to one call and grows in place: a
// reader holds a published slice of the old length and never sees past
// it (readers treat summaries' slices as read-only and never append to
// them); past the capacity append copies.
type strList struct {
	items  []string
	next   map[string]*strList // the shared lists one string longer
	shared bool                // in the store's table
}

func (l *strList) list() []string {
	if l == nil {
		return nil
	}
	return l.items
}

// maxStrLists bounds the table of shared lists (its strings come from
// the wire): past it a call's new list is its own. maxStrListLen keeps
// long lists out, so the table holds at most 4096*16 strings.
const (
	maxStrLists   = 4096
	maxStrListLen = 16
)

// strLists is the store's table of shared lists, a tree from the empty
// list. Writer only; readers only read a list's items.
type strLists struct {
	root strList
	n    int
}

// with returns the list l followed by v (l nil is the empty list).
func (t *strLists) with(l *strList, v string) *strList {
	if x := t.sharedWith(l, v); x != nil {
		return x
	}
	if l.shared {
		return &strList{items: append(l.items[:len(l.items):len(l.items)], v)} // its own from now on
	}
	l.items = append(l.items, v)
	return l
}

// withBytes is with(l, in.str(b)) without the interner's lookup when
// the shared list l followed by b is in the table already: the string
// in that list is the one in.str gives (or, past the interner's bound,
// an equal one), and neither table changes.
func (t *strLists) withBytes(l *strList, b []byte, in *interner) *strList {
	x := l
	if x == nil {
		x = &t.root
	}
	if x.shared {
		if y, ok := x.next[string(b)]; ok {
			return y
		}
	}
	return t.with(l, in.str(b))
}

// sharedWith returns the shared list l followed by v (l nil is the
// empty list), adding it to the table while there is room; nil when l
// is not shared or v cannot be added.
func (t *strLists) sharedWith(l *strList, v string) *strList {
	if l == nil {
		l = &t.root
		l.shared = true
	}
	if !l.shared {
		return nil
	}
	if x, ok := l.next[v]; ok {
		return x
	}
	if t.n >= maxStrLists || len(l.items) >= maxStrListLen {
		return nil
	}
	x := &strList{items: append(l.items[:len(l.items):len(l.items)], v), shared: true}
	if l.next == nil {
		l.next = make(map[string]*strList, 1)
	}
	l.next[v] = x
	t.n++
	return x
}

// appendCOW appends without ever writing into a backing array a reader may
// hold: published slices are immutable.
func appendCOW[T any](s []T, v T) []T {
	return append(s[:len(s):len(s)], v)
}

// methodIndex returns the index of a method in the call's list of
// methods (Methods in the summary), adding it; messages keep the index.
func (c *call) methodIndex(lists *strLists, m string) uint32 {
	for i, x := range c.methods.list() {
		if x == m {
			return uint32(i)
		}
	}
	c.methods = lists.with(c.methods, m)
	return uint32(len(c.methods.items) - 1)
}

// methodOf is the message's request method, or its CSeq method for a
// response.
func (c *call) methodOf(sm *storedMsg) string { return c.methods.items[c.methodIdx(sm)] }

func (c *call) hasUA(ua []byte) bool {
	for _, x := range c.uas.list() {
		if x == string(ua) {
			return true
		}
	}
	return false
}

// appendIPs appends the call's addresses to buf, in the order they
// first came: the distinct addresses of the endpoint table, which holds
// every message's source and destination in message order.
func (c *call) appendIPs(buf []netip.Addr) []netip.Addr {
	for _, ap := range c.eps {
		if a := ap.Addr(); a.IsValid() && !slices.Contains(buf, a) {
			buf = append(buf, a)
		}
	}
	return buf
}

func (c *call) hasXCID(x []byte) bool {
	for _, v := range c.rareR().xcids {
		if v == string(x) {
			return true
		}
	}
	return false
}

func (c *call) hasCorr(x string) bool {
	for _, v := range c.rareR().corrIDs {
		if v == x {
			return true
		}
	}
	return false
}

func (c *call) addLeg(id, rule string) bool {
	for _, l := range c.moreR().legs {
		if l.CallID == id && l.Rule == rule {
			return false
		}
	}
	more := c.moreW()
	more.legs = appendCOW(more.legs, Leg{CallID: id, Rule: rule})
	return true
}

func (c *call) event(t time.Time, kind, detail string) {
	more := c.moreW()
	more.events = append(more.events, CallEvent{Time: t, Kind: kind, Detail: detail})
	c.bytes += eventOverhead + allocSize(len(detail)) // kinds are constants, or short
}

// Status code classes and specific codes, RFC 3261 21.
const (
	codeOK                  = 200
	codeUnauthorized        = 401 // 21.4.2
	codeProxyAuthRequired   = 407 // 21.4.8
	codeBusyHere            = 486 // 21.4.25
	codeRequestTerminated   = 487 // 21.4.26
	codeBusyEverywhere      = 600 // 21.6.1
	codeDecline             = 603 // 21.6.2
	codeRequestTimeout      = 408 // 21.4.9
	codeServerError         = 500 // 21.5.1
	codeServiceUnavailable  = 503 // 21.5.4
	codeServerTimeout       = 504 // 21.5.5
	codeTrying              = 100
	minFinal                = 200
	minRedirect             = 300
	minFailure              = 400
	codeSessionProgressBase = 180 // 18x: ringing / early media
)

// apply runs the dialog state machine for a non-retransmitted message.
func (c *call) apply(m *Message, meta *Meta, sm *storedMsg, s *Store) {
	t := meta.Time
	if m.Request {
		c.applyRequest(m, t, sm, meta, s)
		return
	}
	c.applyResponse(m, t, sm, s)
}

// tagHash stands for a tag the call compares later (the caller's
// From-tag, the To-tags of forks): a hash, not a copy, as the store
// hashes messages.
func tagHash(s *Store, tag []byte) uint64 { return maphash.Bytes(s.seed, tag) }

func (c *call) applyRequest(m *Message, t time.Time, sm *storedMsg, meta *Meta, s *Store) {
	switch c.methodOf(sm) {
	case "INVITE":
		if !c.isInvite {
			c.isInvite, c.state = true, StateSetup
		}
		if len(m.To.Tag) == 0 {
			sm.setFlag(fInitialInv, true)
			if _, ok := c.txTagsOf(sm.txn); !ok {
				c.setTxTags(sm.txn, nil)
			}
			c.initialInvite(m, t, sm, s)
			return
		}
		// re-INVITE inside the dialog: hold/resume by its offer (RFC 3264 8.4)
		c.event(t, "reinvite", "CSeq "+itoa(int(m.CSeq)))
		c.holdOffer(m, t)
	case "UPDATE":
		// RFC 3311: an UPDATE offer after the answer can hold/resume too
		if c.answerT != noTime {
			c.holdOffer(m, t)
		}
	case "CANCEL":
		c.cancelSeen = true
		c.event(t, "cancel", "")
		c.setReasonHeader(m)
	case "BYE":
		c.byeT = unixNS(t)
		c.setReasonHeader(m)
		if c.callerTag != 0 && len(m.From.Tag) > 0 {
			if tagHash(s, m.From.Tag)|1 == c.callerTag {
				c.hangupBy = hangupCaller
			} else {
				c.hangupBy = hangupCallee
			}
		} else if meta.Src == c.eps[c.srcI] {
			c.hangupBy = hangupCaller
		} else {
			c.hangupBy = hangupCallee
		}
		if !c.isInvite {
			return
		}
		if c.state == StateInCall || c.answerT != noTime {
			c.state = StateCompleted
		} else if !c.state.Terminal() {
			c.state = StateCancelled // BYE in an early dialog
		}
	default:
		if !c.isInvite && (c.state == StatePending || c.state == StateTimeout) {
			c.state = StatePending
		}
	}
}

// holdOffer records hold/resume from an in-dialog SDP offer.
func (c *call) holdOffer(m *Message, t time.Time) {
	if !m.HasSDP {
		return
	}
	if m.SDP.OnHold() {
		if !c.held {
			c.held = true
			c.event(t, "hold", "")
		}
	} else if c.held {
		c.held = false
		c.event(t, "resume", "")
	}
}

func (c *call) initialInvite(m *Message, t time.Time, sm *storedMsg, s *Store) {
	if c.inviteT == noTime {
		c.inviteT = unixNS(t)
		c.srcI, c.dstI = c.srcDst(sm)
		c.callerTag = 0
		if len(m.From.Tag) > 0 {
			c.callerTag = tagHash(s, m.From.Tag) | 1
		}
		if len(c.msgs) > 0 {
			// (a call's first message gave newCall its parties: the
			// same again)
			c.setParties(m, s)
		}
	} else if m.CSeq > c.inviteCSeq && c.answerT == noTime && c.state.Terminal() {
		// A new INVITE after a 3xx/4xx (redirect, 422, 491...) with the
		// same Call-ID continues the same call (RFC 3261 8.1.3.4).
		c.state = StateSetup
		c.finalCode, c.phrase, c.finalT = 0, "", noTime
		c.event(t, "retry", "CSeq "+itoa(int(m.CSeq)))
	}
	if m.CSeq > c.inviteCSeq {
		c.inviteCSeq = m.CSeq
	}
	c.lastAuth = 0
}

func (c *call) applyResponse(m *Message, t time.Time, sm *storedMsg, s *Store) {
	in := &s.in
	code := m.StatusCode
	if !c.isInvite {
		if code < minFinal {
			return
		}
		if code == codeUnauthorized || code == codeProxyAuthRequired {
			c.authChallenges++
			if c.finalCode == 0 {
				c.finalCode, c.phrase = int16(code), in.str(m.Phrase)
			}
			return
		}
		c.finalCode, c.phrase = int16(code), in.str(m.Phrase)
		c.setReasonHeader(m)
		if code < minRedirect {
			c.state = StateCompleted
		} else {
			c.state = StateRejected
		}
		return
	}
	if c.methodOf(sm) != "INVITE" {
		return
	}
	// A response belongs to the initial INVITE when it answers one of its
	// transactions (same top Via branch and CSeq). When the INVITE was not
	// captured, every response before the answer is taken as setup.
	tags, known := c.txTagsOf(sm.txn)
	sm.setFlag(fInitialInv, known)
	if !known && (c.hasInitialTx() || c.answerT != noTime) {
		return // response to a re-INVITE: hold/resume is decided by the offer
	}
	// Early and confirmed dialogs (RFC 3261 12.1): distinct To-tags on
	// 101-299 responses of one transaction are forks; failures create no
	// dialog. Counting per transaction keeps the two legs of a B2BUA that
	// reuses the Call-ID from looking like forks.
	if tag := m.To.Tag; len(tag) > 0 && code > codeTrying && code < minRedirect && !slices.Contains(tags, tagHash(s, tag)) {
		tags = append(tags, tagHash(s, tag))
		if known {
			c.setTxTags(sm.txn, tags)
		}
		if len(tags) > int(c.forks) {
			c.forks = int32(min(len(tags), math.MaxInt32))
		}
		if len(tags) > 1 {
			c.event(t, "fork", "To-tag "+string(tag))
		}
	}
	switch {
	case code < minFinal:
		if code >= codeSessionProgressBase && code < minFinal {
			if c.ringT == noTime {
				c.ringT = unixNS(t)
			}
			if c.state == StateSetup {
				c.state = StateRinging
			}
		}
	case code < minRedirect:
		if c.answerT == noTime {
			c.answerT = unixNS(t)
			c.finalT = c.answerT
			c.finalCode, c.phrase = int16(code), in.str(m.Phrase)
			c.state = StateInCall
		}
	case code == codeUnauthorized || code == codeProxyAuthRequired:
		// RFC 3261 22.2: the UAC re-sends the INVITE with credentials;
		// the challenge does not end the call.
		c.authChallenges++
		c.lastAuth = int16(code)
		c.event(t, "auth", itoa(code))
	default:
		if c.answerT != noTime {
			return // a late failure from another fork after the answer
		}
		if c.finalT == noTime || c.state == StateSetup || c.state == StateRinging {
			c.finalT = unixNS(t)
		}
		c.finalCode, c.phrase = int16(code), in.str(m.Phrase)
		c.setReasonHeader(m)
		switch {
		case code < minFailure:
			c.state = StateDiverted
		case code == codeBusyHere || code == codeBusyEverywhere:
			c.state = StateBusy
		case code == codeRequestTerminated:
			c.state = StateCancelled
		default:
			c.state = StateRejected
		}
	}
}

func (c *call) setReasonHeader(m *Message) {
	if !m.HasReason {
		return
	}
	r := &m.Reason
	s := string(r.Protocol)
	if r.Cause >= 0 {
		s += " cause=" + itoa(r.Cause)
	}
	if len(r.Text) > 0 {
		s += " " + string(r.Text)
	}
	c.moreW().reasonHdr = s
}

// expire closes an idle dialog.
func (c *call) expire() {
	switch c.state {
	case StateSetup, StateRinging:
		switch {
		case c.cancelSeen:
			c.state = StateCancelled
		case c.lastAuth != 0:
			// challenged and never re-sent with credentials: the
			// challenge was the final answer
			c.state, c.finalCode = StateRejected, c.lastAuth
		default:
			c.state = StateTimeout
		}
	case StatePending:
		if c.finalCode != 0 {
			c.state = StateRejected // a 401/407 that was never answered
		} else {
			c.state = StateTimeout
		}
	}
	c.expired = true
}

// msBetween is the milliseconds from a to b (unixNS), -1 when either
// was not reached.
func msBetween(a, b int64) int64 {
	if a == noTime || b == noTime {
		return -1
	}
	d := b - a
	if (b^a)&(b^d) < 0 { // overflow: saturate, as time.Time.Sub does
		if b < a {
			d = math.MinInt64
		} else {
			d = math.MaxInt64
		}
	}
	return d / int64(time.Millisecond)
}

// publish refreshes what summary reads that costs an allocation to
// build (the reason text), on the writer's side.
func (c *call) publish() {
	more := c.moreR() // written only when it is the call's own
	if more.reasonHdr == "" {
		return // the reason is the phrase
	}
	switch {
	case c.phrase == "":
		more.reason = more.reasonHdr
	case len(more.reason) != len(c.phrase)+len(more.reasonHdr)+3 || !strings.HasPrefix(more.reason, c.phrase) ||
		!strings.HasSuffix(more.reason, more.reasonHdr+")") || more.reason[len(c.phrase):len(c.phrase)+2] != " (":
		more.reason = c.phrase + " (" + more.reasonHdr + ")"
	}
}

// reason is the summary's Reason, as publish left it.
func (c *call) reason() string {
	if more := c.moreR(); more.reasonHdr != "" {
		return more.reason
	}
	return c.phrase
}

// summary builds the call's summary for a reader: the store keeps no
// copy of it.
func (c *call) summary() CallSummary {
	var s CallSummary
	c.fullSummaryInto(&s, nil)
	return s
}

// fullSummaryInto writes the whole summary into *s but its Sources (the
// store's withSources), its slices from a (nil: each its own).
func (c *call) fullSummaryInto(s *CallSummary, a *summaryAlloc) {
	c.summaryInto(s, a)
	s.SDPHistory = c.sdpHistory(a, s.Offer, s.Answer)
}

// filterInto writes into *s what a Filter reads (node.positive) and
// nothing else, as summaryInto would write it: a filtered list decides
// on this, and builds the whole summary only for the calls it keeps.
// What it leaves out is what costs: the negotiated codec (a search of
// the answer's media for each stream), the times, the SDP. TestFilterInto
// holds it to summaryInto for every column of the filter language.
// IPs are appended to ips (a caller's scratch, which it returns for the
// next call; nil to give the summary a list of its own).
func (c *call) filterInto(s *CallSummary, ips []netip.Addr) []netip.Addr {
	if ips == nil {
		ips = make([]netip.Addr, 0, len(c.eps))
	}
	ips = c.appendIPs(ips[:0])
	*s = CallSummary{
		CallID:          c.id,
		Type:            c.typ(),
		State:           c.state,
		From:            c.parties.from(),
		To:              c.parties.to(),
		FromDisplay:     c.parties.fromDisp(),
		ToDisplay:       c.parties.toDisp(),
		PAI:             c.parties.pai(),
		Src:             c.eps[c.srcI],
		Dst:             c.eps[c.dstI],
		SetupMS:         msBetween(c.inviteT, c.answerT),
		PDDMS:           msBetween(c.inviteT, c.ringT),
		DurationMS:      msBetween(c.answerT, c.byeT),
		FinalCode:       int(c.finalCode),
		Reason:          c.reason(),
		HangupBy:        hangupNames[c.hangupBy],
		Messages:        len(c.msgs),
		Retransmissions: int(c.retrans),
		Methods:         nilIfEmpty(c.methods.list()),
		UserAgents:      nilIfEmpty(c.uas.list()),
		IPs:             nilIfEmpty(ips),
		Problems:        c.coldR().problems,
	}
	return ips
}

// summaryInto writes the summary into *s (a list reuses one): all but
// SDPHistory (nil), which filters do not read and sdpHistory builds. It
// takes from a (nil: allocates) what the store does not keep as the
// summary shows it: the IPs (from the endpoint table) and the Offer and
// Answer (from the media records), so a summary published to a reader
// owns them.
func (c *call) summaryInto(s *CallSummary, a *summaryAlloc) {
	// What a filter reads, then the rest.
	if a == nil {
		c.filterInto(s, nil)
	} else {
		a.scratch = c.filterInto(s, a.scratch)
		if len(s.IPs) > 0 { // in the scratch: copied out at their count
			ips := a.ips.take(len(s.IPs))
			copy(ips, s.IPs)
			s.IPs = ips
		}
	}
	s.Start = timeOf(c.first)
	s.End = timeOf(c.last)
	s.RingMS = -1
	s.TotalMS = msBetween(c.first, c.last)
	s.Duplicates = int(c.dups)
	s.SourceSet = c.sources
	s.AuthChallenges = int(c.authChallenges)
	s.Forks = int(c.forks)
	s.OnHold = c.held
	s.Expired = c.expired
	s.SRTP = c.srtp
	s.Warnings = int(c.warnCount)
	s.Offer = c.offerSDP(a)
	s.Answer = c.answerSDP(a)
	s.SDPHistoryDropped = c.rareR().negsCut
	s.Codec = c.codec(s.Answer) // the answer's records, summarized once
	s.Legs = c.moreR().legs
	s.Streams = c.coldR().streams
	if s.Problems == nil {
		s.Problems = []Problem{} // "problems": [] rather than null
	}
	if c.ringT != noTime && c.finalT != noTime {
		s.RingMS = msBetween(c.ringT, c.finalT)
	}
	if c.inviteT != noTime {
		s.Start = timeOf(c.inviteT)
	}
}

// Problem is one finding about a call (internal/diagnose): a short
// stable code ("one-way-audio"), a severity and a sentence with the
// evidence. SSRC names the stream a per-stream problem is about.
type Problem struct {
	Code     string `json:"code"`
	Severity string `json:"severity"` // SeverityError, SeverityWarning or SeverityInfo
	Detail   string `json:"detail"`
	SSRC     uint32 `json:"ssrc"`
}

// Problem severities.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// SetProblems replaces the problems of a call (the diagnosis runs beside
// the store, over summaries and stream reports); false when the call is
// unknown.
func (s *Store) SetProblems(callID string, ps []Problem) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls.get(callID)
	if !ok {
		return false
	}
	s.setProblems(c, ps)
	return true
}

// setProblems is SetProblems of a call held, under the write lock.
func (s *Store) setProblems(c *call, ps []Problem) {
	before := c.bytes
	if len(ps) > 0 || c.cold != nil {
		cold := c.coldW()
		c.bytes -= s.problemsCost(cold.problems)
		var shared bool
		cold.problems, shared = s.problemList(ps)
		if !shared {
			c.bytes += problemsBytes(cold.problems)
		}
	}
	s.stats.Bytes += int64(c.bytes - before)
	c.publish()
}

// maxSharedProblems bounds the store's table of one-problem lists.
const maxSharedProblems = 4096

// problemList is the list the call keeps for ps: a copy, or, for a
// single problem other calls have too (diagnose finds the same few
// problems in the same words on many calls: a load test's short calls,
// calls without RTP), the one list the store shares between them.
// Readers never change a summary's slices.
// It reports whether the list is the shared one (costs the call nothing,
// as problemsCost says).
func (s *Store) problemList(ps []Problem) ([]Problem, bool) {
	if len(ps) != 1 {
		return append([]Problem(nil), ps...), false
	}
	if l, ok := s.problems[ps[0]]; ok {
		return l, true
	}
	l := []Problem{ps[0]}
	if len(s.problems) < maxSharedProblems {
		s.problems[ps[0]] = l
		return l, true
	}
	return l, false
}

// problemsCost is what a call's problems cost it: nothing for a shared
// list (the store's table is bounded, as the interner is).
func (s *Store) problemsCost(ps []Problem) int {
	if len(ps) == 1 {
		if l, ok := s.problems[ps[0]]; ok && &l[0] == &ps[0] {
			return 0
		}
	}
	return problemsBytes(ps)
}

// sharedCodecs returns media i's codec list from the shared table (nil
// when it has no codec); false when it cannot be shared.
func sharedCodecs(sd *SDP, i int, in *interner, lists *strLists) (*strList, bool) {
	md := &sd.Media[i]
	var l *strList
	if len(md.Payloads) == 0 {
		if len(md.Formats) == 0 {
			return nil, true
		}
		l = lists.sharedWith(nil, in.str(md.Formats))
		return l, l != nil
	}
	for _, pt := range md.Payloads {
		if l = lists.sharedWith(l, codecName(sd, i, pt, in)); l == nil {
			return nil, false
		}
	}
	return l, true
}

// codecName is the name of payload type pt in media i (SDP.Codec's):
// its rtpmap name, else its static name, else the number. A static name
// is the constant string, not a copy through the interner.
func codecName(sd *SDP, i int, pt uint8, in *interner) string {
	if enc, ok := sd.RTPMap(i, pt); ok {
		if len(enc) > 0 {
			return in.str(enc)
		}
	} else if name := StaticPayloadName(pt); name != "" {
		return name
	}
	return ptString(pt)
}

// ptStrings are the payload type numbers as strings, so a codec list
// without rtpmap costs no allocation.
var ptStrings = func() (t [128]string) {
	for i := range t {
		t[i] = itoa(i)
	}
	return
}()

func ptString(pt uint8) string {
	if int(pt) < len(ptStrings) {
		return ptStrings[pt]
	}
	return itoa(int(pt))
}

// msgSource is where a message's bytes are, for fillDetail: kept in
// memory, or to be re-read from the capture.
type msgSource struct {
	raw   []byte // kept copy (never changed once stored), or nil
	spill uint32 // the Spiller's location, 0 when not spilled
	hash  uint64
	pl    int32
	n     uint32
	tx    int // the transaction this message opens, -1 when not the first
}

// detail builds a CallDetail from what the store holds, under the
// store's read lock; fillDetail completes it from the messages' bytes
// without the lock, so reading a file never holds the writer up.
func (c *call) detail() (CallDetail, []msgSource) {
	d := CallDetail{Summary: c.summary(), Events: append([]CallEvent(nil), c.moreR().events...)}
	d.Messages = make([]MessageDetail, 0, len(c.msgs))
	srcs := make([]msgSource, 0, len(c.msgs))
	txIdx := make(map[uint32]int)
	for i := range c.msgs {
		sm := &c.msgs[i]
		x := c.extraOf(i)
		md := MessageDetail{
			Meta:           c.meta(sm),
			Request:        sm.request(),
			StatusCode:     int(sm.code),
			CSeq:           sm.cseq,
			CSeqMethod:     c.methodOf(sm),
			Retransmission: sm.retrans() && !sm.dup(),
			Duplicate:      sm.dup(),
			SDP:            c.sdpOf(uint32(i), nil),
		}
		if w := c.warnOf(sm); w != 0 {
			md.Warnings = w.String()
		}
		if sm.request() {
			md.Method = c.methodOf(sm) // replaced by the parsed one when the bytes are at hand
		}
		src := msgSource{raw: x.raw, spill: x.spill, hash: sm.hash, pl: c.payloadOf(sm), n: c.nOf(sm), tx: -1}
		d.Messages = append(d.Messages, md)
		j, ok := txIdx[sm.txn]
		if !ok {
			j = len(d.Transactions)
			txIdx[sm.txn] = j
			d.Transactions = append(d.Transactions, Transaction{CSeq: sm.cseq, Method: c.methodOf(sm)})
			src.tx = j
		}
		srcs = append(srcs, src)
		d.Transactions[j].Messages++
		if sm.retrans() && !sm.dup() {
			d.Transactions[j].Retransmissions++
		}
	}
	return d, srcs
}

// fillDetail adds what only the messages' bytes give: the bytes, the
// method and phrase as written, the transactions' branches. Messages not
// kept are re-read through rr, or sp when spilled.
// A spilled message that does not read back is retried once through st
// (rereadMoved), in case c's message moved meanwhile.
func fillDetail(d *CallDetail, srcs []msgSource, rr RawReader, sp Spiller, seed maphash.Seed, st *Store, c *call) {
	var m Message
	var buf []byte
	for i := range d.Messages {
		md, src := &d.Messages[i], &srcs[i]
		raw := src.raw
		if raw == nil && src.n > 0 {
			var err error
			raw, err = reread(rr, sp, &md.Meta, src, seed, buf)
			if err != nil && src.spill != 0 && st != nil {
				raw, err = st.rereadMoved(c, i, &md.Meta, src, err, buf)
			}
			if err != nil {
				md.RawError = err.Error()
			} else {
				buf = raw[:0]
			}
		}
		md.Raw = string(raw)
		if raw == nil || m.Unmarshal(raw) != nil {
			continue
		}
		if md.Request {
			md.Method = string(m.Method)
		} else {
			md.Phrase = string(m.Phrase)
		}
		md.CSeqMethod = string(m.CSeqMethod)
		if src.tx >= 0 && len(m.Via) > 0 {
			d.Transactions[src.tx].Branch = string(m.Via[0].Branch)
		}
	}
}

// reread fetches a message the store did not keep from its capture file
// (or the spill file) and checks it is the message that was parsed (same hash), so a file
// changed since it was read shows an error, never another message.
func reread(rr RawReader, sp Spiller, meta *Meta, sm *msgSource, seed maphash.Seed, buf []byte) ([]byte, error) {
	var b []byte
	var err error
	switch {
	case sm.spill != 0 && sp != nil:
		b, err = sp.ReadSpill(sm.spill, int(sm.n), buf)
	case sm.spill == 0 && rr != nil:
		b, err = rr.ReadRaw(meta, int(sm.pl), int(sm.n), buf)
	default:
		return nil, ErrRawGone
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRawGone, err)
	}
	if len(b) != int(sm.n) || maphash.Bytes(seed, b) != sm.hash {
		if sm.spill != 0 {
			return nil, fmt.Errorf("%w: the spill file no longer holds the message", ErrRawGone)
		}
		return nil, fmt.Errorf("%w: source %d record %d no longer holds the message (the file changed)", ErrRawGone, meta.Source, meta.Record.Number)
	}
	return b, nil
}
