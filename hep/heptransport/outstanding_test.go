package heptransport

import "testing"

// Outstanding sums every target's queue, unacknowledged packets and
// spool bytes.
func TestOutstanding(t *testing.T) {
	q, u, b := Outstanding([]TargetStats{{Queued: 2, Unacked: 3, SpoolBytes: 10}, {Queued: 1, SpoolBytes: 5}})
	if q != 3 || u != 3 || b != 15 {
		t.Errorf("Outstanding = %d %d %d, want 3 3 15", q, u, b)
	}
}
