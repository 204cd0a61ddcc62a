package capture

import (
	"fmt"
	"math"
	"net/netip"
	"testing"
	"time"
)

// TestMediaCache: the direct-mapped cache in front of the IPv4 map never
// answers differently from the map, whatever changed the table since the
// answer was cached: learning (also over a cached "not learned"), a role
// change, forgetting, expiry, another key taking the slot.
func TestMediaCache(t *testing.T) {
	var m mediaTable
	m.init(16)
	a := netip.MustParseAddrPort("192.0.2.1:4000")
	b := netip.MustParseAddrPort("192.0.2.2:5000")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:4000")
	const sec = int64(time.Second)
	now := 10 * sec
	want := func(step string, dst, src netip.AddrPort, role mediaRole) {
		t.Helper()
		for range 2 { // second time from the cache
			r, ok := m.lookup(dst, src, now)
			if ok != (role != 0) || r != role {
				t.Fatalf("%s: lookup(%v, %v) = %v %v, want %v", step, dst, src, r, ok, role)
			}
		}
	}
	want("empty", a, b, 0)
	m.learn(b, roleRTP, now)
	want("not learned, cached", a, netip.MustParseAddrPort("192.0.2.9:1"), 0)
	want("by source", a, b, roleRTP)
	m.learn(a, roleRTCP, now)
	want("learned over a cached miss", a, b, roleRTCP)
	m.learn(a, roleMux, now)
	want("role change", a, b, roleMux)
	m.forget(a)
	want("forgotten, source still known", a, b, roleRTP)
	m.forget(b)
	want("all forgotten", a, b, 0)

	m.learn(a, roleRTP, now)
	m.learn(v6, roleMux, now)
	want("IPv6", v6, b, roleMux)
	// Traffic refreshes the map entry, not only the cached copy: expiry
	// reads the map.
	now += 2 * sec
	want("refresh", a, b, roleRTP)
	if e, _ := m.get(a); e.seen != now {
		t.Fatalf("map entry seen %d, want %d", e.seen, now)
	}
	m.expire(now - sec)
	want("refreshed entry survives expiry", a, b, roleRTP)
	want("IPv6 not refreshed", v6, b, 0)
	m.expire(now + 1)
	want("expired", a, b, 0)

	// Keys sharing a set: a fifth evicts the first cached; all still
	// answer, from the cache or the map.
	same := []netip.AddrPort{a}
	for p := range uint16(math.MaxUint16) {
		if q := netip.AddrPortFrom(a.Addr(), p); q != a && m.set(key4Of(q)) == m.set(key4Of(a)) {
			same = append(same, q)
			if len(same) == mediaWays+1 {
				break
			}
		}
	}
	if len(same) != mediaWays+1 {
		t.Fatal("too few ports share a set with", a)
	}
	roles := []mediaRole{roleRTP, roleRTCP, roleMux}
	for i, q := range same {
		m.learn(q, roles[i%len(roles)], now)
	}
	for round := range 3 {
		for i, q := range same {
			want(fmt.Sprintf("set shared, round %d, key %d", round, i), q, b, roles[i%len(roles)])
		}
	}
	m.forget(same[len(same)-1])
	want("set shared, forgotten", same[len(same)-1], b, 0)
	want("set shared, the others stay", same[0], b, roleRTP)
}

// key4Of is key4 for addresses known to be IPv4.
func key4Of(ap netip.AddrPort) uint64 { k, _ := key4(ap); return k }

func TestUnixNano(t *testing.T) {
	for _, tc := range []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(1700000000, 123), 1700000000*int64(time.Second) + 123},
		{time.Unix(-5, 0), -5 * int64(time.Second)},
		{time.Time{}, math.MinInt64},                                 // year 1: a zeroed record time
		{time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64}, // beyond 2262
	} {
		if got := unixNano(tc.t); got != tc.want {
			t.Errorf("unixNano(%v) = %d, want %d", tc.t, got, tc.want)
		}
	}
	if satAdd(math.MaxInt64-1, 10) != math.MaxInt64 || satAdd(math.MinInt64+1, -10) != math.MinInt64 || satAdd(5, -3) != 2 {
		t.Error("satAdd does not saturate")
	}
}

// TestClockExtremes: records stamped at the ends of time (a zeroed
// timestamp, a bogus far-future one) do not wrap the int64 clock. The
// far-future record sweeps everything learned, as it always has (it is
// "now" for its own record), and the next ordinary record puts expiry
// back on the ordinary timeline at once.
func TestClockExtremes(t *testing.T) {
	d := NewDecoder(Options{NoRTPHeuristic: true})
	sip := eth(0x0800, udp4(t, ip4A, ip4B, 5060, 5060, []byte(sipInvite)))
	rtp := eth(0x0800, udp4(t, ip4B, ip4A, 30000, 49170, rtpPacket(0, 1, 0, 9)))
	var kinds []Kind
	emit := func(ev *Event) { kinds = append(kinds, ev.Kind) }
	at := func(ts time.Time, f []byte) {
		t.Helper()
		p := pkt(1, 1, f)
		p.Timestamp = ts
		if err := d.Decode(f, p, emit); err != nil {
			t.Fatal(err)
		}
	}
	at(time.Time{}, sip)
	at(t0, sip)
	at(t0.Add(time.Second), rtp)
	at(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), rtp) // sweeps: not RTP any more
	at(t0.Add(2*time.Second), sip)
	at(t0.Add(3*time.Second), rtp)
	at(t0.Add(3*time.Second+DefaultMediaTimeout+2*DefaultExpireInterval), rtp) // idle past MediaTimeout
	want := []Kind{KindSIP, KindSIP, KindRTP, KindSIP, KindRTP}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	if st := d.Stats(); st.NonMonotonic != 1 {
		t.Errorf("NonMonotonic = %d, want 1", st.NonMonotonic)
	}
}
