package srtpdec

import (
	"testing"
	"time"
)

// TestDecryptAllocs: decrypting a packet of an SRTP stream in progress
// allocates nothing (the output buffer is reused, pion's state too).
func TestDecryptAllocs(t *testing.T) {
	k := testKey(t, AESCM128HMACSHA1_80, 3)
	snd := newSender(k)
	d := New(Options{})
	d.SetSSRCKey(7, k)
	pkts := make([][]byte, 300)
	for i := range pkts {
		pkts[i] = snd.protectRTP(rtpPacket(7, uint16(i), 0), 0)
	}
	d.RTP(t0, src, pkts[0])
	i := 1
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := d.RTP(t0.Add(time.Duration(i)), src, pkts[i]); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs > maxDecryptAllocs {
		t.Fatalf("%v allocations per SRTP packet, budget %d", allocs, maxDecryptAllocs)
	}
	t.Logf("%v allocations per SRTP packet", allocs)
}

const maxDecryptAllocs = 0

// BenchmarkDecryptRTP decrypts 160-byte G.711 SRTP packets, steady state.
func BenchmarkDecryptRTP(b *testing.B) {
	for _, s := range []Suite{AESCM128HMACSHA1_80, AEADAES128GCM} {
		b.Run(s.String(), func(b *testing.B) {
			k := testKey(b, s, 5)
			snd := newSender(k)
			pkts := make([][]byte, 1<<12)
			for i := range pkts {
				pkts[i] = snd.protectRTP(rtpPacket(9, uint16(i), 0), 0)
			}
			d := New(Options{})
			d.SetSSRCKey(9, k)
			b.SetBytes(int64(len(pkts[0])))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := d.RTP(t0, src, pkts[i%len(pkts)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
