package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/tuiadapter"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
	"github.com/voiptool/voiptool/tui"
)

type listenOptions struct {
	io      *ioStreams
	addrs   []string
	authKey string
	write   string
	noUI    bool
	dedup   time.Duration
	tls     heptransport.TLSFiles
	quiet   bool
}

func newCmdListen(ios *ioStreams, runF func(*listenOptions) error) *cobra.Command {
	opts := &listenOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "listen ADDR...",
		Short: "Act as a HEP collector: receive HEP v1/v2/v3 and show the calls",
		Long: `Receive HEP (v1, v2 and v3) from capture agents (heplify, sngrep, Kamailio,
OpenSIPS, voiptool hep-forward) on udp:HOST:PORT, tcp:HOST:PORT and
tls:HOST:PORT, and feed what arrives into the same call list, ladders and
statistics as a capture. The same message arriving from several agents within
--dedup-window is kept once (and counted).

With -w FILE every SIP message is also written to a pcap as a synthetic
Ethernet/IP/UDP (or TCP) frame with the original addresses and times, so it
can be opened later by voiptool, tshark or sngrep. --no-ui prints one line per
message instead of starting the interactive UI; Ctrl-C stops.`,
		Example: `  voiptool listen udp:0.0.0.0:9060
  voiptool listen udp:0.0.0.0:9060 tcp:0.0.0.0:9061 --auth-key secret -w hep.pcap --no-ui`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.addrs = append(opts.addrs, args...)
			if len(opts.addrs) == 0 {
				return usageErrorf("listen: no address given (e.g. udp:0.0.0.0:9060)")
			}
			for _, a := range opts.addrs {
				if _, err := heptransport.ParseAddr(a); err != nil {
					return usageErrorf("listen: %v", err)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return listenRun(c.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.authKey, "auth-key", "", "accept only packets with this authentication `KEY`")
	f.StringVarP(&opts.write, "write", "w", "", "also write the received SIP to the pcap `FILE`")
	f.BoolVar(&opts.noUI, "no-ui", false, "print one line per message instead of the interactive UI")
	f.DurationVar(&opts.dedup, "dedup-window", 2*time.Second, "drop copies of a message received again within this `DURATION` (0: never)")
	f.StringVar(&opts.tls.CertFile, "cert", "", "server certificate `FILE` for tls: addresses")
	f.StringVar(&opts.tls.KeyFile, "key", "", "server key `FILE` for tls: addresses")
	f.StringVar(&opts.tls.CAFile, "ca", "", "CA `FILE` to require and verify client certificates")
	f.BoolVarP(&opts.quiet, "quiet", "q", false, "do not print the summary on stderr")
	return cmd
}

// pcapSink writes received SIP as synthetic frames. Only the listener's
// dispatcher goroutine calls write.
type pcapSink struct {
	f   *os.File
	w   *pcap.Writer
	buf gopacket.SerializeBuffer
	n   int
	bad int // packets that could not be framed (no addresses, say)
	// seq is the next TCP sequence number per direction, so a reader
	// sees a stream, not the same segment again and again.
	seq map[[2]netip.AddrPort]uint32
}

func newPcapSink(path string) (*pcapSink, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w, err := pcap.NewWriter(f, pcap.WriterOptions{LinkType: pcap.LinkTypeEthernet, Nanosecond: false})
	if err != nil {
		f.Close()
		return nil, err
	}
	return &pcapSink{f: f, w: w, buf: gopacket.NewSerializeBuffer(), seq: map[[2]netip.AddrPort]uint32{}}, nil
}

// write frames one SIP payload: Ethernet (zero MACs), IPv4 or IPv6, and
// UDP or TCP as the HEP packet's IP protocol says.
func (s *pcapSink) write(p *hep.Packet, payload []byte, t time.Time) error {
	src, dst := p.Src.Addr().Unmap(), p.Dst.Addr().Unmap()
	if !src.IsValid() || !dst.IsValid() {
		s.bad++ // an agent that sent no address chunks: nothing to frame
		return nil
	}
	if src.Is4() != dst.Is4() {
		// Mixed families: carry both as IPv6 (IPv4-mapped).
		src, dst = netip.AddrFrom16(src.As16()), netip.AddrFrom16(dst.As16())
	}
	eth := &layers.Ethernet{SrcMAC: make([]byte, 6), DstMAC: make([]byte, 6), EthernetType: layers.EthernetTypeIPv4}
	var ip gopacket.SerializableLayer
	var netLayer gopacket.NetworkLayer
	proto := layers.IPProtocolUDP
	if p.Protocol == 6 {
		proto = layers.IPProtocolTCP
	}
	if src.Is4() && dst.Is4() {
		v4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		ip, netLayer = v4, v4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		v6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
		ip, netLayer = v6, v6
	}
	var l4 gopacket.SerializableLayer
	if proto == layers.IPProtocolTCP {
		k := [2]netip.AddrPort{p.Src, p.Dst}
		seq := s.seq[k]
		s.seq[k] = seq + uint32(len(payload))
		tcp := &layers.TCP{SrcPort: layers.TCPPort(p.Src.Port()), DstPort: layers.TCPPort(p.Dst.Port()), Seq: seq, PSH: true, ACK: true, Window: 65535}
		tcp.SetNetworkLayerForChecksum(netLayer)
		l4 = tcp
	} else {
		udp := &layers.UDP{SrcPort: layers.UDPPort(p.Src.Port()), DstPort: layers.UDPPort(p.Dst.Port())}
		udp.SetNetworkLayerForChecksum(netLayer)
		l4 = udp
	}
	if err := gopacket.SerializeLayers(s.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, l4, gopacket.Payload(payload)); err != nil {
		s.bad++ // this packet only; the file goes on
		return nil
	}
	data := s.buf.Bytes()
	s.n++
	return s.w.WritePacket(pcap.Packet{Timestamp: t, CaptureLength: len(data), Length: len(data)}, data)
}

func (s *pcapSink) Close() error {
	if err := s.w.Flush(); err != nil {
		s.f.Close()
		return err
	}
	return s.f.Close()
}

func listenRun(ctx context.Context, o *listenOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	dedup := o.dedup
	if dedup == 0 {
		dedup = -1 // the flag's 0 means off; the listener's 0 means default
	}
	l, err := heptransport.NewListener(o.addrs, heptransport.ListenOptions{AuthKey: o.authKey, DedupWindow: dedup, TLS: o.tls})
	if err != nil {
		return err
	}
	defer l.Close()
	var sink *pcapSink
	if o.write != "" {
		if sink, err = newPcapSink(o.write); err != nil {
			return err
		}
	}
	e := engine.New(engine.Options{})
	var sinkErr error
	var inflate []byte
	var msg sipflow.Message
	frame := 0
	handle := func(p *hep.Packet, peer netip.AddrPort) {
		frame++ // the n-th packet received stands in for a frame number
		e.AddHEP(p, 0, pcap.Packet{Number: frame, Offset: -1}, time.Now())
		if p.ProtoType != hep.ProtoSIP {
			return
		}
		payload := p.Payload
		if p.Compressed {
			out, err := p.Decompress(inflate[:0])
			if err != nil {
				return
			}
			inflate, payload = out, out
		}
		t := p.Time
		if t.IsZero() {
			t = time.Now()
		}
		if sink != nil && sinkErr == nil {
			sinkErr = sink.write(p, payload, t)
		}
		if o.noUI {
			first := payload
			if i := bytes.IndexByte(first, '\n'); i >= 0 {
				first = first[:i]
			}
			call := ""
			if msg.Unmarshal(payload) == nil {
				call = string(msg.CallID)
			}
			fmt.Fprintf(o.io.Out, "%s %s -> %s (from %s) %s  %s\n", t.UTC().Format("2006-01-02 15:04:05.000000"),
				p.Src, p.Dst, peer, strings.TrimSpace(string(first)), call)
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var lisErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		lisErr = l.Run(runCtx, handle)
		cancel() // a collector that stopped ends the command, UI or not
	}()
	if o.noUI || !o.io.OutTTY {
		<-runCtx.Done()
	} else {
		view := tuiadapter.New(e, nil, true, nil, 0)
		if err := tui.Run(runCtx, view, tui.Options{Autoscroll: true}); err != nil {
			cancel()
			wg.Wait()
			return err
		}
	}
	cancel()
	wg.Wait()
	if sink != nil {
		if err := sink.Close(); err != nil && sinkErr == nil {
			sinkErr = err
		}
	}
	st := l.Stats()
	if !o.quiet {
		fmt.Fprintf(o.io.ErrOut, "voiptool: received %d, delivered %d, bad %d, auth failures %d, duplicates %d, keep-alives %d, overruns %d\n",
			st.Received, st.Delivered, st.Bad, st.AuthFailures, st.Duplicates, st.Pings, st.Overruns)
		if sink != nil {
			fmt.Fprintf(o.io.ErrOut, "voiptool: wrote %d SIP messages to %s", sink.n, o.write)
			if sink.bad > 0 {
				fmt.Fprintf(o.io.ErrOut, " (%d could not be framed: no or bad addresses)", sink.bad)
			}
			fmt.Fprintln(o.io.ErrOut)
		}
	}
	if sinkErr != nil {
		return fmt.Errorf("listen: -w %s: %w", o.write, sinkErr)
	}
	if lisErr != nil && !errors.Is(lisErr, context.Canceled) {
		return lisErr
	}
	return nil
}

// callIDOf returns the Call-ID of a raw SIP message, or "".
func callIDOf(raw []byte) string {
	var m sipflow.Message
	if m.Unmarshal(raw) != nil {
		return ""
	}
	return string(m.CallID)
}
