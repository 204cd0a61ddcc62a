package main

import (
	"fmt"
	"os"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/pcap"
)

// packetSaver writes the records behind chosen events to a pcapng file,
// one interface per source and link type, each record once.
type packetSaver struct {
	f       *os.File
	w       *pcap.NgWriter
	last    []*capture.Last
	sources []capture.Source
	ifaces  map[[2]uint32]int
	done    map[[2]int]bool
	n       int
	closed  bool
}

func newPacketSaver(path string, srcs []capture.Source) (*packetSaver, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := pcap.NewNgWriter(f, pcap.NgWriterOptions{Application: "voiptool " + versionString()})
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &packetSaver{f: f, w: w, ifaces: map[[2]uint32]int{}, done: map[[2]int]bool{}}
	for _, src := range srcs {
		l := &capture.Last{Source: src}
		s.last = append(s.last, l)
		s.sources = append(s.sources, l)
	}
	return s, nil
}

// save writes the record ev came from, unless it was written already
// (several messages in one segment) or is no longer in hand (a message
// completed by the end-of-input flush).
func (s *packetSaver) save(ev *capture.Event) error {
	l := s.last[ev.Source]
	key := [2]int{ev.Source, ev.Packet.Number}
	if s.done[key] || l.Packet.Number != ev.Packet.Number {
		return nil
	}
	ik := [2]uint32{uint32(ev.Source), uint32(l.Packet.LinkType)}
	idx, ok := s.ifaces[ik]
	if !ok {
		var err error
		if idx, err = s.w.AddInterface(l.Packet.LinkType, 0); err != nil {
			return fmt.Errorf("dump: -w: %w", err)
		}
		s.ifaces[ik] = idx
	}
	p := l.Packet
	p.InterfaceIndex = idx
	if err := s.w.WritePacket(p, l.Data); err != nil {
		return fmt.Errorf("dump: -w: %w", err)
	}
	s.done[key] = true
	s.n++
	return nil
}

func (s *packetSaver) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return err
	}
	return s.f.Close()
}
