package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// SavePcap writes the packets of the given calls to out as pcapng (so
// sources of different link types can be mixed), re-reading the capture
// files: the store keeps SIP messages, not the frames, and never RTP. It
// writes each record whose SIP message belongs to one of the calls and,
// with media, each RTP/RTCP datagram to or from a media endpoint of
// those calls. files must be the files the engine read, in the same
// order. It returns the number of packets written.
//
// Signalling alone is re-read record by record at the offsets the store
// kept (pcap.ReadRecordAt); with media, or from a gzip file, the files
// are decoded again to find the records. A SIP message carried over
// several TCP segments is saved as the segment that completed it.
func (e *Engine) SavePcap(ctx context.Context, files []string, callIDs []string, media bool, out string) (int, error) {
	if len(files) == 0 {
		return 0, ErrNotRereadable
	}
	frames := make(map[[2]int]bool) // {source, frame number} of SIP messages
	// RTP is matched by stream (SSRC and both addresses), so another call
	// reusing the same media ports later is not saved with this one; RTCP
	// by its addresses (RTP port + 1, or the same with rtcp-mux) within
	// the call's time.
	type streamKey struct {
		ssrc     uint32
		src, dst netip.AddrPort
	}
	streams := make(map[streamKey]bool)
	type window struct{ from, to time.Time }
	rtcp := make(map[[2]netip.AddrPort][]window)
	var metas []sipflow.Meta
	for _, id := range callIDs {
		d, ok := e.store.Call(id)
		if !ok {
			continue
		}
		for _, m := range d.Messages {
			if m.Meta.Source < 0 || m.Meta.Source >= len(files) || m.Meta.Record.CaptureLength == 0 {
				return 0, ErrNotRereadable // from a HEP collector or a live source
			}
			frames[[2]int{m.Meta.Source, m.Meta.Frame}] = true
			metas = append(metas, m.Meta)
		}
		w := window{d.Summary.Start, d.Summary.End.Add(rtcpGrace)}
		callStreams := e.Streams(id)
		for _, s := range callStreams {
			streams[streamKey{s.SSRC, s.Src, s.Dst}] = true
			if s.End.Add(rtcpGrace).After(w.to) {
				w.to = s.End.Add(rtcpGrace)
			}
		}
		for _, s := range callStreams {
			for _, delta := range []uint16{0, 1} {
				src := netip.AddrPortFrom(s.Src.Addr(), s.Src.Port()+delta)
				dst := netip.AddrPortFrom(s.Dst.Addr(), s.Dst.Port()+delta)
				rtcp[[2]netip.AddrPort{src, dst}] = append(rtcp[[2]netip.AddrPort{src, dst}], w)
				rtcp[[2]netip.AddrPort{dst, src}] = append(rtcp[[2]netip.AddrPort{dst, src}], w)
			}
		}
	}
	if len(frames) == 0 {
		return 0, fmt.Errorf("engine: no messages to save for %d call(s)", len(callIDs))
	}
	if !media {
		n, err := savePcapByOffset(files, metas, out)
		if !errors.Is(err, errRescan) {
			return n, err
		}
	}
	inWindow := func(ws []window, t time.Time) bool {
		for _, w := range ws {
			if !t.Before(w.from) && !t.After(w.to) {
				return true
			}
		}
		return false
	}
	var tees []*capture.Last
	var srcs []capture.Source
	for _, f := range files {
		if f == "-" {
			return 0, ErrNotRereadable
		}
		r, err := pcap.Open(f)
		if err != nil {
			return 0, err
		}
		defer r.Close()
		t := &capture.Last{Source: r}
		tees = append(tees, t)
		srcs = append(srcs, t)
	}
	w, err := sink.CreatePcap(out, sink.PcapOptions{Format: sink.FormatPcapNG, Application: "voiptool"})
	if err != nil {
		return 0, fmt.Errorf("engine: save: %w", err)
	}
	defer w.Close()
	written := make(map[[2]int]bool)
	n := 0
	var readErr error
	warn := func(err error) {
		if readErr == nil {
			readErr = err
		}
	}
	_, err = capture.Run(ctx, srcs, e.o.Capture, warn, func(ev *capture.Event) error {
		key := [2]int{ev.Source, ev.Packet.Number}
		if written[key] {
			return nil
		}
		want := false
		switch ev.Kind {
		case capture.KindSIP, capture.KindHEP:
			want = frames[key]
		case capture.KindRTP:
			want = media && streams[streamKey{ev.RTP.SSRC, ev.Src, ev.Dst}]
		case capture.KindRTCP:
			want = media && inWindow(rtcp[[2]netip.AddrPort{ev.Src, ev.Dst}], ev.Time)
		}
		if !want {
			return nil
		}
		t := tees[ev.Source]
		if t.Packet.Number != ev.Packet.Number {
			// A message completed by a later record than the one held
			// (end-of-input flush): its frame is no longer in hand.
			return nil
		}
		if err := w.WriteRecord(ev.Source, t.Packet, t.Data); err != nil {
			return err
		}
		written[key] = true
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := w.Close(); err != nil {
		return n, err
	}
	// Saved what could be read; say what could not, as a read of the
	// same file says it.
	return n, readErr
}

// rtcpGrace is how long after a call's last message or stream its RTCP
// still belongs to it (a last report after BYE; RFC 3550 6.2 intervals
// are about 5 s).
const rtcpGrace = 10 * time.Second

// savePcapByOffset writes the records behind metas by reading each at
// its offset: no decoding, and only the bytes of the call are read.
func savePcapByOffset(files []string, metas []sipflow.Meta, out string) (int, error) {
	type src struct {
		f      *os.File
		format pcap.Format
	}
	srcs := make(map[int]*src)
	defer func() {
		for _, s := range srcs {
			s.f.Close()
		}
	}()
	for _, m := range metas {
		if m.Record.CaptureLength == 0 || m.Source < 0 || m.Source >= len(files) || files[m.Source] == "-" {
			return 0, errRescan
		}
		if srcs[m.Source] != nil {
			continue
		}
		f, err := os.Open(files[m.Source])
		if err != nil {
			return 0, fmt.Errorf("engine: save: %w", err)
		}
		r, err := pcap.NewReader(f, files[m.Source])
		if err != nil {
			f.Close()
			return 0, err
		}
		srcs[m.Source] = &src{f: f, format: r.Format()}
		if r.Format().Compressed {
			return 0, errRescan
		}
	}
	sort.SliceStable(metas, func(i, j int) bool {
		a, b := metas[i].Record, metas[j].Record
		if !a.Timestamp.Equal(b.Timestamp) {
			return a.Timestamp.Before(b.Timestamp)
		}
		return metas[i].Source < metas[j].Source || metas[i].Source == metas[j].Source && a.Number < b.Number
	})
	w, err := sink.CreatePcap(out, sink.PcapOptions{Format: sink.FormatPcapNG, Application: "voiptool"})
	if err != nil {
		return 0, fmt.Errorf("engine: save: %w", err)
	}
	defer w.Close()
	done := make(map[[2]int64]bool)
	var buf []byte
	n := 0
	for _, m := range metas {
		key := [2]int64{int64(m.Source), m.Record.Offset}
		if done[key] {
			continue // several messages in one record
		}
		s := srcs[m.Source]
		data, err := pcap.ReadRecordAt(s.f, s.format, m.Record, buf)
		if err != nil {
			return n, err
		}
		buf = data[:0]
		if err := w.WriteRecord(m.Source, m.Record, data); err != nil {
			return n, err
		}
		done[key] = true
		n++
	}
	return n, w.Close()
}
