// Package filter compiles tcpdump capture-filter expressions into classic
// BPF programs, in pure Go, for the link type of the capture: what
// libpcap's pcap_compile does, for the subset of its language used to
// capture VoIP on a busy server.
//
//	prog, err := filter.Compile("udp port 5060 or portrange 10000-20000", uint32(src.LinkType()), 65535)
//	if err != nil { return err } // e.g. filter: at offset 8 ("portrnge"): unknown primitive
//	tp.SetBPF(prog) // []bpf.RawInstruction, ready for SO_ATTACH_FILTER
//	if hint, ok := filter.FragmentWarning(expr); ok { warn(hint) }
//
// CompileInstructions returns the same program as x/net/bpf instructions
// (to read, or to run in bpf.NewVM). Accepted packets return the snap
// length (DefaultSnapLen when none is given), rejected ones 0; an empty
// expression accepts everything. TcpdumpName gives tcpdump's -y name of a
// supported link type. CompileLibpcap hands an expression to libpcap
// itself in builds with -tags libpcap and cgo (LibpcapAvailable), and
// returns ErrNoLibpcap in the default, pure-Go build. Errors are *SyntaxError values naming the
// offending token and its byte offset; test them with errors.Is against
// the sentinels (ErrUnknownPrimitive, ErrSyntax, ErrBadAddress, ...).
//
// Link types: Ethernet (1), Linux cooked v1 "any" (113) and v2 (276), raw
// IP (101, 12, 14) and raw IPv4/IPv6 (228/229). Others give ErrLinkType.
//
// Language, as tcpdump 4.99/libpcap 1.10 read it: host, net (N/len, N mask
// M, abbreviated "net 10"), port, portrange, each with src, dst, "src or
// dst", "src and dst", and the protocol qualifiers ip, ip6, arp, rarp
// (addresses) or tcp, udp, sctp (ports); proto N with ip/ip6; the
// protocols ip, ip6, tcp, udp, sctp, icmp, icmp6, igmp, arp, rarp; vlan
// [ID]; greater/less N; ether host/src/dst MAC, ether proto N (an
// EtherType), broadcast and multicast (Ethernet), ip/ip6 multicast; and, or, not (&&, ||, !) with parentheses, "and"
// and "or" of equal precedence, left to right; IDs that inherit the
// previous qualifiers ("port 5060 or 5061", "host (a or b)"); relations
// of arithmetic over proto[off:size] (ether, link, ip, ip6, arp, tcp, udp,
// sctp, icmp, igmp), len and numbers, with libpcap's named constants
// (tcpflags, tcp-syn, icmptype, ...). The semantics are libpcap's, down to
// its quirks, because a filter must select what tcpdump would: port tests
// skip IPv4 options (ldxb 4*([k]&0xf)) and match only the first IPv4
// fragment; IPv6 port tests read the header right after the fixed one
// (no extension-header walk), while "udp"/"tcp" also look behind one
// fragment header; "vlan" shifts the offsets of every primitive after it
// in the expression, whichever branch it is in; host/net without a
// protocol also match ARP and RARP. The tests compare our verdicts with
// tcpdump's own programs on every packet of the corpus.
//
// Not supported (ErrUnsupported): host names and most service names
// (only sip, sip-tls and domain are known), gateway, ip broadcast (it
// needs the interface's netmask), ether proto of an 802.3 length/LLC SAP,
// mpls, pppoe, geneve/vxlan, inbound/outbound, 802.11, ATM, protochain,
// and "icmp6[...]".
//
// Programs are laid out with short circuits in the expression's order,
// then optimised without changing any verdict, even on truncated
// packets: a test that every path to it has already decided becomes a
// jump, each jump is threaded past the tests that what is known on it
// decides, reloads of the value A holds and unreachable code are dropped
// (about 15% more instructions than tcpdump's optimiser leaves).
//
// Verdicts equal tcpdump's on every complete packet. On a packet too short
// for a header the expression reads, libpcap's optimiser may have removed
// a load whose value could not change the verdict, where our program still
// makes it and so rejects the packet; the kernel runs filters on whole
// packets, so only malformed ones can tell the difference.
//
// The kernel's VLAN offload is not modelled: on a live Ethernet socket the
// kernel usually takes the 802.1Q tag out of the frame (into auxdata)
// before the filter runs, so there "udp port 5060" matches tagged traffic
// too and "vlan" matches nothing; libpcap uses the kernel's VLAN ancillary
// loads there, which we do not emit (and x/net/bpf's VM cannot run).
//
// FragmentWarning tells when an expression filters on ports and so drops
// IP fragments after the first (SIP over UDP is often fragmented), with
// the widened expression WithFragments returns.
package filter
