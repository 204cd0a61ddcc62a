package sipflow

import (
	"fmt"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/voiptool/voiptool/pcap"
)

// ownMeta is a message read whole from record n of a file: its own
// record, as the engine builds it.
func ownMeta(n int, src, dst netip.AddrPort) Meta {
	tm := t0.Add(time.Duration(n) * time.Millisecond)
	return Meta{Time: tm, Src: src, Dst: dst, Transport: TransportUDP, Source: 0, Frame: n, Offset: int64(n) * 700,
		Record: pcap.Packet{Timestamp: tm, Number: n, Offset: int64(n) * 700, CaptureLength: 600, Length: 600, LinkType: 1}, PayloadOffset: 42}
}

// TestStoredMsgMetaRoundTrip checks that every message gives back the
// Meta it was added with, whether its fields fit the narrow message or
// need the wide record: another source, interface, link type or
// transport than the call's first message, a frame number or payload
// offset past the narrow range, a truncated record, a record that is
// not the message's own (HEP), correlation ids.
func TestStoredMsgMetaRoundTrip(t *testing.T) {
	d := dlg{callID: "wide@h", fromTag: "a"}
	raws := [][]byte{
		d.req("INVITE", 1, "", "z9hG4bK1", sdpBody("10.0.0.1", 4000, "sendrecv")),
		d.resp(100, "Trying", "INVITE", 1, "", "z9hG4bK1", "", ""),
		d.resp(180, "Ringing", "INVITE", 1, "b", "z9hG4bK1", "", ""),
		d.resp(183, "Session Progress", "INVITE", 1, "b", "z9hG4bK1", "", ""),
		d.resp(200, "OK", "INVITE", 1, "b", "z9hG4bK1", sdpBody("10.0.0.2", 5000, "sendrecv"), ""),
		d.req("ACK", 1, "b", "z9hG4bK2", ""),
		d.req("INFO", 2, "b", "z9hG4bK3", ""),
		d.resp(200, "OK", "INFO", 2, "b", "z9hG4bK3", "", ""),
		d.req("INFO", 3, "b", "z9hG4bK4", ""),
		d.resp(200, "OK", "INFO", 3, "b", "z9hG4bK4", "", ""),
		d.req("BYE", 4, "b", "z9hG4bK5", ""),
		d.resp(200, "OK", "BYE", 4, "b", "z9hG4bK5", "", ""),
	}
	metas := make([]Meta, len(raws))
	for i := range metas {
		src, dst := alice, bob
		if i%2 == 1 {
			src, dst = bob, alice
		}
		metas[i] = ownMeta(i+1, src, dst)
		metas[i].Record.CaptureLength = 42 + len(raws[i]) // the message ends the record
		metas[i].Record.Length = metas[i].Record.CaptureLength
	}
	metas[2].Source = 1                     // another capture source
	metas[3].Record.InterfaceIndex = 3      // another pcapng interface
	metas[4].Record.LinkType = 276          // SLL2
	metas[5].Transport = TransportTCP       // another transport
	metas[6].Frame = math.MaxUint32 + 5     // past a uint32
	metas[6].Record.Number = metas[6].Frame // still its own record
	metas[7].PayloadOffset = 70000          // past a uint16
	metas[8].Record.Length = 1500           // truncated by the snap length
	metas[8].Record.CaptureLength = 1400
	metas[9].Record.Timestamp = t0 // another record (HEP)
	metas[9].Record.Number, metas[9].Record.Offset = 3, 99
	metas[10].CorrelationID = "corr-1"
	metas[11].Record.CaptureLength, metas[11].Record.Length = -1, -1 // unknown
	rr := &offsetRaw{raws: map[int64][]byte{}, pls: map[int64]int{}}
	for i, raw := range raws {
		rr.raws[metas[i].Offset], rr.pls[metas[i].Offset] = raw, int(metas[i].PayloadOffset)
	}
	s := NewStore(StoreOptions{Raw: rr})
	for i, raw := range raws {
		if s.Add(raw, metas[i]) == nil {
			t.Fatalf("message %d not added", i)
		}
	}
	det, ok := s.Call("wide@h")
	if !ok || len(det.Messages) != len(raws) {
		t.Fatalf("call: %v, %d messages", ok, len(det.Messages))
	}
	for i, md := range det.Messages {
		want := metas[i]
		want.PayloadOffset = 0 // not part of a detail's Meta; checked by offsetRaw
		if md.Meta != want {
			t.Errorf("message %d: meta\n got %+v\nwant %+v", i, md.Meta, want)
		}
		if md.Raw != string(raws[i]) || md.RawError != "" {
			t.Errorf("message %d: re-read %q (%s)", i, md.Raw, md.RawError)
		}
	}
	// the narrow messages kept nothing beside them; the others one wide
	// record each (and the two SDP messages their summaries)
	c := heldCall(s, "wide@h")
	wide := 0
	for i := range c.msgs {
		if c.msgs[i].flags&fWide != 0 {
			wide++
		}
	}
	if wide != 10 { // a correlation id (HEP) has no narrow field
		t.Errorf("%d wide messages, want 10 (messages 3-12)", wide)
	}
	if w := c.msgs[0]; w.flags&(fWide|fExtra) != 0 || w.flags&fSDP == 0 || len(c.mediaOf(0)) != 1 {
		t.Errorf("the INVITE: flags %b, %d media, want narrow with its SDP in the media table", w.flags, len(c.mediaOf(0)))
	}
	if w := c.msgs[1]; w.flags&(fWide|fExtra|fSDP) != 0 {
		t.Errorf("the 100: flags %b, want narrow and nothing else", w.flags)
	}
}

