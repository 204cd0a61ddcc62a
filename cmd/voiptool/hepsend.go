package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/hep/heptransport"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/sipflow"
)

// hepSendOptions are the flags of a HEP sender, shared by hep-forward
// (bare names: --to, --capture-id) and open (--hep-to, --hep-capture-id),
// so both forward with the same features.
type hepSendOptions struct {
	to          []string
	captureID   uint32
	authKey     string
	nodeName    string
	version     int
	compress    bool
	correlation bool
	protos      []string
	restamp     bool
	queue       int
	spool       string
	tls         heptransport.TLSFiles
	flushWait   time.Duration
}

// addFlags registers the flags, each name prefixed (unless it already
// starts with "hep-").
func (o *hepSendOptions) addFlags(f *pflag.FlagSet, prefix string) {
	name := func(base string) string {
		if strings.HasPrefix(base, "hep-") {
			return base
		}
		return prefix + base
	}
	f.StringArrayVar(&o.to, name("to"), nil, "HEP collector `TARGET` (udp:HOST:PORT, tcp:HOST:PORT, tls:HOST:PORT); repeatable")
	f.Uint32Var(&o.captureID, name("capture-id"), 0, "capture agent `ID` (HEP chunk 0x000c)")
	f.StringVar(&o.authKey, name("auth-key"), "", "authentication `KEY` (HEP chunk 0x000e)")
	f.StringVar(&o.nodeName, name("node-name"), "", "node `NAME` (HEP chunk 0x0013)")
	f.IntVar(&o.version, name("hep-version"), 3, "HEP `VERSION`: 3, or 2 for old collectors")
	f.BoolVar(&o.compress, name("compress"), false, "send payloads compressed (HEP3 chunk 0x0010)")
	f.BoolVar(&o.correlation, name("correlation"), false, "send the related leg's Call-ID as correlation id on SIP (and the call's Call-ID on RTCP, always)")
	f.StringSliceVar(&o.protos, name("proto"), []string{"sip"}, "what to send: sip, rtcp")
	f.BoolVar(&o.restamp, name("restamp"), false, "stamp packets with the sending time instead of the capture time")
	f.IntVar(&o.queue, name("queue"), 0, "per-target queue length in packets (0: 10000)")
	f.StringVar(&o.spool, name("spool"), "", "spool to `DIR` when a target is down or its queue is full")
	f.StringVar(&o.tls.CAFile, name("ca"), "", "CA `FILE` to verify tls: collectors")
	f.StringVar(&o.tls.CertFile, name("cert"), "", "client certificate `FILE` for tls:")
	f.StringVar(&o.tls.KeyFile, name("key"), "", "client key `FILE` for tls:")
	f.BoolVar(&o.tls.Insecure, name("insecure"), false, "do not verify the collector's TLS certificate")
	f.DurationVar(&o.flushWait, name("flush-timeout"), sink.DefaultFlushTimeout, "how long to wait at the end for queued packets to go out and be acknowledged (TCP/TLS); what is left is saved to the spool, or counted")
}

// validate checks what the flags cannot; cmd and flag name the command
// and the target flag in messages.
func (o *hepSendOptions) validate(cmd, toFlag string) error {
	for _, t := range o.to {
		if _, err := heptransport.ParseAddr(t); err != nil {
			return usageErrorf("%s: %s: %v", cmd, toFlag, err)
		}
	}
	if o.version != 2 && o.version != 3 {
		return usageErrorf("%s: --hep-version must be 2 or 3", cmd)
	}
	if o.version == 2 && o.compress {
		return usageErrorf("%s: --compress needs HEP version 3 (v2 has no compressed payload)", cmd)
	}
	for _, p := range o.protos {
		if p != "sip" && p != "rtcp" {
			return usageErrorf("%s: unknown --proto %q (want sip, rtcp)", cmd, p)
		}
	}
	return nil
}

// sinkOptions are the HEP sink's options; store names the calls for
// correlation ids.
func (o *hepSendOptions) sinkOptions(store *sipflow.Store) sink.HEPOptions {
	ho := sink.HEPOptions{
		Sender: heptransport.SenderOptions{
			To: o.to, Version: uint8(o.version), Compress: o.compress,
			AuthKey: o.authKey, CaptureID: o.captureID, NodeName: o.nodeName,
			QueueSize: o.queue, SpoolDir: o.spool, TLS: o.tls,
		},
		Kinds: []capture.Kind{}, Store: store, CorrelateLegs: o.correlation,
		Restamp: o.restamp, FlushTimeout: o.flushWait,
	}
	for _, p := range o.protos {
		switch p {
		case "sip":
			ho.Kinds = append(ho.Kinds, capture.KindSIP)
		case "rtcp":
			ho.Kinds = append(ho.Kinds, capture.KindRTCP)
		}
	}
	return ho
}

// writeHEPTargets prints the sink's counters and each collector's.
func writeHEPTargets(ios *ioStreams, h *sink.HEP) {
	c := h.Counts()
	fmt.Fprintf(ios.ErrOut, "voiptool: %d packets handed to the sender, %d not sendable\n", c.Written, c.Failed)
	for _, t := range h.Targets() {
		fmt.Fprintf(ios.ErrOut, "voiptool: %s: sent %d (%d bytes), queued %d, spooled %d, dropped %d, reconnects %d",
			t.Target, t.Sent, t.SentBytes, t.Queued, t.Spooled, t.Dropped, t.Reconnects)
		if t.Resent > 0 {
			fmt.Fprintf(ios.ErrOut, ", resent %d", t.Resent)
		}
		if t.Unacked > 0 {
			fmt.Fprintf(ios.ErrOut, ", not acknowledged yet %d", t.Unacked)
		}
		if t.SavedAtExit > 0 {
			fmt.Fprintf(ios.ErrOut, ", saved to the spool at exit %d (the next run with this --spool sends them)", t.SavedAtExit)
		}
		if t.Unconfirmed > 0 {
			fmt.Fprintf(ios.ErrOut, ", unacknowledged at exit %d (delivery unknown)", t.Unconfirmed)
		}
		if t.UnsentAtExit > 0 {
			fmt.Fprintf(ios.ErrOut, ", never sent at exit %d (lost)", t.UnsentAtExit)
		}
		if t.SpoolBytes > 0 {
			fmt.Fprintf(ios.ErrOut, ", %d bytes left in the spool", t.SpoolBytes)
		}
		if t.LostUDP > 0 {
			fmt.Fprintf(ios.ErrOut, ", lost on UDP %d", t.LostUDP)
		}
		if strings.HasPrefix(t.Target, "udp:") {
			fmt.Fprint(ios.ErrOut, " (UDP: delivery unknown)")
		}
		if t.LastError != "" {
			fmt.Fprintf(ios.ErrOut, ", last error: %q", t.LastError)
		}
		fmt.Fprintln(ios.ErrOut)
	}
}
