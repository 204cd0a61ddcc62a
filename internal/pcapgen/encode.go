package pcapgen

import (
	"bytes"
	"net/netip"
	"strconv"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// linkFn wraps an IP datagram in a link-layer header.
type linkFn func(ip []byte, toServer bool) []byte

func ethLink(ip []byte, toServer bool) []byte { return Ethernet(ip, toServer) }

// encodeUDP turns events into UDP records, one datagram each.
func encodeUDP(ev []event, client netip.Addr, link linkFn, w *Expect) []Record {
	recs := make([]Record, 0, len(ev))
	id := uint16(0x1000)
	for _, e := range ev {
		id++
		ip := UDP(e.src, e.dst, id, e.payload)
		recs = append(recs, Record{Time: e.t, Data: link(ip, e.src.Addr() == client)})
		w.UDP++
	}
	countEvents(w, ev)
	w.Packets = len(recs)
	return recs
}

// dialogs fills Messages for every declared dialog from the events and
// returns the number of INVITE dialogs.
func fillDialogs(w *Expect, ev []event) {
	for i := range w.Dialogs {
		d := &w.Dialogs[i]
		d.Messages = 0
		for _, e := range ev {
			if e.kind == kindSIP && e.callID == d.CallID {
				d.Messages++
			}
		}
	}
	w.Calls = 0
	for _, d := range w.Dialogs {
		if d.Method == "INVITE" {
			w.Calls++
		}
	}
}

// pcapBytes writes recs as a µs little-endian pcap.
func pcapBytes(link layers.LinkType, recs []Record) []byte {
	var buf bytes.Buffer
	if err := WritePcap(&buf, link, false, recs); err != nil {
		panic("pcapgen: " + err.Error()) // bytes.Buffer writes cannot fail
	}
	return buf.Bytes()
}

func timeUS(n int) time.Duration { return time.Duration(n) * time.Microsecond }
func timeNS(n int) time.Duration { return time.Duration(n) }
func itoa(n int) string          { return strconv.Itoa(n) }
