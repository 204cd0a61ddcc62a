package sipflow

import (
	"hash/maphash"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for a zero StoreOptions. With its messages re-read from the
// capture (StoreOptions.Raw) a call costs little, so the byte budget,
// not the count, is what bounds a long run.
const (
	DefaultMaxCalls = 1000000
	DefaultMaxBytes = 1 << 30
	// Accounting overheads: what a call, a stored message and an SDP body
	// cost beyond the raw bytes kept, measured on the heap by
	// TestStoreAccountingMatchesHeap (calls of several shapes, messages
	// re-read or kept), which fails when they drift more than 15% from it.
	callOverhead      = 520 // call (a 384-byte block), endpoint table, index entries
	msgOverhead       = 54  // a storedMsg (48 bytes) in a slice grown by doubling
	sdpOverhead       = 30  // its share of a negotiation record, a media index entry
	mediaOverhead     = 40  // a mediaRec (32 bytes) in a slice grown by doubling
	extraOverhead     = 56  // a msgExtra (40 bytes) in a slice grown by doubling, for a message kept in memory, spilled or wide
	wideOverhead      = 96  // a msgWide
	shapeOverhead     = 96  // a mediaShape of a call's own (88 bytes), when the store's table cannot share it
	wideMediaOverhead = 160 // a MediaSummary in callRare.media
	coldOverhead      = 64  // a callCold, for the calls with problems, streams or what callMore holds
	moreOverhead      = 112 // a callMore, for the calls with events, legs or a Reason header
	eventOverhead     = 72  // a CallEvent (56 bytes) in a slice grown by doubling
	negOverhead       = 12  // an earlier offer/answer exchange (negRec, 8 bytes) in a slice grown by doubling
	rareOverhead      = 144 // a callRare, for the few calls with what it holds (earlier negotiations, many transactions or messages, correlation ids)
	problemSize       = 56  // a Problem in a slice
	streamSize        = 136 // a Stream in a slice
)

// problemsBytes is what a call's problems cost: the slice and the
// details (diagnose writes each; codes and severities are constants).
func problemsBytes(ps []Problem) int {
	n := allocSize(len(ps) * problemSize)
	for i := range ps {
		n += allocSize(len(ps[i].Detail))
	}
	return n
}

// RawReader re-reads messages from the captures they came from, so the
// store need not keep their bytes: the capture file is the message
// store. Methods are called by readers of the store, concurrently.
type RawReader interface {
	// Rereadable reports whether messages of the source can be re-read
	// (a seekable, uncompressed file).
	Rereadable(source int) bool
	// ReadRaw returns the n bytes at offset off in the data of the
	// record meta.Record of source meta.Source; buf may hold the result.
	ReadRaw(meta *Meta, off, n int, buf []byte) ([]byte, error)
}

// Spiller holds the bytes of messages no capture file holds (a live
// capture, a pipe, HEP, reassembled or decrypted payloads) outside the
// heap, so the store keeps only where they lie, as for re-read ones.
// Spill and Release are called by the store's writer only; ReadSpill by
// its readers, concurrently with them.
type Spiller interface {
	// Spill stores b and returns a non-zero location for ReadSpill, or
	// false when it cannot (full, failed): the store then keeps b.
	Spill(b []byte) (loc uint32, ok bool)
	// ReadSpill returns the n bytes Spill stored at loc; buf may hold
	// the result. A reader may still ask for a location released since
	// it looked the message up: the store checks the bytes' hash.
	ReadSpill(loc uint32, n int, buf []byte) ([]byte, error)
	// Release says the store dropped the n-byte message at loc (its
	// call evicted or cleared), so the Spiller may reuse its space.
	Release(loc uint32, n int)
}

// StoreOptions configures a Store. The zero value is useful.
type StoreOptions struct {
	MaxCalls int // 0 means DefaultMaxCalls
	MaxBytes int64
	// IdleTimeout, when > 0, makes Add expire dialogs idle for longer than
	// this, measured in packet time (Meta.Time), like ExpireBefore.
	IdleTimeout time.Duration
	// Raw, when set, re-reads messages that lie whole in a record of a
	// re-readable source (Meta.PayloadOffset > 0): the store then keeps
	// only their location and a hash, and Call re-reads them.
	Raw RawReader
	// Spill, when set, takes the messages Raw cannot re-read: the store
	// keeps their location instead of their bytes.
	Spill Spiller
}

// Store groups SIP messages into dialogs and calls. One goroutine writes
// (Add, AddEvent, ExpireBefore, SetStreams, Clear); any number read (Calls, Call, Stats,
// KPIs, CallForMedia), getting copies taken under a read lock.
type Store struct {
	opt StoreOptions
	// compactor is opt.Spill when it can empty its sparse parts
	compactor SpillCompactor

	mu      sync.RWMutex
	msg     Message // reused decode target; writer only, under mu
	in      interner
	seed    maphash.Seed
	calls   callIndex                // by Call-ID
	order   callList                 // all calls, creation order (call.ord)
	active  callList                 // open calls, least recently active first (call.q)
	done    callList                 // closed calls, oldest closure first: eviction order (call.q)
	lists   strLists                 // the shared method, user agent and codec lists
	shapes  map[shapeKey]*mediaShape // SDP media summaries without their addresses (mediaRec)
	parties map[string]parties
	pbuf    []byte // where setParties builds a call's parties
	// problems holds the one-problem lists calls share (problemList)
	problems map[Problem][]Problem
	xcid     map[string][]string
	corr     map[string][]string
	// media indexes the SDP media endpoints by mediaKey: a 16-byte
	// entry where the address itself made it 40 (two per call). The
	// call found is checked to have announced the endpoint.
	media mediaIndex
	memo  shapeMemo // the latest shapes of the table, for addMedia
	stats Stats
	// names of the capture sources (Meta.Source indexes it), for the
	// summaries' Sources; set by the writer before it adds messages.
	names []string
}

// SetSourceNames names the capture sources Meta.Source indexes (files,
// interfaces, HEP listeners), so that each call says where it was seen.
func (s *Store) SetSourceNames(names []string) {
	s.mu.Lock()
	s.names = append([]string(nil), names...)
	s.mu.Unlock()
}

// withSources fills a summary copy's Sources from its SourceSet, under
// the read lock; the summaries a builds with one set share one list
// (readers never change a summary's slices).
func (s *Store) withSources(cs *CallSummary, a *summaryAlloc) {
	if a != nil && a.srcOK && a.srcSet == cs.SourceSet && sameSlice(a.srcNames, s.names) {
		cs.Sources = a.sources
		return
	}
	cs.Sources = s.sourcesOf(cs.SourceSet)
	if a != nil {
		a.srcSet, a.srcOK, a.sources, a.srcNames = cs.SourceSet, true, cs.Sources, s.names
	}
}

// sameSlice reports whether a and b are the same slice (not only equal).
func sameSlice[T any](a, b []T) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sourcesOf names the sources of set (never nil).
func (s *Store) sourcesOf(set uint64) []string {
	out := make([]string, 0, 1)
	for i := 0; i <= maxSourceBit; i++ {
		if set&sourceBit(i) == 0 {
			continue
		}
		switch {
		case i == maxSourceBit && len(s.names) > maxSourceBit+1:
			out = append(out, "sources "+strconv.Itoa(maxSourceBit+1)+"+")
		case i < len(s.names) && s.names[i] != "":
			if !slices.Contains(out, s.names[i]) { // the members of a fanout group share a name
				out = append(out, s.names[i])
			}
		default:
			out = append(out, "source "+strconv.Itoa(i+1))
		}
	}
	return out
}

// NewStore returns a store with the given limits.
func NewStore(o StoreOptions) *Store {
	if o.MaxCalls <= 0 {
		o.MaxCalls = DefaultMaxCalls
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	s := &Store{opt: o}
	s.compactor, _ = o.Spill.(SpillCompactor)
	s.init()
	return s
}

func (s *Store) init() {
	s.seed = maphash.MakeSeed()
	s.in = interner{}
	s.calls = newCallIndex(s.seed)
	s.order, s.active, s.done = callList{}, callList{which: listActive}, callList{which: listDone}
	s.lists = strLists{}
	s.shapes = make(map[shapeKey]*mediaShape)
	s.parties = make(map[string]parties)
	s.problems = make(map[Problem][]Problem)
	s.xcid = make(map[string][]string)
	s.corr = make(map[string][]string)
	s.media = newMediaIndex(s.seed)
	s.memo = shapeMemo{}
}

// lazyInit makes the zero Store usable; called by writers under mu.
func (s *Store) lazyInit() {
	if s.calls.slots == nil {
		if s.opt.MaxCalls <= 0 {
			s.opt.MaxCalls = DefaultMaxCalls
		}
		if s.opt.MaxBytes <= 0 {
			s.opt.MaxBytes = DefaultMaxBytes
		}
		s.init()
	}
}

// MaxEventDetail bounds what one attached report keeps (a HEP LOG line
// or an RTCP-JSON report is far smaller in practice).
const MaxEventDetail = 4 << 10

// AddEvent attaches a report about a call that is not a SIP message: a
// HEP LOG line or RTCP-JSON report carrying the call's Call-ID as its
// correlation id. It reports whether the call exists. detail is copied
// (at most 4 KiB of it) and counted against the store's byte limit.
func (s *Store) AddEvent(callID string, ev CallEvent) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lazyInit()
	c, ok := s.calls.get(callID)
	if !ok {
		return false
	}
	if len(ev.Detail) > MaxEventDetail {
		// Clone so the kept prefix does not pin the caller's whole string.
		ev.Detail = strings.Clone(ev.Detail[:MaxEventDetail])
	}
	before := c.bytes
	c.event(ev.Time, ev.Kind, ev.Detail)
	s.stats.Bytes += int64(c.bytes - before)
	return true
}

// Summary returns a copy of one call's summary, without its messages.
func (s *Store) Summary(id string) (CallSummary, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.calls.get(id)
	if !ok {
		return CallSummary{}, false
	}
	sum := c.summary()
	s.withSources(&sum, nil)
	return sum, true
}

// Clear forgets every dialog at once: the UI's "clear list" on a live
// source, where old calls are no longer of interest. Counters other than
// the held calls and bytes keep their totals; the dialogs dropped are
// counted in Stats.Cleared. It is a writer's method: a reader that wants
// the list cleared asks the writer (internal/engine does so).
func (s *Store) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lazyInit()
	s.stats.Cleared += int64(s.calls.n)
	for c := s.order.front; c != nil; c = c.ord.next {
		s.releaseSpilled(c)
	}
	s.init()
	s.stats.Calls = 0
	s.stats.Bytes = 0
}

