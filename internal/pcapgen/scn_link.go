package pcapgen

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/gopacket/gopacket/layers"
)

func buildLinkNull() Scenario {
	return miniUDP("link-null", "link-null.pcap", "mini call over DLT_NULL (4-byte little-endian AF_INET header)",
		layers.LinkTypeNull, addrAlice, addrPBX, func(ip []byte, _ bool) []byte { return Null(ip) })
}

func buildLinkLoop() Scenario {
	return miniUDP("link-loop", "link-loop.pcap", "mini call over DLT_LOOP (4-byte big-endian AF_INET header)",
		layers.LinkTypeLoop, addrAlice, addrPBX, func(ip []byte, _ bool) []byte { return Loop(ip) })
}

func buildLinkSLL() Scenario {
	return miniUDP("link-sll", "link-sll.pcap", "mini call over Linux cooked capture v1 (SLL, 113)",
		layers.LinkTypeLinuxSLL, addrAlice, addrPBX, func(ip []byte, out bool) []byte {
			if out {
				return SLL(ip, SLLOutgoing)
			}
			return SLL(ip, SLLHost)
		})
}

func buildLinkSLL2() Scenario {
	return miniUDP("link-sll2", "link-sll2.pcap", "mini call over Linux cooked capture v2 (SLL2, 276), ifindex 2",
		layers.LinkTypeLinuxSLL2, addrAlice, addrPBX, func(ip []byte, out bool) []byte {
			if out {
				return SLL2(ip, SLLOutgoing, 2)
			}
			return SLL2(ip, SLLHost, 2)
		})
}

func rawLink(ip []byte, _ bool) []byte { return ip }

func buildLinkRaw101() Scenario {
	return miniUDP("link-raw101", "link-raw101.pcap", "mini call as raw IPv4 (LINKTYPE_RAW 101)",
		layers.LinkTypeRaw, addrAlice, addrPBX, rawLink)
}

func buildLinkRaw12() Scenario {
	s := miniUDP("link-raw12", "link-raw12.pcap", "mini call as raw IP with DLT_RAW 12 in the header (as some BSD captures have it)",
		layers.LinkType(12), addrAlice, addrPBX, rawLink)
	return s
}

func buildLinkIPv4() Scenario {
	return miniUDP("link-ipv4-228", "link-ipv4-228.pcap", "mini call as raw IPv4 (LINKTYPE_IPV4 228)",
		layers.LinkTypeIPv4, addrAlice, addrPBX, rawLink)
}

func buildLinkIPv6() Scenario {
	return miniUDP("link-ipv6-229", "link-ipv6-229.pcap", "mini call over IPv6 as raw IPv6 (LINKTYPE_IPV6 229)",
		layers.LinkTypeIPv6, addrAlice6, addrPBX6, rawLink)
}

