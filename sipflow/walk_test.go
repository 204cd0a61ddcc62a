package sipflow

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// walkStore holds n dialogs over several chunks of Summaries: every
// third busy, every fifth cancelled by the caller, every eleventh
// answered with SDP (an SDP history), the rest ringing.
func walkStore(n int) *Store {
	s := NewStore(StoreOptions{})
	s.SetSourceNames([]string{"walk.pcap"})
	for i := range n {
		d := dlg{callID: fmt.Sprintf("walk-%04d@h", i), fromTag: "a"}
		if i%7 == 0 {
			d.extra = fmt.Sprintf("P-Asserted-Identity: <sip:pai%d@h>\n", i)
		}
		steps := []step{{i, true, d.req("INVITE", 1, "", "z9hG4bK1", sdpBody("10.0.0.1", 4000+2*i, "sendrecv"))}}
		switch {
		case i%3 == 0:
			steps = append(steps, step{i + 1, false, d.resp(486, "Busy Here", "INVITE", 1, "t", "z9hG4bK1", "", "")})
		case i%5 == 0:
			steps = append(steps, step{i + 1, true, d.req("CANCEL", 1, "", "z9hG4bK1", "")})
		case i%11 == 0:
			steps = append(steps, step{i + 1, false, d.resp(200, "OK", "INVITE", 1, "t", "z9hG4bK1", sdpBody("10.0.0.2", 6000+2*i, "sendrecv"), "")})
		default:
			steps = append(steps, step{i + 1, false, d.resp(180, "Ringing", "INVITE", 1, "t", "z9hG4bK1", "", "")})
		}
		run(s, steps)
	}
	return s
}

// collect keeps what a walk yields: clones, since the walk reuses the
// summaries' slices chunk after chunk.
func collect(s *Store, f Filter) []CallSummary {
	var out []CallSummary
	for c := range s.Summaries(f) {
		out = append(out, c.Clone())
	}
	return out
}

// Summaries yields what Calls returns, in the same order, for any filter.
func TestSummariesEqualCalls(t *testing.T) {
	s := walkStore(3*walkChunk + 7)
	for _, expr := range []string{"", "state=BUSY", "not state=BUSY", "method=CANCEL", "callid~walk-01", "code>=400 or method=CANCEL", "callid=none"} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		want := s.Calls(f, 0, -1)
		if len(want) == 0 && expr != "callid=none" {
			t.Fatalf("%q matches nothing: the fixture does not exercise it", expr)
		}
		got := collect(s, f)
		if n := s.Count(f); n != len(want) {
			t.Errorf("%q: Count %d, Calls %d", expr, n, len(want))
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d summaries, Calls has %d", expr, len(got), len(want))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: summaries differ from Calls", expr)
		}
		if expr == "" && !slices.ContainsFunc(got, func(c CallSummary) bool { return len(c.SDPHistory) > 0 }) {
			t.Errorf("no summary has an SDP history: the fixture does not exercise it")
		}
	}
}