// Add decodes raw and files it under its dialog. raw is copied once, here;
// the caller may reuse it after Add returns. Payloads without a SIP start
// line or without Call-ID are counted in Stats and dropped (nil is
// returned). The returned Message is the decoded message, so the writer
// need not parse it again (for its SDP, say): it aliases raw and the
// store's decode buffer, and is valid until the writer's next Add.
func (s *Store) Add(raw []byte, meta Meta) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lazyInit()
	m := &s.msg
	if err := m.Unmarshal(raw); err != nil {
		s.stats.NotSIP++
		return nil
	}
	return s.add(m, meta)
}

// AddParsed is Add for a message the caller decoded itself with
// Message.Unmarshal (m.Raw is the message): the capture pipeline parses
// on its own goroutine, ahead of the writer (capture.Event.SIP). The
// store keeps nothing of m; like Add's, the returned Message (m) is valid
// until the caller reuses it.
func (s *Store) AddParsed(m *Message, meta Meta) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lazyInit()
	return s.add(m, meta)
}

// add files the decoded message m; s.mu is held.
func (s *Store) add(m *Message, meta Meta) *Message {
	raw := m.Raw
	if len(m.CallID) == 0 {
		s.stats.NoCallID++
		return nil
	}
	s.stats.Messages++
	if m.Warnings != 0 {
		s.stats.WithWarnings++
	}
	h := s.calls.hash(m.CallID)
	c, ok := find(&s.calls, m.CallID, h)
	if !ok {
		c = newCall(string(m.CallID), m, &meta, s)
		s.calls.put(c, h)
		s.order.pushBack(c)
		s.active.pushBack(c)
		s.stats.Calls = s.calls.n
		s.stats.Bytes += callOverhead
	}
	before := c.bytes // what c accounts from here on is added below; link adds the other calls'
	if !ok {
		s.linkNew(c)
	}
	keep := s.opt.Raw == nil || meta.PayloadOffset <= 0 || !s.opt.Raw.Rereadable(meta.Source)
	var spilled uint32
	if keep && s.opt.Spill != nil && len(raw) > 0 {
		if loc, ok := s.opt.Spill.Spill(raw); ok {
			keep, spilled = false, loc
		}
	}
	retrans := c.add(m, &meta, raw, s, keep, spilled)
	if retrans {
		s.stats.Retransmissions++
	}
	if !retrans {
		s.linkMessage(c, m, meta)
	}
	s.stats.Bytes += int64(c.bytes - before)
	s.place(c)
	c.publish()
	if s.opt.IdleTimeout > 0 && !meta.Time.IsZero() {
		s.expireBefore(meta.Time.Add(-s.opt.IdleTimeout))
	}
	s.evict()
	if spilled != 0 && s.compactor != nil && s.compactor.Compacting() {
		s.compactSpill()
	}
	return m
}

