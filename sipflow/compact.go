package sipflow

import (
	"math"
	"math/bits"
	"net/netip"
	"time"

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
	cold := c.coldW()
	n := len(cold.corrs)
	for i := n - 1; i >= 0 && i >= n-epScan; i-- {
		if cold.corrs[i] == id {
			return uint32(i + 1)
		}
	}
	cold.corrs = append(cold.corrs, id)
	return uint32(n + 1)
}

// Message flags.
const (
	fRequest uint8 = 1 << iota
	fRetrans
	fToTag
	fInitialInv
	fDup // a retransmission within DuplicateWindow: the same packet seen twice
)

// storedMsg is what the store keeps per message (104 bytes); what few
// messages need sits in the call's extra table.
type storedMsg struct {
	t       int64 // Meta.Time (unixNS)
	off     int64 // Meta.Offset
	frame   int64 // Meta.Frame
	hash    uint64
	txn     uint64 // hash of top Via branch, CSeq number and method
	capLen  int32
	wireLen int32
	ifIdx   int32
	link    pcap.LinkType
	source  int32
	pl      int32 // payload offset in the record, 0 when unknown
	n       uint32
	src     uint32 // index into call.eps
	dst     uint32
	corr    uint32 // 1 + index into call.corrs, 0 for none
	x       uint32 // 1 + index into call.extra, 0 for none
	mi      uint32 // request method, or CSeq method of a response: index into call.methods
	cseq    uint32
	warn    Warnings
	code    int16
	vias    uint16
	tr      Transport
	flags   uint8
}

// msgExtra is what only some messages have: a body summary, the raw
// bytes when they cannot be re-read, a record that is not the message's
// own frame (HEP, or a Meta built without one).
type msgExtra struct {
	raw                  []byte
	sdp                  []MediaSummary
	recT, recOff, recNum int64
}

// extraOf returns the message's extra fields (zero when it has none).
func (c *call) extraOf(sm *storedMsg) *msgExtra {
	if sm.x == 0 {
		return &noExtra
	}
	return &c.extra[sm.x-1]
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

// pack fills the location fields of sm from meta, and the extra fields
// raw and sdp (either may be nil).
func (c *call) pack(sm *storedMsg, meta *Meta, raw []byte, sdp []MediaSummary) {
	sm.t = unixNS(meta.Time)
	sm.off, sm.frame = meta.Offset, int64(meta.Frame)
	sm.capLen, sm.wireLen = clampInt32(meta.Record.CaptureLength), clampInt32(meta.Record.Length)
	sm.ifIdx, sm.link = clampInt32(meta.Record.InterfaceIndex), meta.Record.LinkType
	sm.source = clampInt32(meta.Source)
	sm.src, sm.dst = c.endpoint(meta.Src), c.endpoint(meta.Dst)
	sm.corr = c.corrIndex(meta.CorrelationID)
	sm.tr = meta.Transport
	rec := &meta.Record
	own := rec.Timestamp.Equal(meta.Time) && rec.Number == meta.Frame && rec.Offset == meta.Offset
	if raw == nil && sdp == nil && own {
		return
	}
	x := msgExtra{raw: raw, sdp: sdp, recT: sm.t, recOff: sm.off, recNum: sm.frame}
	if !own {
		x.recT, x.recOff, x.recNum = unixNS(rec.Timestamp), rec.Offset, int64(rec.Number)
	}
	if c.extra == nil {
		c.extra = make([]msgExtra, 0, 2) // an offer and its answer
	}
	c.extra = append(c.extra, x)
	sm.x = uint32(len(c.extra))
}

// meta rebuilds the message's Meta.
func (c *call) meta(sm *storedMsg) Meta {
	recT, recOff, recNum := sm.t, sm.off, sm.frame
	if sm.x != 0 {
		x := &c.extra[sm.x-1]
		recT, recOff, recNum = x.recT, x.recOff, x.recNum
	}
	m := Meta{
		Time:      timeOf(sm.t),
		Src:       c.eps[sm.src],
		Dst:       c.eps[sm.dst],
		Transport: sm.tr,
		Source:    int(sm.source),
		Frame:     int(sm.frame),
		Offset:    sm.off,
		Record: pcap.Packet{
			Timestamp:      timeOf(recT),
			CaptureLength:  int(sm.capLen),
			Length:         int(sm.wireLen),
			InterfaceIndex: int(sm.ifIdx),
			LinkType:       sm.link,
			Number:         int(recNum),
			Offset:         recOff,
		},
	}
	if sm.corr > 0 {
		m.CorrelationID = c.coldR().corrs[sm.corr-1]
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

// txTagsScan is how many transactions txTags holds in a list before it
// moves them to a map (a call has one or two initial INVITE
// transactions; an authentication loop can have many).
const txTagsScan = 8

// txTags maps transactions to To-tags (their tagHash) without a map
// for the usual few.
type txTags struct {
	list []txTag
	m    map[uint64][]uint64
}

type txTag struct {
	txn  uint64
	tags []uint64
}

func (t *txTags) len() int { return len(t.list) + len(t.m) }

func (t *txTags) get(txn uint64) ([]uint64, bool) {
	if t.m != nil {
		v, ok := t.m[txn]
		return v, ok
	}
	for i := range t.list {
		if t.list[i].txn == txn {
			return t.list[i].tags, true
		}
	}
	return nil, false
}

func (t *txTags) set(txn uint64, tags []uint64) {
	if t.m != nil {
		t.m[txn] = tags
		return
	}
	for i := range t.list {
		if t.list[i].txn == txn {
			t.list[i].tags = tags
			return
		}
	}
	if len(t.list) < txTagsScan {
		t.list = append(t.list, txTag{txn, tags})
		return
	}
	t.m = make(map[uint64][]uint64, 2*txTagsScan)
	for _, e := range t.list {
		t.m[e.txn] = e.tags
	}
	t.list = nil
	t.m[txn] = tags
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