// A sequence can be ranged over again and visits the same calls; calls
// added after it was made are not in it, calls cleared since are
// skipped, and breaking out stops the walk.
func TestSummariesSnapshotAndStop(t *testing.T) {
	s := walkStore(walkChunk + 3)
	seq := s.Summaries(Filter{})
	d := dlg{callID: "late@h", fromTag: "a"}
	run(s, []step{{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")}})
	first, second := 0, 0
	for range seq {
		first++
	}
	for range seq {
		second++
	}
	if first != walkChunk+3 || second != first {
		t.Errorf("ranges visited %d then %d calls, want %d each", first, second, walkChunk+3)
	}
	n := 0
	for range seq {
		n++
		if n == 5 {
			break
		}
	}
	if n != 5 {
		t.Errorf("break after 5: visited %d", n)
	}
	s.Clear()
	for c := range seq {
		t.Fatalf("after Clear: %s", c.CallID)
	}
}

// The consumer runs without the store's lock: the writer can add a
// message in the middle of a walk (a slow pipe must not stall a live
// capture).
func TestSummariesUnlockedWhileYielding(t *testing.T) {
	s := walkStore(10)
	for c := range s.Summaries(Filter{}) {
		if !s.mu.TryLock() {
			t.Fatalf("store locked while %s is yielded", c.CallID)
		}
		s.mu.Unlock()
	}
}

// TestFilterInto holds filterInto to summaryInto: every column of the
// filter language, with every value the full summary holds, decides the
// same on both. A column that came to read a field filterInto leaves out
// fails here with the value that shows it.
func TestFilterInto(t *testing.T) {
	stores := []*Store{walkStore(40)}
	stores[0].SetProblems("walk-0003@h", []Problem{{Code: "no-ack", Severity: SeverityError, Detail: "x"}})
	if dir := corpusDirOrEmpty(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "*.pcap*"))
		for _, path := range files {
			s := NewStore(StoreOptions{})
			udpSIP(t, path, s)
			stores = append(stores, s)
		}
	} else {
		t.Log("corpus absent: the generated dialogs only")
	}
	var cols []string
	for _, c := range columnNames {
		cols = append(cols, c.name)
	}
	checked := 0
	for _, s := range stores {
		s.mu.RLock()
		for c := s.order.front; c != nil; c = c.ord.next {
			var full, light CallSummary
			c.summaryInto(&full, nil)
			c.filterInto(&light, nil)
			for _, v := range summaryValues(full) {
				q := strconv.Quote(v)
				exprs := []string{q, "problem", "not problem"}
				for _, col := range cols {
					for _, op := range []string{"=", "!=", "~", "!~", ">", ">=", "<", "<="} {
						exprs = append(exprs, col+op+q)
					}
				}
				for _, expr := range exprs {
					f, err := ParseFilter(expr)
					if err != nil {
						continue // an operator the column does not take
					}
					if f.Match(&full) != f.Match(&light) {
						t.Errorf("call %s: %s gives %v on the summary, %v on filterInto's", c.id, expr, f.Match(&full), f.Match(&light))
					}
					checked++
				}
			}
		}
		s.mu.RUnlock()
	}
	if checked < 10000 {
		t.Fatalf("only %d filters checked", checked)
	}
}

// corpusDirOrEmpty is corpusDir without the skip.
func corpusDirOrEmpty() string {
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.md")); err != nil {
		return ""
	}
	return dir
}

// summaryValues is every value a summary holds, as text: its strings,
// numbers, and whatever has a String method (states, addresses), down
// through slices and nested structs.
func summaryValues(cs CallSummary) []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		addrs := v.Type() == reflect.TypeOf(netip.AddrPort{}) || v.Type() == reflect.TypeOf(netip.Addr{})
		if v.CanInterface() && (v.Kind() != reflect.Struct || addrs) {
			if s, ok := v.Interface().(fmt.Stringer); ok {
				add(s.String())
				return
			}
		}
		switch v.Kind() {
		case reflect.String:
			add(v.String())
		case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			add(fmt.Sprint(v.Interface()))
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case reflect.Struct:
			if v.Type() == reflect.TypeOf(time.Time{}) {
				return
			}
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(cs))
	return out
}

// CallLocations is Call without the bytes: the same summary, messages,
// locations and SDP, and nothing re-read.
func TestCallLocations(t *testing.T) {
	s := walkStore(5)
	for _, id := range s.IDs() {
		want, ok := s.Call(id)
		if !ok {
			t.Fatal(id)
		}
		got, ok := s.CallLocations(id)
		if !ok {
			t.Fatal(id)
		}
		if !reflect.DeepEqual(got.Summary, want.Summary) || len(got.Messages) != len(want.Messages) || len(got.Messages) == 0 {
			t.Fatalf("%s: summary or message count differs", id)
		}
		for i := range got.Messages {
			g, w := got.Messages[i], want.Messages[i]
			if g.Meta != w.Meta || !reflect.DeepEqual(g.SDP, w.SDP) || g.Request != w.Request || g.StatusCode != w.StatusCode || g.CSeq != w.CSeq {
				t.Errorf("%s message %d: %+v, Call has %+v", id, i, g, w)
			}
			if g.Raw != "" || w.Raw == "" {
				t.Errorf("%s message %d: raw %q (Call's %d bytes)", id, i, g.Raw, len(w.Raw))
			}
		}
	}
	if _, ok := s.CallLocations("nope"); ok {
		t.Error("unknown call found")
	}
}