// place files c in the active or done list according to its state,
// at the back: it has just had a message (add) or expired. A closed call
// that has a message again (a phone re-registering under one Call-ID,
// a late retransmission) goes to the back of the done list too, so
// eviction takes the calls closed and quiet longest first, not a
// registration refreshed a moment ago (which was then evicted and
// started again without its history).
func (s *Store) place(c *call) {
	if c.closed() {
		switch c.where {
		case listActive:
			s.active.remove(c)
		case listDone:
			s.done.remove(c) // to the back; trimmed when it closed
			s.done.pushBack(c)
			return
		}
		s.done.pushBack(c)
		c.trim()
		return
	}
	if c.where == listDone {
		s.done.remove(c)
	}
	if c.where == listActive {
		s.active.remove(c) // to the back
	}
	s.active.pushBack(c)
}

// Lists a call is in besides the creation order (call.where).
const (
	listActive = iota + 1
	listDone
)

// callLink chains calls in one of the store's lists: the links live in
// the calls, so a list costs nothing per call beyond them.
type callLink struct{ prev, next *call }

// callList is a list of calls through call.ord (which 0) or call.q
// (which listActive or listDone: a call is in at most one of them).
type callList struct {
	front, back *call
	which       uint8
}

func (l *callList) link(c *call) *callLink {
	if l.which == 0 {
		return &c.ord
	}
	return &c.q
}