// offsetRaw re-reads messages by their Meta.Offset and checks the
// payload offset the store asks for is the one the message came with.
type offsetRaw struct {
	raws map[int64][]byte
	pls  map[int64]int
}

func (*offsetRaw) Rereadable(int) bool { return true }
func (r *offsetRaw) ReadRaw(meta *Meta, off, n int, _ []byte) ([]byte, error) {
	if off != r.pls[meta.Offset] || n != len(r.raws[meta.Offset]) {
		return nil, fmt.Errorf("asked for %d bytes at %d, the message has %d at %d", n, off, len(r.raws[meta.Offset]), r.pls[meta.Offset])
	}
	return r.raws[meta.Offset], nil
}

// TestStoredMsgWideIndexes drives a call past the narrow indexes: more
// than 255 endpoints, methods and Via headers. Summaries, details and
// KPIs must read them back as they came.
func TestStoredMsgWideIndexes(t *testing.T) {
	d := dlg{callID: "many@h", fromTag: "a"}
	s := NewStore(StoreOptions{Raw: fileRaw{}})
	inv := d.req("INVITE", 1, "", "z9hG4bK1", "")
	vias := strings.Repeat("Via: SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKx\n", 299)
	inv = []byte(strings.Replace(string(inv), "Via: ", vias+"Via: ", 1)) // 301 Vias
	s.Add(inv, ownMeta(1, alice, bob))
	const n = 300
	for i := range n {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5060)
		s.Add(d.req(fmt.Sprintf("M%03d", i), 2+i, "b", fmt.Sprintf("z9hG4bKm%d", i), ""), ownMeta(2+i, src, bob))
	}
	det, _ := s.Call("many@h")
	if len(det.Messages) != n+1 {
		t.Fatalf("%d messages", len(det.Messages))
	}
	for i, md := range det.Messages[1:] {
		wantSrc := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 5060)
		if md.Meta.Src != wantSrc || md.Meta.Dst != bob || md.CSeqMethod != fmt.Sprintf("M%03d", i) || md.Method != md.CSeqMethod {
			t.Fatalf("message %d: src %v dst %v method %q cseq method %q", i+1, md.Meta.Src, md.Meta.Dst, md.Method, md.CSeqMethod)
		}
	}
	sum := one(t, s, "many@h")
	if len(sum.Methods) != n+1 || sum.Methods[0] != "INVITE" || sum.Methods[n] != "M299" {
		t.Errorf("methods: %d, first %q last %q", len(sum.Methods), sum.Methods[0], sum.Methods[len(sum.Methods)-1])
	}
	if sum.Src != alice || sum.Dst != bob {
		t.Errorf("summary src %v dst %v", sum.Src, sum.Dst)
	}
	if k := s.KPIs(Filter{}); k.Invites != 1 || k.AHR != 301 {
		t.Errorf("KPIs: %d invites, AHR %v; want 1 and 301 Vias", k.Invites, k.AHR)
	}
}

