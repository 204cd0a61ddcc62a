package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
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
// A SIP message carried over several TCP segments is saved as the
// segment that completed it.
func (e *Engine) SavePcap(ctx context.Context, files []string, callIDs []string, media bool, out string) (int, error) {
	frames := make(map[[2]int]bool) // {source, frame number} of SIP messages
	endpoints := make(map[netip.AddrPort]bool)
	for _, id := range callIDs {
		d, ok := e.store.Call(id)
		if !ok {
			continue
		}
		for _, m := range d.Messages {
			frames[[2]int{m.Meta.Source, m.Meta.Frame}] = true
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