func (l *callList) pushBack(c *call) {
	k := l.link(c)
	k.prev, k.next = l.back, nil
	if l.back != nil {
		l.link(l.back).next = c
	} else {
		l.front = c
	}
	l.back = c
	if l.which != 0 {
		c.where = l.which
	}
}

func (l *callList) remove(c *call) {
	k := l.link(c)
	if k.prev != nil {
		l.link(k.prev).next = k.next
	} else {
		l.front = k.next
	}
	if k.next != nil {
		l.link(k.next).prev = k.prev
	} else {
		l.back = k.prev
	}
	k.prev, k.next = nil, nil
	if l.which != 0 {
		c.where = 0
	}
}

// ExpireBefore closes every open dialog whose last message is older than t
// (packet time): calls without a final response become TIMEOUT (CANCELLED
// when a CANCEL was seen), answered calls without BYE stay IN CALL but
// become eligible for eviction.
func (s *Store) ExpireBefore(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lazyInit()
	s.expireBefore(t)
}

func (s *Store) expireBefore(t time.Time) {
	// Bounded: every iteration removes the front element.
	for c := s.active.front; c != nil; c = s.active.front {
		if c.last >= unixNS(t) {
			return
		}
		c.expire()
		s.stats.Expired++
		s.place(c)
		c.publish()
	}
}