func buildVLAN() Scenario {
	ev1, d1 := miniCall(0, addrAlice, addrPBX, "vlan-dot1q-0001@voiptool.test", "UDP")
	ev2, d2 := miniCall(1000, addrAlice, addrPBX, "vlan-qinq-0002@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d1, d2}, Streams: append(miniStreams(0, addrAlice, addrPBX, d1.CallID), miniStreams(1000, addrAlice, addrPBX, d2.CallID)...)}
	r1 := encodeUDP(ev1, addrAlice, func(ip []byte, out bool) []byte { return EthernetVLAN(ip, out, 100) }, &w)
	r2 := encodeUDP(ev2, addrAlice, func(ip []byte, out bool) []byte { return EthernetVLAN(ip, out, 200, 100) }, &w)
	recs := append(r1, r2...)
	w.Packets = len(recs)
	fillDialogs(&w, append(ev1, ev2...))
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "call 1 tagged 802.1Q VID 100; call 2 QinQ: S-tag 0x88a8 VID 200 then C-tag VID 100"
	return Scenario{Name: "vlan-qinq", File: "vlan-qinq.pcap", Description: "two mini calls: one 802.1Q, one QinQ (802.1ad+802.1Q)",
		Want: w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

func buildPPPoE() Scenario {
	s := miniUDP("pppoe", "pppoe.pcap", "mini call over PPPoE session (0x8864, session 0x1234, PPP IPv4)",
		layers.LinkTypeEthernet, addrAlice, addrPBX, func(ip []byte, out bool) []byte { return PPPoE(ip, out, 0x1234) })
	return s
}

func buildIPv6Ext() Scenario {
	ev, d := miniCall(0, addrAlice6, addrPBX6, "ipv6-ext-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, addrAlice6, addrPBX6, d.CallID)}
	chains := [][]ExtHeader{
		{PadExt(ProtoHopByHop, 0)},
		{PadExt(ProtoHopByHop, 0), PadExt(ProtoDestOpts, 1)},
		{RoutingExt(4), PadExt(ProtoDestOpts, 0)},
		{PadExt(ProtoDestOpts, 0)},
	}
	var recs []Record
	for i, e := range ev {
		ip := IPv6(e.src.Addr(), e.dst.Addr(), ProtoUDP, UDPHeader(e.src, e.dst, e.payload), chains[i%len(chains)]...)
		recs = append(recs, Record{Time: e.t, Data: Ethernet(ip, e.src.Addr() == addrAlice6)})
		w.UDP++
	}
	countEvents(&w, ev)
	fillDialogs(&w, ev)
	w.Packets = len(recs)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "record i uses chain i%4: HBH; HBH+DestOpts(16B); Routing type 4 segments-left 0 + DestOpts; DestOpts"
	return Scenario{Name: "ipv6-ext-headers", File: "ipv6-ext-headers.pcap",
		Description: "IPv6 mini call whose packets carry Hop-by-Hop, Routing and Destination Options headers before UDP",
		Want:        w, data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

// fragCall: a large INVITE fragmented into 3 (fragments sent 1,3,2 for
// IPv4), then 200 and ACK whole.
func fragCall(v6 bool) Scenario {
	cl, sv := addrAlice, addrPBX
	name := "ipv4-frag-invite"
	if v6 {
		cl, sv, name = addrAlice6, addrPBX6, "ipv6-frag-invite"
	}
	var tl timeline
	a, p := alice(cl), pbx(sv)
	c := &call{id: name + "-0001@voiptool.test", a: a, b: p, domain: domain, transport: "UDP", aTag: "fr4g1", bTag: "fr4g2"}
	sdp := SDP{User: "alice", SessID: 77, Version: 77, Addr: cl, Port: 40000, RTCPPort: 40001, ExtraCodecs: true,
		Crypto: "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVzcyAoc2VuZGVyKQ=="}
	pad := make([]string, 0, 12)
	for i := range 12 {
		pad = append(pad, "X-Padding-"+string(rune('A'+i))+": the quick brown fox jumps over the lazy dog 0123456789")
	}
	inv := c.req("INVITE", true, false, 1, "i", sdp.Bytes(), pad...)
	tl.sip(at(0), a.sig, p.sig, inv)
	tl.sip(at(150), p.sig, a.sig, c.resp(inv, 200, "OK", c.bTag, SDP{User: "root", SessID: 78, Version: 78, Addr: sv, Port: 20000}.Bytes()))
	tl.sip(at(160), a.sig, p.sig, c.req("ACK", true, true, 1, "a", nil))
	ev := tl.sorted()
	w := Expect{Dialogs: []DialogExpect{{CallID: c.id, Method: "INVITE", FinalCode: 200, State: StateInCall, ToTags: 1}}}
	var recs []Record
	for i, e := range ev {
		ip := UDP(e.src, e.dst, uint16(0x2000+i), e.payload)
		if i != 0 {
			recs = append(recs, Record{Time: e.t, Data: Ethernet(ip, e.src.Addr() == cl)})
			continue
		}
		var frags [][]byte
		var err error
		// Fragment size: a third of the IP payload rounded up to 8.
		if v6 {
			size := ((len(ip)-ipv6HeaderLen)/3 + 8) &^ 7
			frags, err = FragmentIPv6(ip, size, 0xc0ffee01)
		} else {
			size := ((len(ip)-ipv4HeaderLen)/3 + 8) &^ 7
			frags, err = FragmentIPv4(ip, size)
		}
		if err != nil || len(frags) != 3 {
			panic("pcapgen: fragCall: want 3 fragments")
		}
		order := []int{0, 1, 2}
		if !v6 {
			order = []int{0, 2, 1} // one pair out of order
		}
		for k, j := range order {
			recs = append(recs, Record{Time: e.t.Add(timeUS(k * 50)), Data: Ethernet(frags[j], true)})
		}
		w.Fragments = 3
	}
	w.Packets = len(recs)
	w.UDP = len(recs)
	countEvents(&w, ev)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	desc := "INVITE with large SDP in 3 IPv4 fragments written 1,3,2 (out of order), then 200 OK and ACK unfragmented"
	w.Notes = "reassembled INVITE is one SIP message; the first fragment alone carries the UDP header"
	if v6 {
		desc = "INVITE with large SDP in 3 IPv6 fragments (Fragment header id 0xc0ffee01, in order), then 200 OK and ACK"
	}
	return Scenario{Name: name, File: name + ".pcap", Description: desc, Want: w,
		data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

func buildIPv4Frag() Scenario { return fragCall(false) }
func buildIPv6Frag() Scenario { return fragCall(true) }

// Tunnel endpoints.
var (
	tunA = netip.MustParseAddr("172.16.0.1")
	tunB = netip.MustParseAddr("172.16.0.2")
)

func tunnelScenario(name, desc string, wrap func(i int, ip []byte, out bool) []byte) Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, name+"-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, addrAlice, addrPBX, name+"-0001@voiptool.test")}
	var recs []Record
	for i, e := range ev {
		ip := UDP(e.src, e.dst, uint16(0x3000+i), e.payload)
		recs = append(recs, Record{Time: e.t, Data: Ethernet(wrap(i, ip, e.src.Addr() == addrAlice), true)})
	}
	w.UDP = len(recs)
	w.Packets = len(recs)
	countEvents(&w, ev)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	return Scenario{Name: name, File: name + ".pcap", Description: desc, Want: w,
		data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

func buildTunnelIPIP() Scenario {
	return tunnelScenario("tunnels-ipip", "mini call inside IPv4-in-IPv4 (protocol 4) between 172.16.0.1 and 172.16.0.2",
		func(i int, ip []byte, _ bool) []byte { return IPIP(tunA, tunB, uint16(0x4000+i), ip) })
}

func buildTunnelGRE() Scenario {
	return tunnelScenario("tunnels-gre", "mini call inside GRE (RFC 2784, protocol type 0x0800)",
		func(i int, ip []byte, _ bool) []byte { return GRE(tunA, tunB, uint16(0x4000+i), EtherTypeIPv4, ip) })
}

func buildTunnelERSPAN2() Scenario {
	return tunnelScenario("tunnels-erspan2", "mini call mirrored with ERSPAN type II (GRE 0x88be, session 42, inner Ethernet)",
		func(i int, ip []byte, out bool) []byte {
			return ERSPAN2(tunA, tunB, uint16(0x4000+i), uint32(i), 42, Ethernet(ip, out))
		})
}

func buildTunnelERSPAN3() Scenario {
	return tunnelScenario("tunnels-erspan3", "mini call mirrored with ERSPAN type III (GRE 0x22eb, 12-byte header, no subheader, inner Ethernet)",
		func(i int, ip []byte, out bool) []byte {
			return ERSPAN3(tunA, tunB, uint16(0x4000+i), uint32(i), 43, uint32(i*1000), Ethernet(ip, out))
		})
}

func buildTunnelVXLAN() Scenario {
	s := tunnelScenario("tunnels-vxlan", "mini call inside VXLAN (UDP 4789, VNI 5001, inner Ethernet)",
		func(i int, ip []byte, out bool) []byte {
			return VXLAN(netip.AddrPortFrom(tunA, 49152+uint16(i)), netip.AddrPortFrom(tunB, VXLANPort), uint16(0x4000+i), 5001, Ethernet(ip, out))
		})
	s.Want.Notes = "outer UDP to 4789 is the carrier; UDP counts the inner datagrams"
	return s
}

func buildHEP() Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, "hep3-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}}
	agent := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.50"), 47000)
	collector := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.60"), HEPPort)
	var recs []Record
	var sipEv []event
	for i, e := range ev {
		if e.kind != kindSIP {
			continue // only SIP is mirrored to the collector
		}
		sipEv = append(sipEv, e)
		h := HEP3(e.src, e.dst, ProtoUDP, e.t, HEPProtoSIP, 2001, e.payload)
		ip := UDP(agent, collector, uint16(0x5000+i), h)
		recs = append(recs, Record{Time: e.t.Add(timeUS(300)), Data: Ethernet(ip, true)})
	}
	w.HEP = len(recs)
	w.UDP = len(recs)
	w.Packets = len(recs)
	countEvents(&w, sipEv)
	fillDialogs(&w, sipEv)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "HEP agent 10.0.0.50:47000 -> collector 10.0.0.60:9060, capture id 2001; inner 192.168.1.10:5060<->10.0.0.1:5060; HEP time = inner time, record time +300 µs"
	return Scenario{Name: "hep3-in-udp", File: "hep3-in-udp.pcap",
		Description: "HEPv3 packets on UDP 9060 carrying the 5 SIP messages of a mini call", Want: w,
		data: pcapBytes(layers.LinkTypeEthernet, recs), sipFrames: w.SIP}
}

func buildPcapNano() Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, "nano-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}}
	recs := encodeUDP(ev, addrAlice, ethLink, &w)
	for i := range recs {
		recs[i].Time = recs[i].Time.Add(timeNS(123456789 % 1000 * (i + 1))) // sub-µs parts prove ns precision
	}
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "record i is at its µs time + 789*(i+1) ns; magic 0xa1b23c4d"
	var buf bytes.Buffer
	_ = WritePcap(&buf, layers.LinkTypeEthernet, true, recs)
	return Scenario{Name: "pcap-nanosecond", File: "pcap-nanosecond.pcap", Description: "mini call in a nanosecond-resolution pcap",
		Want: w, data: buf.Bytes(), sipFrames: w.SIP}
}

func buildPcapBigEndian() Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, "bigendian-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, addrAlice, addrPBX, d.CallID)}
	recs := encodeUDP(ev, addrAlice, ethLink, &w)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	var buf bytes.Buffer
	_ = WritePcapBigEndian(&buf, layers.LinkTypeEthernet, recs)
	return Scenario{Name: "pcap-bigendian", File: "pcap-bigendian.pcap", Description: "mini call in a big-endian µs pcap (magic a1 b2 c3 d4 on disk)",
		Want: w, data: buf.Bytes(), sipFrames: w.SIP}
}

func buildPcapngTwoIfaces() Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, "ng2if-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, addrAlice, addrPBX, d.CallID)}
	recs := encodeUDP(ev, addrAlice, ethLink, &w)
	// Odd records are re-framed as SLL on interface 1; record 3 (the
	// first RTP packet) becomes an SPB, which implies interface 0.
	spb := map[int]bool{3: true}
	for i := range recs {
		if i%2 == 1 && !spb[i] {
			e := ev[i]
			recs[i].Data = SLL(UDP(e.src, e.dst, uint16(0x1000+i+1), e.payload), SLLHost)
			recs[i].Iface = 1
		}
	}
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "IDB 0 Ethernet eth0, IDB 1 Linux SLL any; odd records on interface 1 except record 3 which is an SPB (interface 0, no timestamp)"
	var buf bytes.Buffer
	if err := WritePcapng(&buf, []NgSection{{
		Interfaces: []NgInterface{{Link: layers.LinkTypeEthernet, Name: "eth0"}, {Link: layers.LinkTypeLinuxSLL, Name: "any"}},
		Records:    recs, SPB: spb}}); err != nil {
		panic(err)
	}
	return Scenario{Name: "pcapng-two-interfaces", File: "pcapng-two-interfaces.pcapng",
		Description: "pcapng, one section, Ethernet + SLL interfaces, EPBs and one SPB", Want: w, data: buf.Bytes(), sipFrames: w.SIP}
}

func buildPcapngTsresol() Scenario {
	ev, d := miniCall(0, addrAlice, addrPBX, "ngres-0001@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d}, Streams: miniStreams(0, addrAlice, addrPBX, d.CallID)}
	recs := encodeUDP(ev, addrAlice, ethLink, &w)
	fillDialogs(&w, ev)
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "explicit if_tsresol=6 (µs)"
	var buf bytes.Buffer
	_ = WritePcapng(&buf, []NgSection{{Interfaces: []NgInterface{{Link: layers.LinkTypeEthernet, Name: "eth0", TSResol: 6}}, Records: recs}})
	return Scenario{Name: "pcapng-tsresol-us", File: "pcapng-tsresol-us.pcapng",
		Description: "pcapng with if_tsresol=6 (microseconds) on its Ethernet interface", Want: w, data: buf.Bytes(), sipFrames: w.SIP}
}

func buildPcapngTwoSections() Scenario {
	ev1, d1 := miniCall(0, addrAlice, addrPBX, "ngsec-0001@voiptool.test", "UDP")
	ev2, d2 := miniCall(1000, addrAlice, addrPBX, "ngsec-0002@voiptool.test", "UDP")
	w := Expect{Dialogs: []DialogExpect{d1, d2}, Streams: append(miniStreams(0, addrAlice, addrPBX, d1.CallID), miniStreams(1000, addrAlice, addrPBX, d2.CallID)...)}
	r1 := encodeUDP(ev1, addrAlice, ethLink, &w)
	r2 := encodeUDP(ev2, addrAlice, func(ip []byte, _ bool) []byte { return ip }, &w)
	w.Packets = len(r1) + len(r2)
	fillDialogs(&w, append(ev1, ev2...))
	w.LinkType = uint32(layers.LinkTypeEthernet)
	w.Notes = "section 1: Ethernet, if_tsresol 9 (ns); section 2: raw IP (101), if_tsresol 0x8a (2^-10 s, timestamps rounded down to 1/1024 s)"
	var buf bytes.Buffer
	_ = WritePcapng(&buf, []NgSection{
		{Interfaces: []NgInterface{{Link: layers.LinkTypeEthernet, Name: "eth0", TSResol: 9}}, Records: r1},
		{Interfaces: []NgInterface{{Link: layers.LinkTypeRaw, Name: "tun0", TSResol: 0x8a}}, Records: r2},
	})
	return Scenario{Name: "pcapng-two-sections", File: "pcapng-two-sections.pcapng",
		Description: "pcapng with two sections (SHB each): Ethernet/ns then raw IP/2^-10 s, one mini call each", Want: w, data: buf.Bytes(), sipFrames: w.SIP}
}

func buildGzip() Scenario {
	s := buildBasicCall()
	z, err := Gzip(s.data)
	if err != nil {
		panic(err)
	}
	s.Name, s.File, s.data = "gzip-basic", "gzip-basic.pcap.gz", z
	s.Description = "basic-call.pcap compressed with gzip (no name, mtime 0)"
	return s
}

func buildTruncated() Scenario {
	s := buildBasicCall()
	// Cut in the middle of record 100's data: 100 complete records remain.
	const keep = 100
	off := 24
	for range keep {
		off += 16 + int(binary.LittleEndian.Uint32(s.data[off+8:]))
	}
	cut := off + 16 + 40
	s.data = s.data[:cut]
	w := Expect{LinkType: s.Want.LinkType, Packets: keep, ReadErr: true,
		Notes: "basic-call.pcap cut 40 bytes into the data of record 101 (offset " + itoa(off) + "); counts other than Packets are not given"}
	s.Name, s.File, s.Want = "truncated", "truncated.pcap", w
	s.Description = "basic-call.pcap cut in the middle of a record"
	s.sipFrames = -1
	return s
}

func buildGarbage() Scenario {
	b := []byte("This is not a capture file. It exists so that readers are tested on garbage input.\n")
	for i := range 256 {
		b = append(b, byte(i*37+11))
	}
	return Scenario{Name: "garbage-not-pcap", File: "garbage-not-pcap.bin", Description: "text and bytes that are neither pcap nor pcapng",
		Want: Expect{ReadErr: true, Notes: "readers must fail with an unknown-format error and no packets"}, data: b, sipFrames: -1}
}
