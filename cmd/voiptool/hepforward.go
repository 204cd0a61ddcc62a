package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/engine"
)

type hepForwardOptions struct {
	io          *ioStreams
	in          loadOptions
	ifaces      []string
	to          []string
	captureID   uint32
	authKey     string
	nodeName    string
	version     int
	compress    bool
	correlation bool
	protos      []string
	speed       string
	restamp     bool
	queue       int
	spool       string
	tls         heptransport.TLSFiles
	flushWait   time.Duration
}

func newCmdHEPForward(ios *ioStreams, runF func(*hepForwardOptions) error) *cobra.Command {
	opts := &hepForwardOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "hep-forward [FILE...] --to udp:HOST:9060",
		Short: "Send the SIP (and RTCP) of captures or interfaces to HEP collectors such as HOMER",
		Long: `Decode captures (or live interfaces with -i) and send every SIP message, and
optionally every RTCP report as HOMER's RTCP-JSON (HEP type 5), to one or more
HEP collectors: a lightweight heplify replacement.

Targets are udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT, several at once.
TCP and TLS reconnect with backoff when the collector restarts; packets wait in
a bounded queue per target (and in --spool when given). Nothing is lost
silently: sent, queued, spooled and dropped counts are printed at the end.

--speed paces the sending: "max" (as fast as possible, the default for files),
"1" (original timing), or any factor like "10" (ten times faster). --restamp
sends the time of sending instead of the capture time.`,
		Example: `  voiptool hep-forward call.pcap --to udp:homer.example.com:9060
  voiptool hep-forward -i any --to tcp:10.0.0.5:9061 --capture-id 2001 --auth-key secret
  voiptool hep-forward day.pcap.gz --to udp:127.0.0.1:9060 --speed 1 --restamp --proto sip,rtcp`,
		RunE: func(c *cobra.Command, args []string) error {
			opts.in.files = append(opts.in.files, args...)
			if len(opts.in.files) == 0 && len(opts.ifaces) == 0 {
				return usageErrorf("hep-forward: no capture file or interface given")
			}
			if len(opts.to) == 0 {
				return usageErrorf("hep-forward: --to is required (udp:HOST:PORT, tcp:..., tls:...)")
			}
			for _, t := range opts.to {
				if _, err := heptransport.ParseAddr(t); err != nil {
					return usageErrorf("hep-forward: --to: %v", err)
				}
			}
			if opts.version != 2 && opts.version != 3 {
				return usageErrorf("hep-forward: --hep-version must be 2 or 3")
			}
			if opts.version == 2 && opts.compress {
				return usageErrorf("hep-forward: --compress needs HEP version 3 (v2 has no compressed payload)")
			}
			if _, err := parseSpeed(opts.speed); err != nil {
				return usageErrorf("hep-forward: %v", err)
			}
			for _, p := range opts.protos {
				if p != "sip" && p != "rtcp" {
					return usageErrorf("hep-forward: unknown --proto %q (want sip, rtcp)", p)
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return hepForwardRun(c.Context(), opts)
		},
	}
	opts.in.addInputFlags(cmd)
	f := cmd.Flags()
	f.StringArrayVarP(&opts.ifaces, "interface", "i", nil, "capture live on `IFACE` (\"any\" for all); repeatable")
	f.StringArrayVar(&opts.to, "to", nil, "collector `TARGET` (udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT); repeatable")
	f.Uint32Var(&opts.captureID, "capture-id", 0, "capture agent `ID` (HEP chunk 0x000c)")
	f.StringVar(&opts.authKey, "auth-key", "", "authentication `KEY` (HEP chunk 0x000e)")
	f.StringVar(&opts.nodeName, "node-name", "", "node `NAME` (HEP chunk 0x0013)")
	f.IntVar(&opts.version, "hep-version", 3, "HEP `VERSION`: 3, or 2 for old collectors")
	f.BoolVar(&opts.compress, "compress", false, "send payloads compressed (HEP3 chunk 0x0010)")
	f.BoolVar(&opts.correlation, "correlation", false, "send the related leg's Call-ID as correlation id on SIP (and the call's Call-ID on RTCP, always)")
	f.StringSliceVar(&opts.protos, "proto", []string{"sip"}, "what to send: sip, rtcp")
	f.StringVar(&opts.speed, "speed", "max", "pacing: max, 1 (original timing) or a factor such as 10")
	f.BoolVar(&opts.restamp, "restamp", false, "stamp packets with the sending time instead of the capture time")
	f.IntVar(&opts.queue, "queue", 0, "per-target queue length in packets (0: 10000)")
	f.StringVar(&opts.spool, "spool", "", "spool to `DIR` when a target is down or its queue is full")
	f.StringVar(&opts.tls.CAFile, "ca", "", "CA `FILE` to verify tls: collectors")
	f.StringVar(&opts.tls.CertFile, "cert", "", "client certificate `FILE` for tls:")
	f.StringVar(&opts.tls.KeyFile, "key", "", "client key `FILE` for tls:")
	f.BoolVar(&opts.tls.Insecure, "insecure", false, "do not verify the collector's TLS certificate")
	f.DurationVar(&opts.flushWait, "flush-timeout", 10*time.Second, "how long to wait at the end for queued packets to go out")
	return cmd
}

// parseSpeed reads --speed: 0 means as fast as possible.
func parseSpeed(s string) (float64, error) {
	if s == "max" || s == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "x"), 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("bad --speed %q (want max, 1, or a positive factor)", s)
	}
	return v, nil
}