// evict removes calls while over a limit: closed calls first, the one
// closed (or last heard from once closed) longest ago first, then the
// least recently active open calls.
func (s *Store) evict() {
	for s.calls.n > s.opt.MaxCalls || s.stats.Bytes > s.opt.MaxBytes {
		c := s.done.front
		if c == nil {
			c = s.active.front
			if c == nil {
				return
			}
			s.stats.EvictedActive++
		}
		s.remove(c)
	}
}

func (s *Store) remove(c *call) {
	s.releaseSpilled(c)
	s.calls.del(c)
	s.order.remove(c)
	switch c.where {
	case listActive:
		s.active.remove(c)
	case listDone:
		s.done.remove(c)
	}
	// the media endpoints c announced are among its messages' SDP
	// summaries (linkMessage registers SDP.Endpoint, the summaries'
	// Addr)
	for i := range c.media {
		s.media.delIf(s.mediaKey(c.addrOf(&c.media[i])), c)
	}
	for _, x := range c.rareR().xcids {
		s.xcid[x] = removeString(s.xcid[x], c.id)
		if len(s.xcid[x]) == 0 {
			delete(s.xcid, x)
		}
	}
	for _, x := range c.rareR().corrIDs {
		s.corr[x] = removeString(s.corr[x], c.id)
		if len(s.corr[x]) == 0 {
			delete(s.corr, x)
		}
	}
	b := int64(c.bytes + callOverhead)
	s.stats.Bytes -= b
	s.stats.EvictedBytes += b
	s.stats.Evicted++
	s.stats.Calls = s.calls.n
}

