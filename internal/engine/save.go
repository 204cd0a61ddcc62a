package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sort"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// ErrNotRereadable is returned when a call is to be saved from a source
// that cannot be read a second time (stdin, a live interface).
var ErrNotRereadable = errors.New("engine: source cannot be re-read (stdin or live); save from a file")

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
	frames := make(map[[2]int]bool) // {source, frame number} of SIP messages
	endpoints := make(map[netip.AddrPort]bool)
	var metas []sipflow.Meta
	for _, id := range callIDs {
		d, ok := e.store.Call(id)
		if !ok {
			continue
		}
		for _, m := range d.Messages {
			frames[[2]int{m.Meta.Source, m.Meta.Frame}] = true
			metas = append(metas, m.Meta)
			for _, md := range m.SDP {
				if md.Addr.IsValid() {
					endpoints[md.Addr] = true
				}
				if md.RTCP.IsValid() {
					endpoints[md.RTCP] = true
				}
			}
		}
		for _, s := range d.Summary.Streams {
			endpoints[s.Src] = true
			endpoints[s.Dst] = true
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
	fh, err := os.Create(out)
	if err != nil {
		return 0, fmt.Errorf("engine: save: %w", err)
	}
	defer fh.Close()
	w, err := pcap.NewNgWriter(fh, pcap.NgWriterOptions{Application: "voiptool"})
	if err != nil {
		return 0, err
	}
	ifaces := make(map[[2]uint32]int) // {source, link type} -> interface
	written := make(map[[2]int]bool)
	n := 0
	_, err = capture.Run(ctx, srcs, e.o.Capture, nil, func(ev *capture.Event) error {
		key := [2]int{ev.Source, ev.Packet.Number}
		if written[key] {
			return nil
		}
		want := false
		switch ev.Kind {
		case capture.KindSIP, capture.KindHEP:
			want = frames[key]
		case capture.KindRTP, capture.KindRTCP:
			want = media && (endpoints[ev.Src] || endpoints[ev.Dst])
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
		ik := [2]uint32{uint32(ev.Source), uint32(t.Packet.LinkType)}
		idx, ok := ifaces[ik]
		if !ok {
			if idx, err = w.AddInterface(t.Packet.LinkType, 0); err != nil {
				return err
			}
			ifaces[ik] = idx
		}
		p := t.Packet
		p.InterfaceIndex = idx
		if err := w.WritePacket(p, t.Data); err != nil {
			return err
		}
		written[key] = true
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	return n, fh.Close()
}

// errRescan says a call cannot be saved by offset (gzip or stdin source,
// messages from a HEP collector) and the files must be decoded again.
var errRescan = errors.New("engine: re-read by decoding")

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
	fh, err := os.Create(out)
	if err != nil {
		return 0, fmt.Errorf("engine: save: %w", err)
	}
	defer fh.Close()
	w, err := pcap.NewNgWriter(fh, pcap.NgWriterOptions{Application: "voiptool"})
	if err != nil {
		return 0, err
	}
	ifaces := make(map[[2]uint32]int)
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
		ik := [2]uint32{uint32(m.Source), uint32(m.Record.LinkType)}
		idx, ok := ifaces[ik]
		if !ok {
			if idx, err = w.AddInterface(m.Record.LinkType, 0); err != nil {
				return n, err
			}
			ifaces[ik] = idx
		}
		p := m.Record
		p.InterfaceIndex = idx
		if err := w.WritePacket(p, data); err != nil {
			return n, err
		}
		done[key] = true
		n++
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	return n, fh.Close()
}
