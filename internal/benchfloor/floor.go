package benchfloor

import (
	"errors"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/pcap"
)

// Result is what the floor saw: enough to prove the decode ran.
type Result struct {
	Records int // records read
	Payload int // UDP and TCP payload bytes decoded
}

// DecodeFile reads every record of the capture at path and decodes it.
func DecodeFile(path string) (Result, error) {
	rd, err := pcap.Open(path)
	if err != nil {
		return Result{}, err
	}
	defer rd.Close()
	var (
		res     Result
		eth     layers.Ethernet
		ip4     layers.IPv4
		ip6     layers.IPv6
		udp     layers.UDP
		tcp     layers.TCP
		decoded = make([]gopacket.LayerType, 0, 8)
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &udp, &tcp)
	p.IgnoreUnsupported = true
	for {
		data, _, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		if err != nil {
			return res, err
		}
		res.Records++
		// An unsupported layer ends the walk: the floor does not care why.
		_ = p.DecodeLayers(data, &decoded)
		for _, t := range decoded {
			switch t {
			case layers.LayerTypeUDP:
				res.Payload += len(udp.Payload)
			case layers.LayerTypeTCP:
				res.Payload += len(tcp.Payload)
			}
		}
	}
}
