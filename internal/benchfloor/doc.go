// Package benchfloor is the bare decode floor the performance goals are
// measured against (issue 17): it reads a capture file with package pcap
// and decodes each record with a bare gopacket DecodingLayerParser
// (Ethernet/IPv4/IPv6/UDP/TCP), classifying and keeping nothing. A
// voiptool command's cost beyond it is its analysis. bench/floor runs it
// as a command for bench/compare.sh; cmd/voiptool's benchmarks
// interleave it with the commands they time.
//
//	n, err := benchfloor.DecodeFile("big.pcap")
package benchfloor