func removeString(l []string, v string) []string {
	out := l[:0]
	for _, x := range l {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// linkNew links a new call to calls whose X-Call-ID named its Call-ID.
func (s *Store) linkNew(c *call) {
	for _, other := range s.xcid[c.id] {
		if o, ok := s.calls.get(other); ok && o != c {
			s.link(c, o, LinkXCallID)
		}
	}
}

// linkMessage applies the leg-correlation rules to a new message of c.
func (s *Store) linkMessage(c *call, m *Message, meta Meta) {
	for _, x := range m.XCallID {
		if string(x) == c.id {
			continue
		}
		if !c.hasXCID(x) {
			xs := string(x)
			c.rareW().xcids = append(c.rareW().xcids, xs)
			s.xcid[xs] = append(s.xcid[xs], c.id)
		}
		if o, ok := s.calls.getBytes(x); ok {
			s.link(c, o, LinkXCallID)
		}
	}
	if id := meta.CorrelationID; id != "" && id != c.id {
		if !c.hasCorr(id) {
			c.rareW().corrIDs = append(c.rareW().corrIDs, id)
			for _, other := range s.corr[id] {
				if o, ok := s.calls.get(other); ok && o != c {
					s.link(c, o, LinkCorrelation)
				}
			}
			s.corr[id] = append(s.corr[id], c.id)
		}
		// the Call-ID named by the correlation id is a leg too
		if o, ok := s.calls.get(id); ok && o != c {
			s.link(c, o, LinkCorrelation)
		}
	}
	// SDP matching only between calls: other dialog types (and the
	// malformed requests of test suites) often reuse one canned body.
	if m.HasSDP && c.isInvite {
		for i := range m.SDP.Media {
			ap, ok := m.SDP.Endpoint(i)
			if !ok || ap.Addr().IsUnspecified() {
				continue
			}
			k := s.mediaKey(ap)
			// one probe for the lookup and the entry
			if o := s.media.swap(k, c); o != nil && o != c && o.isInvite && !o.closed() && o.announced(ap) {
				s.link(c, o, LinkSDP)
			}
		}
	}
}

// mediaKey is the media index's key for ap. An IPv4 endpoint is its
// own key (address, port and a marker bit below the top one): no hash
// to compute for the common case, and two endpoints never share a key.
// Other endpoints are hashed with the store's seed, the top bit set so
// they never meet an IPv4 key; two with one key (a chance of 2^-63 a
// pair) cost the older one its entry, as a newer announcement of the
// same endpoint would; the lookups check the endpoint itself
// (call.announced). The map hashes the key with its own seed, so keys
// from the wire cannot be crafted to crowd it.
func (s *Store) mediaKey(ap netip.AddrPort) uint64 {
	if a := ap.Addr(); a.Is4() {
		b := a.As4()
		return 1<<48 | uint64(b[0])<<40 | uint64(b[1])<<32 | uint64(b[2])<<24 | uint64(b[3])<<16 | uint64(ap.Port())
	}
	var h maphash.Hash
	h.SetSeed(s.seed)
	a := ap.Addr().As16()
	h.Write(a[:])
	h.WriteByte(byte(ap.Port() >> 8))
	h.WriteByte(byte(ap.Port()))
	if ap.Addr().Is6() {
		h.WriteByte(6)
		h.WriteString(ap.Addr().Zone())
	}
	return h.Sum64() | 1<<63
}

// announced reports whether one of c's messages offered or answered
// media at ap (linkMessage indexes SDP.Endpoint, the summaries' Addr).
func (c *call) announced(ap netip.AddrPort) bool {
	for i := range c.media {
		if c.addrOf(&c.media[i]) == ap {
			return true
		}
	}
	return false
}

// link records that a (the call being added to, which Add publishes and
// accounts) and b are legs of one call.
func (s *Store) link(a, b *call, rule string) {
	a.addLeg(b.id, rule)
	before := b.bytes // a leg can be b's first cold field
	if b.addLeg(a.id, rule) {
		b.publish()
	}
	s.stats.Bytes += int64(b.bytes - before)
}

// SetStreams attaches RTP streams (computed by the RTP engine) to a call,
// replacing earlier ones. It copies st. It reports whether the call exists.
func (s *Store) SetStreams(callID string, st []Stream) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.calls.get(callID)
	if !ok {
		return false
	}
	before := c.bytes
	if len(st) > 0 || c.cold != nil {
		cold := c.coldW()
		c.bytes -= allocSize(len(cold.streams) * streamSize)
		cold.streams = append([]Stream(nil), st...)
		c.bytes += allocSize(len(cold.streams) * streamSize)
	}
	s.stats.Bytes += int64(c.bytes - before)
	c.publish()
	return true
}

// CallForMedia returns the Call-ID whose SDP last announced ap as a media
// endpoint, for the RTP engine to attach streams.
func (s *Store) CallForMedia(ap netip.AddrPort) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := s.media.get(s.mediaKey(ap))
	if c == nil || !c.announced(ap) {
		return "", false
	}
	return c.id, true
}

// Calls returns copies of the summaries of the calls matching f, in order
// of creation, skipping offset matches and returning at most limit (limit
// < 0: all). The zero Filter matches everything.
func (s *Store) Calls(f Filter, offset, limit int) []CallSummary {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.calls.slots == nil {
		return nil
	}
	var out []CallSummary
	var sum CallSummary
	var ips []netip.Addr // the filter's scratch
	all := f.IsZero()    // no summary to build for the rows skipped
	n := 0
	a := newSummaryAlloc(limit) // the rows' slices
	for c := s.order.front; c != nil; c = c.ord.next {
		// The filter decides on what it reads (filterInto); the whole
		// summary is built for the rows returned only.
		if !all {
			ips = c.filterInto(&sum, ips)
			if !f.Match(&sum) {
				continue
			}
		}
		n++
		if n <= offset {
			continue
		}
		if limit >= 0 && len(out) >= limit {
			break
		}
		out = append(out, CallSummary{})
		c.fullSummaryInto(&out[len(out)-1], a)
		s.withSources(&out[len(out)-1], a)
	}
	return out
}