// ipProto maps our transport to the IP protocol number HEP carries.
func ipProto(t capture.Transport) uint8 {
	switch t {
	case capture.TransportTCP, capture.TransportWS, capture.TransportTLS, capture.TransportWSS:
		return 6
	case capture.TransportSCTP:
		return 132
	}
	return 17
}

func hepForwardRun(ctx context.Context, o *hepForwardOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	speed, _ := parseSpeed(o.speed)
	in, err := openSources(ctx, o.in.files, o.ifaces)
	if err != nil {
		return err
	}
	defer in.Close()
	snd, err := heptransport.NewSender(heptransport.SenderOptions{
		To: o.to, Version: uint8(o.version), Compress: o.compress,
		AuthKey: o.authKey, CaptureID: o.captureID, NodeName: o.nodeName,
		QueueSize: o.queue, SpoolDir: o.spool, TLS: o.tls,
	})
	if err != nil {
		return err
	}

	sendCtx, cancelSend := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var sendErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sendErr = snd.Run(sendCtx)
	}()
	defer func() { cancelSend(); wg.Wait() }()

	want := map[string]bool{}
	for _, p := range o.protos {
		want[p] = true
	}
	// The engine learns which call owns which media endpoint (for the
	// RTCP correlation id) and which legs are related.
	eng := engine.New(engine.Options{})
	pacer := &heptransport.Pacer{Speed: speed}
	var sent, skipped int
	w := &warner{w: o.io.ErrOut}
	var sendFailed error
	copts := capture.Options{NoRTPHeuristic: o.in.noHeuristic}
	if copts.Stream.TLSKeys, err = in.tlsKeys(o.in.tlsKeylog); err != nil {
		return err
	}
	_, err = capture.Run(ctx, in.sources(), copts, w.warn, func(ev *capture.Event) error {
		// The engine only needs the signalling (call ids, SDP, legs);
		// measuring RTP here would be work nobody reads.
		if ev.Kind == capture.KindSIP || ev.Kind == capture.KindHEP {
			if err := eng.Handle(ev); err != nil {
				return err
			}
		}
		var p hep.Packet
		switch {
		case ev.Kind == capture.KindSIP && want["sip"]:
			p = heptransport.SIPPacket(ev.Payload, ev.Src, ev.Dst, ev.Time, ipProto(ev.Transport))
			if o.correlation {
				if id, ok := relatedLeg(eng, ev.Payload); ok {
					p.CorrelationID = []byte(id)
				}
			}
		case ev.Kind == capture.KindRTCP && want["rtcp"]:
			var err error
			p, err = heptransport.RTCPJSONPacket(ev.Payload, ev.Src, ev.Dst, ev.Time, []byte(mediaCall(eng, ev.Src, ev.Dst)))
			if err != nil {
				skipped++
				return nil
			}
		default:
			return nil
		}
		now, err := pacer.Wait(ctx, ev.Time)
		if err != nil {
			return err
		}
		if o.restamp {
			p.Time = now
		}
		if err := snd.Send(&p); err != nil {
			// A full queue is a counted drop (shown per target at the
			// end); anything else means the packet cannot be encoded.
			if !errors.Is(err, heptransport.ErrQueueFull) && sendFailed == nil {
				sendFailed = err
			}
			skipped++
			return nil
		}
		sent++
		return nil
	})
	w.finish()
	if err != nil && ctx.Err() == nil {
		return err
	}
	fctx, cancel := context.WithTimeout(context.Background(), o.flushWait)
	flushErr := snd.Flush(fctx)
	cancel()
	cancelSend()
	wg.Wait()
	if !o.in.quiet {
		fmt.Fprintf(o.io.ErrOut, "voiptool: %d packets handed to the sender, %d not sendable\n", sent, skipped)
		for _, t := range snd.Stats() {
			fmt.Fprintf(o.io.ErrOut, "voiptool: %s: sent %d (%d bytes), queued %d, spooled %d, dropped %d, reconnects %d",
				t.Target, t.Sent, t.SentBytes, t.Queued, t.Spooled, t.Dropped, t.Reconnects)
			if t.LostUDP > 0 {
				fmt.Fprintf(o.io.ErrOut, ", lost on UDP %d", t.LostUDP)
			}
			if t.LastError != "" {
				fmt.Fprintf(o.io.ErrOut, ", last error: %s", t.LastError)
			}
			fmt.Fprintln(o.io.ErrOut)
		}
	}
	if sendFailed != nil {
		return fmt.Errorf("hep-forward: %w", sendFailed)
	}
	if flushErr != nil {
		return fmt.Errorf("hep-forward: not everything was delivered: %w", flushErr)
	}
	if sendErr != nil && !errors.Is(sendErr, context.Canceled) {
		return sendErr
	}
	if in.packets() == 0 {
		return errNothingRead
	}
	return nil
}

// relatedLeg is the Call-ID of the first leg linked to the message's
// call, if the store linked one.
func relatedLeg(e *engine.Engine, raw []byte) (string, bool) {
	id := callIDOf(raw)
	if id == "" {
		return "", false
	}
	sum, ok := e.Store().Summary(id)
	if !ok || len(sum.Legs) == 0 {
		return "", false
	}
	return sum.Legs[0].CallID, true
}

// mediaCall is the Call-ID whose SDP announced either end of an RTCP
// flow (its RTCP port, or the RTP port below it).
func mediaCall(e *engine.Engine, src, dst netip.AddrPort) string {
	for _, ap := range []netip.AddrPort{dst, src} {
		if id, ok := e.Store().CallForMedia(ap); ok {
			return id
		}
		if ap.Port() > 0 {
			if id, ok := e.Store().CallForMedia(netip.AddrPortFrom(ap.Addr(), ap.Port()-1)); ok {
				return id
			}
		}
	}
	return ""
}
