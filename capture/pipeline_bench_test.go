package capture

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// BenchmarkPipeBatchAdd is the decoding goroutine's share of the
// pipeline's hand-over, per event: copying an event and its bytes into
// a batch (events of loadBench's capture, nearly all RTP, each with its
// record).
func BenchmarkPipeBatchAdd(b *testing.B) {
	frames, pkts := loadBench()
	d := NewDecoder(Options{})
	var evs []Event
	for i := range 8192 {
		f := frames[i]
		_ = d.Decode(f, pkts[i], func(ev *Event) {
			ev.Record = f
			evs = append(evs, *ev)
		})
	}
	if len(evs) == 0 {
		b.Fatal("no events")
	}
	bt := newPipeBatch()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bt.add(&evs[i], false, nil)
		if bt.full() {
			bt.reset()
		}
		if i++; i == len(evs) {
			i = 0
		}
	}
}

// BenchmarkRunSIP is a SIP-heavy pass pipelined: /tmp/sip20k.pcap (20
// 000 calls, 140 000 SIP messages; skipped when absent) read from
// memory, each message filed in a sipflow.Store as the engine does
// (AddParsed when the pipeline parsed it, Add otherwise). Which side
// parses decides which goroutine bounds the wall time.
func BenchmarkRunSIP(b *testing.B) {
	in, err := os.ReadFile("/tmp/sip20k.pcap")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		r, err := pcap.NewReader(bytes.NewReader(in), "bench")
		if err != nil {
			b.Fatal(err)
		}
		s := sipflow.NewStore(sipflow.StoreOptions{})
		st, err := Run(context.Background(), []Source{r}, Options{Pipeline: true}, nil, func(ev *Event) error {
			meta := sipflow.Meta{Time: ev.Time, Src: ev.Src, Dst: ev.Dst, Transport: ev.Transport, Frame: ev.Packet.Number}
			if ev.Kind != KindSIP {
				return nil
			}
			if ev.SIP != nil {
				s.AddParsed(ev.SIP, meta)
			} else {
				s.Add(ev.Payload, meta)
			}
			return nil
		})
		if err != nil || st.SIP == 0 {
			b.Fatalf("%v, %+v", err, st)
		}
		records += r.Stats().Packets
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(records), "ns/record")
}

// BenchmarkPipeBatchRead is the decoding goroutine's work per record of
// loadBench's capture read ahead from memory: Next, Decode and the
// batch's add, with the record copied into the batch or left in the
// Reader's block (pinned). The difference is what pinning saves.
func BenchmarkPipeBatchRead(b *testing.B) {
	in := benchPcap(b)
	for _, pin := range []bool{false, true} {
		b.Run(map[bool]string{false: "copied", true: "pinned"}[pin], func(b *testing.B) {
			d := NewDecoder(Options{})
			bt := newPipeBatch()
			var (
				r    *pcap.Reader
				stop func()
				data []byte
				blk  *pcap.Block
			)
			open := func() {
				if stop != nil {
					stop()
				}
				var err error
				if r, err = pcap.NewReader(bytes.NewReader(in), "bench"); err != nil {
					b.Fatal(err)
				}
				stop = r.ReadAhead()
			}
			open()
			emit := func(ev *Event) {
				ev.Record = data
				bt.add(ev, false, blk)
			}
			b.ReportAllocs()
			for b.Loop() {
				var (
					p   pcap.Packet
					err error
				)
				if data, p, err = r.Next(); err != nil {
					bt.reset()
					open()
					continue
				}
				if pin {
					blk = r.BlockOf(data)
				}
				_ = d.Decode(data, p, emit)
				if bt.full() {
					bt.reset()
				}
			}
			stop()
		})
	}
}