// TestStrListsShared checks the shared list table: equal lists are one
// list, a shared list never changes, and past the table's bounds a
// call's list is its own and grows in place.
func TestStrListsShared(t *testing.T) {
	var lt strLists
	a := lt.with(lt.with(nil, "INVITE"), "ACK")
	b := lt.with(lt.with(nil, "INVITE"), "ACK")
	if a != b || !a.shared || strings.Join(a.items, ",") != "INVITE,ACK" {
		t.Fatalf("equal lists not shared: %p %p %v", a, b, a.items)
	}
	c := lt.with(a, "BYE")
	if len(a.items) != 2 || strings.Join(c.items, ",") != "INVITE,ACK,BYE" {
		t.Errorf("a shared list changed: %v, %v", a.items, c.items)
	}
	var long *strList
	for i := range maxStrListLen + 3 {
		long = lt.with(long, itoa(i))
	}
	if long.shared || len(long.items) != maxStrListLen+3 || long.items[maxStrListLen+2] != itoa(maxStrListLen+2) {
		t.Errorf("long list: shared %v, %d items", long.shared, len(long.items))
	}
	if lt.sharedWith(long, "x") != nil {
		t.Error("sharedWith extended a list of its own")
	}
	lt.n = maxStrLists // full
	if lt.sharedWith(a, "UPDATE") != nil {
		t.Error("a full table took a new list")
	}
	if d := lt.with(a, "UPDATE"); d.shared || strings.Join(d.items, ",") != "INVITE,ACK,UPDATE" || len(a.items) != 2 {
		t.Errorf("past the bound: %v shared %v; a %v", d.items, d.shared, a.items)
	}
	if lt.with(a, "BYE") != c {
		t.Error("a full table lost its lists")
	}
}

// TestStoreRemoveForgetsMedia checks that evicting a call drops the media
// endpoints its SDP announced (found again from its messages' summaries),
// and only those another call did not announce since.
func TestStoreRemoveForgetsMedia(t *testing.T) {
	s := NewStore(StoreOptions{MaxCalls: 2})
	for i, port := range []int{4000, 4000, 6000} {
		d := dlg{callID: fmt.Sprintf("m%d", i), fromTag: "a"}
		run(s, []step{
			{i * 10, true, d.req("INVITE", 1, "", "z9hG4bK1", sdpBody("10.0.0.1", port, "sendrecv"))},
			{i*10 + 1, false, d.resp(486, "Busy Here", "INVITE", 1, "b", "z9hG4bK1", "", "")},
		})
	}
	// m0 was evicted (m1 had taken over 10.0.0.1:4000 already), m1 holds 4000, m2 6000
	for ap, want := range map[string]string{"10.0.0.1:4000": "m1", "10.0.0.1:6000": "m2"} {
		if id, ok := s.CallForMedia(netip.MustParseAddrPort(ap)); !ok || id != want {
			t.Errorf("%s: %q %v, want %s", ap, id, ok, want)
		}
	}
	d := dlg{callID: "m3", fromTag: "a"}
	run(s, []step{{100, true, d.req("OPTIONS", 1, "", "z9hG4bK1", "")}}) // evicts m1
	if id, ok := s.CallForMedia(netip.MustParseAddrPort("10.0.0.1:4000")); ok {
		t.Errorf("10.0.0.1:4000 still names %s after its call was evicted", id)
	}
	if id, _ := s.CallForMedia(netip.MustParseAddrPort("10.0.0.1:6000")); id != "m2" {
		t.Errorf("10.0.0.1:6000 names %q, want m2", id)
	}
	if s.media.n != 1 {
		t.Errorf("%d media endpoints held, want 1", s.media.n)
	}
}