// Calls evicted after the sequence was made are skipped, and a Call-ID
// evicted and seen again is a new call, not one of the walk's.
func TestSummariesSkipsEvicted(t *testing.T) {
	s := NewStore(StoreOptions{MaxCalls: 10})
	add := func(id string) {
		d := dlg{callID: id, fromTag: "a"}
		run(s, []step{{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")}})
	}
	for i := range 10 {
		add(fmt.Sprintf("e%d", i))
	}
	seq := s.Summaries(Filter{})
	for i := 10; i < 13; i++ {
		add(fmt.Sprintf("e%d", i)) // evicts e0, e1, e2
	}
	add("e0") // evicts e3; e0 is back, as a new call
	var got []string
	for c := range seq {
		got = append(got, c.CallID)
	}
	if want := "e4 e5 e6 e7 e8 e9"; fmt.Sprint(got) != "["+want+"]" {
		t.Errorf("walked %v, want [%s]", got, want)
	}
	if st := s.Stats(); st.Evicted != 4 {
		t.Fatalf("evicted %d, the test expects 4", st.Evicted)
	}
}

// A walk beside a writer that adds and evicts: run with -race.
func TestSummariesBesideWriter(t *testing.T) {
	s := NewStore(StoreOptions{MaxCalls: 300})
	d := dlg{fromTag: "a"}
	for i := range 300 {
		d.callID = fmt.Sprintf("w%d", i)
		run(s, []step{{0, true, d.req("INVITE", 1, "", "z9hG4bK1", "")}})
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the writer: owned here, stopped and waited for below
		defer wg.Done()
		w := dlg{fromTag: "b"}
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			w.callID = fmt.Sprintf("x%d", i)
			run(s, []step{{0, true, w.req("INVITE", 1, "", "z9hG4bK1", "")}})
		}
	}()
	f, _ := ParseFilter("from~100")
	for range 20 {
		prev := -1
		for c := range s.Summaries(f) {
			var k int
			if _, err := fmt.Sscanf(c.CallID, "w%d", &k); err == nil {
				if k <= prev {
					t.Errorf("out of order: w%d after w%d", k, prev)
				}
				prev = k
			}
		}
	}
	close(done)
	wg.Wait()
}

// SummaryChunks yields what Summaries yields, in non-empty chunks, and a
// chunk is intact until the yield of the chunk after it returns (the
// calls report encodes it on another goroutine meanwhile), for filters
// that leave chunks of the walk empty too.
func TestSummaryChunksKeepPrevious(t *testing.T) {
	s := walkStore(5*walkChunk + 7)
	for _, expr := range []string{"", "state=BUSY", "callid~walk-00", "callid~walk-04 or callid~walk-01", "callid=none"} {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		want := collect(s, f)
		var got []CallSummary
		var prev, prevKept []CallSummary
		for chunk := range s.SummaryChunks(f) {
			if len(chunk) == 0 {
				t.Fatalf("%q: empty chunk", expr)
			}
			for i := range prev {
				if !reflect.DeepEqual(prev[i], prevKept[i]) {
					t.Fatalf("%q: summary %d of the chunk before changed by the next chunk's walk", expr, i)
				}
			}
			prev, prevKept = chunk, nil
			for i := range chunk {
				prevKept = append(prevKept, chunk[i].Clone())
				got = append(got, chunk[i].Clone())
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d summaries in chunks, %d walked", expr, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("%q: summary %d differs", expr, i)
			}
		}
	}
}
