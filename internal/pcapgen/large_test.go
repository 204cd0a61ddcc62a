package pcapgen

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestWriteLarge(t *testing.T) {
	var a, b bytes.Buffer
	const calls, rtp = 40, 25
	if err := WriteLarge(&a, calls, rtp); err != nil {
		t.Fatal(err)
	}
	if err := WriteLarge(&b, calls, rtp); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("WriteLarge is not deterministic")
	}
	r, err := pcapgo.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	n, sip := 0, 0
	var last int64
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ns := ci.Timestamp.UnixNano(); ns < last {
			t.Fatalf("record %d goes back in time", n)
		} else {
			last = ns
		}
		if isSIP(data[14+20+8:]) {
			sip++
		}
		n++
	}
	if want := calls * (7 + 2*rtp); n != want {
		t.Errorf("%d records, want %d", n, want)
	}
	if sip != calls*7 {
		t.Errorf("%d SIP records, want %d", sip, calls*7)
	}
	if err := WriteLarge(io.Discard, -1, 0); !errors.Is(err, ErrBadArgument) {
		t.Errorf("negative calls: err = %v, want ErrBadArgument", err)
	}
}

// BenchmarkWriteLarge reports generator throughput (records/s) so
// benchmark setup cost in other packages is known.
func BenchmarkWriteLarge(b *testing.B) {
	const calls, rtp = 100, 50
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteLarge(io.Discard, calls, rtp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(calls*(7+2*rtp)*b.N)/b.Elapsed().Seconds(), "packets/s")
}