// retainedPerCall adds calls of tmpl to a fresh store (messages re-read
// from the capture, kept in memory, or spilled: how) and returns the heap
// they keep and the bytes the store accounts, per call.
func retainedPerCall(tmpl [][]byte, calls int, how string, problems bool) (heap, acct float64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	o, off := StoreOptions{Raw: fileRaw{}, MaxCalls: 1 << 30, MaxBytes: 1 << 40}, int32(42)
	switch how {
	case "memory":
		o.Raw, off = nil, 0
	case "spilled":
		o.Raw, o.Spill, off = nil, &discardSpill{}, 0
	}
	s := NewStore(o)
	addCalls(s, tmpl, 0, calls, off)
	if problems { // as internal/diagnose finds them for most calls
		for i := range calls {
			ps := []Problem{{Code: "short-call", Severity: SeverityInfo, Detail: fmt.Sprintf("answered call hung up by the caller after %d ms", 30+i%1000)}}
			s.SetProblems("bench-"+strconv.Itoa(1e9+i), ps)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	st := s.Stats()
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(calls), float64(st.Bytes) / float64(calls)
}

// TestStoreAccountingMatchesHeap keeps the store's byte accounting (what
// --max-memory bounds) true to the heap the calls really keep: calls with
// and without SDP, a short non-INVITE dialog and a long call, their
// messages re-read from the file or kept. The overhead constants come
// from these figures; a change to what a call or message holds that is
// not reflected in them fails here.
func TestStoreAccountingMatchesHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap of 40 000 calls")
	}
	const calls, tolerance = 5000, 0.15
	d := dlg{callID: "bench-0000000000", fromTag: "ft"}
	full := benchCall()
	busy := [][]byte{
		d.req("INVITE", 1, "", "z9hG4bK1", ""),
		d.resp(100, "Trying", "INVITE", 1, "", "z9hG4bK1", "", ""),
		d.resp(180, "Ringing", "INVITE", 1, "tt", "z9hG4bK1", "", ""),
		d.resp(486, "Busy Here", "INVITE", 1, "tt", "z9hG4bK1", "", ""),
		d.req("ACK", 1, "tt", "z9hG4bK1", ""),
	}
	options := [][]byte{d.req("OPTIONS", 1, "", "z9hG4bK1", ""), d.resp(200, "OK", "OPTIONS", 1, "tt", "z9hG4bK1", "", "")}
	long := append([][]byte{}, full[:6]...)
	for i := range 10 {
		br := "z9hG4bKi" + itoa(i)
		long = append(long, d.req("INFO", 3+i, "tt", br, ""), d.resp(200, "OK", "INFO", 3+i, "tt", br, "", ""))
	}
	long = append(long, full[6])
	auth := [][]byte{ // a challenge: an event, a second initial transaction
		d.req("INVITE", 1, "", "z9hG4bK1", ""),
		d.resp(407, "Proxy Authentication Required", "INVITE", 1, "tt", "z9hG4bK1", "", ""),
		d.req("ACK", 1, "tt", "z9hG4bK1", ""),
		d.req("INVITE", 2, "", "z9hG4bK4", ""),
		d.resp(180, "Ringing", "INVITE", 2, "tu", "z9hG4bK4", "", ""),
		d.resp(200, "OK", "INVITE", 2, "tu", "z9hG4bK4", "", ""),
		d.req("ACK", 2, "tu", "z9hG4bK5", ""),
		d.req("BYE", 3, "tu", "z9hG4bK6", ""),
		d.resp(200, "OK", "BYE", 3, "tu", "z9hG4bK6", "", ""),
	}
	for _, tc := range []struct {
		name     string
		tmpl     [][]byte
		problems bool
	}{{"answered with SDP", full, false}, {"answered, a problem", full, true}, {"busy without SDP", busy, false},
		{"OPTIONS", options, false}, {"27 messages", long, false}, {"challenged", auth, false}} {
		for _, how := range []string{"re-read", "memory", "spilled"} {
			heap, acct := retainedPerCall(tc.tmpl, calls, how, tc.problems)
			drift := (acct - heap) / heap
			t.Logf("%s (messages %s): heap %.0f, accounted %.0f bytes per call (%+.1f%%)", tc.name, how, heap, acct, drift*100)
			if math.Abs(drift) > tolerance {
				t.Errorf("%s (messages %s): accounted %.0f bytes per call, the heap holds %.0f: off by %+.0f%%", tc.name, how, acct, heap, drift*100)
			}
		}
	}
}

// TestStoreBytesAddUp checks that the store's byte count is the sum of
// what its calls account, through every way a call grows (messages,
// events, problems, streams, legs linking another call) and shrinks
// (eviction, replaced problems and streams), and back to zero.
func TestStoreBytesAddUp(t *testing.T) {
	s := NewStore(StoreOptions{MaxCalls: 3})
	check := func(when string) {
		t.Helper()
		sum := int64(0)
		for c := s.order.front; c != nil; c = c.ord.next {
			sum += int64(c.bytes + callOverhead)
		}
		if st := s.Stats(); st.Bytes != sum {
			t.Fatalf("%s: Stats.Bytes %d, the calls account %d", when, st.Bytes, sum)
		}
	}
	a := dlg{callID: "a@h", fromTag: "a"}
	b := dlg{callID: "b@h", fromTag: "b", extra: "X-Call-ID: a@h\n"}
	run(s, []step{{0, true, a.req("INVITE", 1, "", "z9hG4bK1", sdpBody("10.0.0.1", 4000, "sendrecv"))}})
	check("one message")
	run(s, []step{{10, true, b.req("INVITE", 1, "", "z9hG4bK2", "")}}) // links a: a's first cold field
	check("a leg")
	if heldCall(s, "a@h").cold == nil {
		t.Fatal("the leg did not reach a")
	}
	s.AddEvent("a@h", CallEvent{Time: t0, Kind: "log", Detail: "hello"})
	check("an event")
	s.SetProblems("b@h", []Problem{{Code: "x", Severity: SeverityInfo, Detail: strings.Repeat("d", 100)}})
	check("problems")
	s.SetProblems("b@h", []Problem{{Code: "x", Severity: SeverityInfo, Detail: "d"}, {Code: "y"}})
	check("problems replaced")
	s.SetStreams("a@h", []Stream{{SSRC: 1}, {SSRC: 2}})
	check("streams")
	s.SetStreams("a@h", nil)
	check("streams dropped")
	for i := range 5 {
		d := dlg{callID: fmt.Sprintf("e%d", i), fromTag: "a"}
		run(s, []step{{100 + i, true, d.req("OPTIONS", 1, "", "z9hG4bK1", "")}})
		check("evictions")
	}
	s.mu.Lock()
	for s.order.front != nil {
		s.remove(s.order.front)
	}
	s.mu.Unlock()
	if st := s.Stats(); st.Bytes != 0 || st.Calls != 0 {
		t.Errorf("every call removed: %d bytes, %d calls", st.Bytes, st.Calls)
	}
}