// IDs returns the Call-ID of every call, in creation order: for a caller
// that visits every call without holding every summary at once (a
// summary is some hundreds of bytes; 100 000 of them are 80 MB).
func (s *Store) IDs() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.calls.slots == nil {
		return nil
	}
	out := make([]string, 0, s.calls.n)
	for c := s.order.front; c != nil; c = c.ord.next {
		out = append(out, c.id)
	}
	return out
}

// Snapshot returns every call summary (Calls with no filter and no limit).
func (s *Store) Snapshot() []CallSummary { return s.Calls(Filter{}, 0, -1) }

// Count returns how many calls match f.
func (s *Store) Count(f Filter) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.calls.slots == nil {
		return 0
	}
	if f.IsZero() {
		return s.calls.n
	}
	n := 0
	var sum CallSummary
	var ips []netip.Addr
	for c := s.order.front; c != nil; c = c.ord.next {
		// What the filter reads only: the metrics count calls by state
		// this way at every scrape, over every call held.
		ips = c.filterInto(&sum, ips)
		if f.Match(&sum) {
			n++
		}
	}
	return n
}

// Call returns one call with its messages.
func (s *Store) Call(id string) (CallDetail, bool) {
	s.mu.RLock()
	c, ok := s.calls.get(id)
	if !ok {
		s.mu.RUnlock()
		return CallDetail{}, false
	}
	d, srcs := c.detail()
	s.withSources(&d.Summary, nil)
	seed := s.seed
	s.mu.RUnlock()
	fillDetail(&d, srcs, s.opt.Raw, s.opt.Spill, seed, s, c)
	return d, true
}

// Stats returns the counters.
func (s *Store) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stats
}

// callIndex finds a call by its Call-ID: open addressing with linear
// probing over slots of a seeded hash of the Call-ID and the call (16
// bytes), at most three quarters full. Where the map it replaces hashed
// a new call's Call-ID twice (the lookup that missed, the insert) and
// reached each entry through its directory, table and group, then the
// key's bytes, a lookup here is one hash and, mostly, one slot; the
// call it holds is the one the store reads next anyway. This lookup is
// done for every message the store files (the largest part of the
// store's cost on a SIP-heavy capture after the parse). The hash is
// seeded (Call-IDs come from the wire); removal shifts the entries after
// it back, so there are no tombstones and no rehash in place.
type callIndex struct {
	slots []callSlot // a power of two of them; h == 0: empty
	n     int
	seed  maphash.Seed
}

type callSlot struct {
	h uint64 // hash of c.id, never 0
	c *call
}

const minCallSlots = 8

func newCallIndex(seed maphash.Seed) callIndex {
	return callIndex{slots: make([]callSlot, minCallSlots), seed: seed}
}

// hash is the slots' hash of a Call-ID.
func (x *callIndex) hash(id []byte) uint64 { return maphash.Bytes(x.seed, id) | 1 }

func (x *callIndex) hashString(id string) uint64 { return maphash.String(x.seed, id) | 1 }

// find returns the call with Call-ID id, whose hash is h.
func find[T string | []byte](x *callIndex, id T, h uint64) (*call, bool) {
	if x.n == 0 {
		return nil, false
	}
	mask := uint64(len(x.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &x.slots[i]
		if sl.h == 0 {
			return nil, false
		}
		if sl.h == h && sl.c.id == string(id) {
			return sl.c, true
		}
	}
}

// get returns the call with Call-ID id.
func (x *callIndex) get(id string) (*call, bool) { return find(x, id, x.hashString(id)) }

// getBytes is get for a Call-ID in a message's bytes.
func (x *callIndex) getBytes(id []byte) (*call, bool) { return find(x, id, x.hash(id)) }

// holds reports whether c is the call the index holds for its Call-ID
// (not evicted or cleared since it was noted).
func (x *callIndex) holds(c *call) bool {
	o, ok := x.get(c.id)
	return ok && o == c
}

// put adds c, whose Call-ID (hash h) the index does not hold.
func (x *callIndex) put(c *call, h uint64) {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i].h != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = callSlot{h, c}
	x.n++
}

