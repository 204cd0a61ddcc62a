package heptransport

import (
	"bytes"
	"fmt"
	"testing"
)

// TestUnackedRing: packets leave in order, only once every byte of
// theirs is acknowledged on the connection they were last written to,
// and the buffers of acknowledged packets come back for reuse.
func TestUnackedRing(t *testing.T) {
	var u unacked
	u.conn = 1
	var end uint64
	var spent [][]byte
	for i := range 200 {
		b := []byte(fmt.Sprintf("packet-%03d", i))
		end += uint64(len(b))
		if s := u.push(b, end); s != nil {
			spent = append(spent, s)
		}
	}
	if u.len() != 200 || u.bytes != 200*10 {
		t.Fatalf("len %d bytes %d", u.len(), u.bytes)
	}
	// One byte short of packet 5's end: packets 0..4 go.
	if n, b := u.ackTo(6*10 - 1); n != 5 || b != 50 {
		t.Fatalf("acked %d packets, %d bytes", n, b)
	}
	if !bytes.Equal(u.pkts[u.head].b, []byte("packet-005")) {
		t.Fatalf("head %q", u.pkts[u.head].b)
	}
	// A reconnect: the rest keep their old offsets until written again,
	// and an acknowledgement on the new connection cannot release them.
	u.conn++
	if n, _ := u.ackTo(1 << 40); n != 0 {
		t.Fatalf("%d packets released by another connection's offset", n)
	}
	var off uint64
	for i := u.head; i < u.head+3; i++ {
		off += uint64(len(u.pkts[i].b))
		u.pkts[i].end, u.pkts[i].conn = off, u.conn
	}
	if n, _ := u.ackTo(1 << 40); n != 3 {
		t.Fatalf("acked %d of the 3 written again", n)
	}
	// Buffers of acknowledged packets are handed back to the writer.
	if s := u.push([]byte("next"), 1<<41); s == nil || len(s) != 0 || cap(s) < 10 {
		t.Fatalf("spent buffer %v", s)
	}
	if len(spent) != 0 {
		t.Fatalf("buffers handed back before anything was acknowledged: %d", len(spent))
	}
	// Compaction (once most of the slice is acknowledged) keeps order.
	off = 0
	for i := u.head; i < len(u.pkts); i++ {
		off += uint64(len(u.pkts[i].b))
		u.pkts[i].end, u.pkts[i].conn = off, u.conn
	}
	if n, _ := u.ackTo(140 * 10); n != 140 {
		t.Fatalf("acked %d, want 140", n)
	}
	u.push([]byte("last"), off+4)
	if u.head != 0 {
		t.Fatalf("not compacted: head %d of %d", u.head, len(u.pkts))
	}
	for k, p := range u.pkts[:u.len()-2] {
		if want := fmt.Sprintf("packet-%03d", 148+k); string(p.b) != want {
			t.Fatalf("after compaction %d: %q, want %q", k, p.b, want)
		}
	}
	if string(u.pkts[u.len()-1].b) != "last" {
		t.Fatalf("tail %q", u.pkts[u.len()-1].b)
	}
}