// TestAccountedSizes keeps the element sizes the accounting uses true.
func TestAccountedSizes(t *testing.T) {
	if n := unsafe.Sizeof(Problem{}); n != problemSize {
		t.Errorf("Problem is %d bytes, problemSize %d", n, problemSize)
	}
	if n := unsafe.Sizeof(Stream{}); n != streamSize {
		t.Errorf("Stream is %d bytes, streamSize %d", n, streamSize)
	}
	if n := unsafe.Sizeof(callCold{}); n > coldOverhead {
		t.Errorf("callCold is %d bytes, coldOverhead %d", n, coldOverhead)
	}
	if n := unsafe.Sizeof(callMore{}); n > moreOverhead {
		t.Errorf("callMore is %d bytes, moreOverhead %d", n, moreOverhead)
	}
	if n := unsafe.Sizeof(storedMsg{}); n != 48 {
		t.Errorf("storedMsg is %d bytes, want 48 (msgOverhead %d)", n, msgOverhead)
	}
	if n := unsafe.Sizeof(call{}); n > 384 {
		t.Errorf("call is %d bytes: past the 384-byte size class", n)
	}
	if n := unsafe.Sizeof(msgWide{}); n > wideOverhead {
		t.Errorf("msgWide is %d bytes, wideOverhead %d", n, wideOverhead)
	}
	if n := unsafe.Sizeof(mediaRec{}); n != 32 {
		t.Errorf("mediaRec is %d bytes, want 32 (mediaOverhead %d)", n, mediaOverhead)
	}
	if n := unsafe.Sizeof(callRare{}); n > rareOverhead {
		t.Errorf("callRare is %d bytes, rareOverhead %d", n, rareOverhead)
	}
}