// grow doubles the slots.
func (x *callIndex) grow() {
	old := x.slots
	x.slots = make([]callSlot, 2*len(old))
	mask := uint64(len(x.slots) - 1)
	for _, sl := range old {
		if sl.h == 0 {
			continue
		}
		i := sl.h & mask
		for x.slots[i].h != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = sl
	}
}

// del removes c, and shifts back the entries after it that could sit
// in its slot (their home is not between it and them), so that every
// entry stays reachable from its home without a tombstone.
func (x *callIndex) del(c *call) {
	h := x.hashString(c.id)
	mask := uint64(len(x.slots) - 1)
	i := h & mask
	for x.slots[i].c != c {
		if x.slots[i].h == 0 {
			return // not held
		}
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; x.slots[j].h != 0; j = (j + 1) & mask {
		home := x.slots[j].h & mask
		// j's entry may move to the hole at i unless its home lies
		// after i, cyclically up to j
		if (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = callSlot{}
	x.n--
}

// mediaIndex is the media index (Store.media): the call that last
// announced each endpoint, by mediaKey, in open addressing with linear
// probing over 16-byte slots, at most three quarters full. linkMessage
// looks an endpoint up and enters it in one probe (swap) where a map
// took two, the first a cache miss into a table of some 400 000 entries
// on a SIP-heavy capture. An entry's home is a seeded hash of its key:
// IPv4 keys are the endpoints themselves (mediaKey), from the wire.
type mediaIndex struct {
	slots []mediaSlot // a power of two of them; k == 0: empty (mediaKey is never 0)
	n     int
	seed  maphash.Seed
}

type mediaSlot struct {
	k uint64
	c *call
}

func newMediaIndex(seed maphash.Seed) mediaIndex {
	return mediaIndex{slots: make([]mediaSlot, minCallSlots), seed: seed}
}

func (x *mediaIndex) home(k uint64) uint64 {
	return maphash.Comparable(x.seed, k) & uint64(len(x.slots)-1)
}

// get returns the call entered for k, nil for none.
func (x *mediaIndex) get(k uint64) *call {
	if x.n == 0 {
		return nil // and the zero Store's has no slots
	}
	mask := uint64(len(x.slots) - 1)
	for i := x.home(k); x.slots[i].k != 0; i = (i + 1) & mask {
		if x.slots[i].k == k {
			return x.slots[i].c
		}
	}
	return nil
}

// swap enters c for k and returns the call entered before (nil: none).
func (x *mediaIndex) swap(k uint64, c *call) *call {
	if 4*(x.n+1) > 3*len(x.slots) {
		x.grow()
	}
	mask := uint64(len(x.slots) - 1)
	i := x.home(k)
	for ; x.slots[i].k != 0; i = (i + 1) & mask {
		if x.slots[i].k == k {
			o := x.slots[i].c
			x.slots[i].c = c
			return o
		}
	}
	x.slots[i] = mediaSlot{k, c}
	x.n++
	return nil
}

// grow doubles the slots.
func (x *mediaIndex) grow() {
	old := x.slots
	x.slots = make([]mediaSlot, 2*len(old))
	mask := uint64(len(x.slots) - 1)
	for _, sl := range old {
		if sl.k == 0 {
			continue
		}
		i := x.home(sl.k)
		for x.slots[i].k != 0 {
			i = (i + 1) & mask
		}
		x.slots[i] = sl
	}
}

// delIf removes k's entry when it is c's, shifting back the entries
// after it as callIndex.del does.
func (x *mediaIndex) delIf(k uint64, c *call) {
	if x.n == 0 {
		return
	}
	mask := uint64(len(x.slots) - 1)
	i := x.home(k)
	for x.slots[i].k != k {
		if x.slots[i].k == 0 {
			return
		}
		i = (i + 1) & mask
	}
	if x.slots[i].c != c {
		return
	}
	for j := (i + 1) & mask; x.slots[j].k != 0; j = (j + 1) & mask {
		if home := x.home(x.slots[j].k); (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = mediaSlot{}
	x.n--
}