// TestClosedCallTrimmed checks that a call gives back the room its
// message table grew by when it closes, keeping a little for the
// messages that follow a close, and that it grows again if needed.
func TestClosedCallTrimmed(t *testing.T) {
	d := dlg{callID: "trim@h", fromTag: "a"}
	s := NewStore(StoreOptions{})
	steps := []step{{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")}}
	for i := range 7 { // 8 messages: the table grew from 7 to 14
		steps = append(steps, step{1 + i, false, d.resp(180, "Ringing", "INVITE", 1, "b", "z9hG4bK1", "", "X-N: "+itoa(i)+"\n")})
	}
	run(s, steps)
	c := heldCall(s, "trim@h")
	if len(c.msgs) != 8 || cap(c.msgs) != 14 {
		t.Fatalf("open call: %d messages in %d", len(c.msgs), cap(c.msgs))
	}
	run(s, []step{{20, false, d.resp(486, "Busy Here", "INVITE", 1, "b", "z9hG4bK1", "", "")}})
	if len(c.msgs) != 9 || cap(c.msgs) != 9+trimSlack {
		t.Errorf("closed call: %d messages in %d, want room for %d more", len(c.msgs), cap(c.msgs), trimSlack)
	}
	for i := range 4 {
		run(s, []step{{30 + i, true, d.req("ACK", 1, "b", "z9hG4bK1", "X-N: "+itoa(i)+"\n")}})
	}
	if sum := one(t, s, "trim@h"); sum.Messages != 13 || sum.State != StateBusy {
		t.Errorf("after the close: %d messages, %v", sum.Messages, sum.State)
	}
	if det, _ := s.Call("trim@h"); len(det.Messages) != 13 || det.Messages[8].StatusCode != 486 || det.Messages[12].Method != "ACK" {
		t.Errorf("detail: %d messages", len(det.Messages))
	}
}

// TestPartiesSharedAndOwn checks a call's parties read back as they
// came, whether the store's table shares them or they are the call's
// own (the table is full), with an escaped display name and a
// P-Asserted-Identity.
func TestPartiesSharedAndOwn(t *testing.T) {
	s := NewStore(StoreOptions{})
	add := func(i int) {
		d := dlg{callID: fmt.Sprintf("p%d@h", i), fromTag: "a", extra: fmt.Sprintf("P-Asserted-Identity: <sip:+4930%d@h>\n", i)}
		inv := strings.Replace(string(d.req("INVITE", 1, "", "z9hG4bK1", "")), `"Alice"`, fmt.Sprintf(`"Al\"ice %d"`, i%2), 1)
		run(s, []step{{i, true, []byte(inv)}})
	}
	for i := range maxParties + 10 {
		add(i)
	}
	if len(s.parties) != maxParties {
		t.Fatalf("%d parties in the table, want it full (%d)", len(s.parties), maxParties)
	}
	for _, i := range []int{0, 1, maxParties - 1, maxParties + 9} {
		c := one(t, s, fmt.Sprintf("p%d@h", i))
		if c.From != "1001" || c.To != "1002" || c.FromDisplay != fmt.Sprintf(`Al"ice %d`, i%2) || c.ToDisplay != "" || c.PAI != fmt.Sprintf("+4930%d", i) {
			t.Errorf("call %d: from %q %q to %q %q pai %q", i, c.From, c.FromDisplay, c.To, c.ToDisplay, c.PAI)
		}
	}
}

// TestStoredMsgTimeDelta checks the narrow time (a distance from the
// call's first message) both ways, and the wide one past its 39 hours and
// for a message without a time, each read back exactly.
func TestStoredMsgTimeDelta(t *testing.T) {
	d := dlg{callID: "dt@h", fromTag: "a"}
	raws := [][]byte{
		d.req("INVITE", 1, "", "z9hG4bK1", ""),
		d.resp(100, "Trying", "INVITE", 1, "", "z9hG4bK1", "", ""),
		d.resp(180, "Ringing", "INVITE", 1, "b", "z9hG4bK1", "", ""),
		d.resp(200, "OK", "INVITE", 1, "b", "z9hG4bK1", "", ""),
		d.req("ACK", 1, "b", "z9hG4bK2", ""),
	}
	offsets := []time.Duration{0, -time.Hour + 1, 40 * time.Hour, 1, 0}
	wantWide := []bool{false, false, true, false, true}
	rr := &offsetRaw{raws: map[int64][]byte{}, pls: map[int64]int{}}
	s := NewStore(StoreOptions{Raw: rr})
	metas := make([]Meta, len(raws))
	for i, raw := range raws {
		metas[i] = ownMeta(i+1, alice, bob)
		metas[i].Time = t0.Add(offsets[i])
		if i == 4 {
			metas[i].Time = time.Time{} // no time (a Meta built by hand)
		}
		metas[i].Record.Timestamp = metas[i].Time
		metas[i].Record.CaptureLength, metas[i].Record.Length = 42+len(raw), 42+len(raw)
		rr.raws[metas[i].Offset], rr.pls[metas[i].Offset] = raw, int(metas[i].PayloadOffset)
		s.Add(raw, metas[i])
	}
	det, ok := s.Call("dt@h")
	if !ok || len(det.Messages) != len(raws) {
		t.Fatalf("call: %v", ok)
	}
	c := heldCall(s, "dt@h")
	for i, md := range det.Messages {
		want := metas[i]
		want.PayloadOffset = 0
		if md.Meta != want {
			t.Errorf("message %d: meta\n got %+v\nwant %+v", i, md.Meta, want)
		}
		if wide := c.msgs[i].flags&fWide != 0; wide != wantWide[i] {
			t.Errorf("message %d: wide %v, want %v", i, wide, wantWide[i])
		}
	}
}

// TestProblemsShared checks that calls given the same single problem
// share one list, and that replacing one call's problems leaves the
// other's as they were.
func TestProblemsShared(t *testing.T) {
	s := NewStore(StoreOptions{})
	for _, id := range []string{"a@h", "b@h"} {
		d := dlg{callID: id, fromTag: "a"}
		run(s, []step{{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")}})
	}
	p := Problem{Code: "short-call", Severity: SeverityInfo, Detail: "answered call hung up by the caller after 30 ms"}
	s.SetProblems("a@h", []Problem{p})
	s.SetProblems("b@h", []Problem{p})
	a, b := heldCall(s, "a@h").cold.problems, heldCall(s, "b@h").cold.problems
	if &a[0] != &b[0] {
		t.Error("one problem on two calls: two lists")
	}
	s.SetProblems("a@h", []Problem{{Code: "x"}, p})
	if sa, sb := one(t, s, "a@h"), one(t, s, "b@h"); len(sa.Problems) != 2 || len(sb.Problems) != 1 || sb.Problems[0] != p {
		t.Errorf("after a's were replaced: a %+v, b %+v", sa.Problems, sb.Problems)
	}
}

// TestShapeMemoMatchesSlowPath holds addMedia's memo to the path it
// skips: for media lines of many shapes (codecs by rtpmap, static,
// unnamed, an empty rtpmap, a format list, directions, ptime, SRTP by
// profile and by crypto, IPv6, a zone, RTCP on the same or another
// address, no address, port 0), whenever the memo holds a shape for a
// line, the record it gives is the record mediaSummaryOf and mediaRecOf
// give, and the memo finds the shapes the table holds.
func TestShapeMemoMatchesSlowPath(t *testing.T) {
	const head = "v=0\no=- 1 1 IN IP4 10.0.0.1\ns=-\n"
	bodies := []string{
		head + "c=IN IP4 10.0.0.1\nt=0 0\nm=audio 4000 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=ptime:20\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=ptime:20\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=ptime:30\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\na=sendonly\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 8 0 101\na=rtpmap:101 telephone-event/8000\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 101\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 101\na=rtpmap:101 \n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=rtpmap:0 \n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=rtpmap:0 /8000\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 96\na=rtpmap:96 telephone-event/8000\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=rtpmap:0 PCMA/8000\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/SAVP 0 8\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=rtcp:4009\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=rtcp:4009 IN IP4 10.9.9.9\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8\na=rtcp-mux\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 0 RTP/AVP 0 8\n",
		head + "t=0 0\nm=audio 4002 RTP/AVP 0 8\n",
		head + "c=IN IP6 2001:db8::1\nt=0 0\nm=audio 4002 RTP/AVP 0 8\n",
		head + "c=IN IP6 fe80::1%eth0\nt=0 0\nm=audio 4002 RTP/AVP 0 8\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=image 4002 udptl t38\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=image 4002 udptl t38 t37\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=video 4002 RTP/AVP\n",
		head + "c=IN IP4 10.0.0.2\nt=0 0\nm=audio 4002 RTP/AVP 0 8 101\na=rtpmap:101 telephone-event/8000\nm=video 4004 RTP/AVP 99\na=rtpmap:99 H264/90000\n",
	}
	s := NewStore(StoreOptions{})
	c := &call{}
	hits := 0
	for round := range 2 { // the first files the shapes; the second finds them
		for _, b := range bodies {
			var sd SDP
			if err := sd.Unmarshal([]byte(b)); err != nil {
				t.Fatal(err)
			}
			for again := range 2 { // a line right after one like it
				for i := range sd.Media {
					ms, l, shared := mediaSummaryOf(&sd, i, &s.in, &s.lists)
					want, n := c.mediaRecOf(&ms, l, shared, 3, s)
					table := want.shape != nil && n == 0
					got, ok := s.memo.rec(&sd, i, 3)
					switch {
					case ok:
						hits++
						if got != want {
							t.Errorf("round %d, %q media %d: memo gives %+v, the slow path %+v", round, b, i, got, want)
						}
					case again == 1 && table:
						t.Errorf("round %d, %q media %d: the memo misses the table shape it was given", round, b, i)
					}
					if table && again == 0 {
						s.memo.add(want.shape)
					}
				}
			}
		}
	}
	if hits == 0 {
		t.Error("the memo never matched")
	}
}

// TestMediaKeyDistinct: IPv4 endpoints are their own keys, so endpoints
// one byte or one port apart, and an IPv4 address and its IPv6-mapped
// form, never share a key; IPv6 zones are told apart.
func TestMediaKeyDistinct(t *testing.T) {
	s := NewStore(StoreOptions{})
	aps := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:4000"), netip.MustParseAddrPort("10.0.0.1:4001"),
		netip.MustParseAddrPort("10.0.1.1:4000"), netip.MustParseAddrPort("11.0.0.1:4000"),
		netip.MustParseAddrPort("10.0.0.2:4000"), netip.MustParseAddrPort("0.0.0.0:0"),
		netip.MustParseAddrPort("255.255.255.255:65535"), netip.MustParseAddrPort("[::ffff:10.0.0.1]:4000"),
		netip.MustParseAddrPort("[2001:db8::1]:4000"), netip.MustParseAddrPort("[fe80::1%eth0]:4000"),
		netip.MustParseAddrPort("[fe80::1%eth1]:4000"), netip.MustParseAddrPort("[fe80::1]:4000"), {},
	}
	seen := map[uint64]netip.AddrPort{}
	for _, ap := range aps {
		k := s.mediaKey(ap)
		if o, ok := seen[k]; ok {
			t.Errorf("%v and %v share key %#x", o, ap, k)
		}
		seen[k] = ap
		if k != s.mediaKey(ap) {
			t.Errorf("%v: key not stable", ap)
		}
	}
}

// heldCall is the call the store holds for id (nil: none).
func heldCall(s *Store, id string) *call {
	c, _ := s.calls.get(id)
	return c
}

// TestCallIndex holds the Call-ID index to a map through inserts,
// lookups and removals in random order (removal shifts entries back, so
// every entry left must stay reachable), across growth.
func TestCallIndex(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := newCallIndex(maphash.MakeSeed())
	want := map[string]*call{}
	var ids []string
	for step := range 200000 {
		switch op := rng.IntN(10); {
		case op < 6 || len(ids) == 0:
			id := "c" + strconv.Itoa(step)
			c := &call{id: id}
			if _, ok := x.get(id); ok {
				t.Fatalf("%s held before it was added", id)
			}
			x.put(c, x.hash([]byte(id)))
			want[id] = c
			ids = append(ids, id)
		case op < 8:
			k := rng.IntN(len(ids))
			id := ids[k]
			x.del(want[id])
			delete(want, id)
			ids[k] = ids[len(ids)-1]
			ids = ids[:len(ids)-1]
			if _, ok := x.get(id); ok {
				t.Fatalf("%s held after its removal", id)
			}
		default:
			id := ids[rng.IntN(len(ids))]
			if c, ok := x.getBytes([]byte(id)); !ok || c != want[id] || !x.holds(c) {
				t.Fatalf("%s: got %v %v", id, c, ok)
			}
		}
		if x.n != len(want) {
			t.Fatalf("step %d: %d held, want %d", step, x.n, len(want))
		}
	}
	for id, c := range want {
		if got, ok := x.get(id); !ok || got != c {
			t.Fatalf("%s lost", id)
		}
	}
	if x.holds(&call{id: ids[0]}) {
		t.Error("holds a call by its Call-ID alone")
	}
}

// TestMediaIndex holds the media index to a map through swaps, lookups
// and removals in random order, across growth, with keys that crowd
// (consecutive IPv4 endpoints) and a zero Store's lookup.
func TestMediaIndex(t *testing.T) {
	var zero Store
	if _, ok := zero.CallForMedia(netip.MustParseAddrPort("10.0.0.1:4000")); ok {
		t.Error("the zero Store finds media")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	s := NewStore(StoreOptions{})
	x := newMediaIndex(maphash.MakeSeed())
	want := map[uint64]*call{}
	calls := []*call{{id: "a"}, {id: "b"}, {id: "c"}}
	for step := range 200000 {
		k := s.mediaKey(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(4))}), uint16(4000+rng.IntN(3000))))
		c := calls[rng.IntN(len(calls))]
		switch op := rng.IntN(10); {
		case op < 5:
			if o := x.swap(k, c); o != want[k] {
				t.Fatalf("step %d: swap gave %v, want %v", step, o, want[k])
			}
			want[k] = c
		case op < 8:
			x.delIf(k, c)
			if want[k] == c {
				delete(want, k)
			}
		default:
			if o := x.get(k); o != want[k] {
				t.Fatalf("step %d: get gave %v, want %v", step, o, want[k])
			}
		}
		if x.n != len(want) {
			t.Fatalf("step %d: %d held, want %d", step, x.n, len(want))
		}
	}
	for k, c := range want {
		if x.get(k) != c {
			t.Fatalf("%#x lost", k)
		}
	}
}

// TestStrListsWithBytes holds withBytes to with over the interner: the
// same shared lists, equal own ones, while the table fills and past it.
func TestStrListsWithBytes(t *testing.T) {
	var a, b strLists
	var ina, inb interner
	var la, lb *strList
	for i := range 3 * maxStrLists {
		v := []byte("ua-" + strconv.Itoa(i%7))
		if i%5 == 0 {
			la, lb = nil, nil // a new call's list
		}
		la = a.with(la, ina.str(v))
		lb = b.withBytes(lb, v, &inb)
		if !slices.Equal(la.list(), lb.list()) || la.shared != lb.shared {
			t.Fatalf("step %d: with %v (shared %v), withBytes %v (shared %v)", i, la.list(), la.shared, lb.list(), lb.shared)
		}
	}
	if a.n != b.n || len(ina.m) != len(inb.m) {
		t.Errorf("tables differ: %d and %d lists, %d and %d strings", a.n, b.n, len(ina.m), len(inb.m))
	}
}
