package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/voiptool/voiptool/internal/anon"
	"github.com/voiptool/voiptool/internal/anon/leak"
	"github.com/voiptool/voiptool/pcap"
)

type anonymizeOptions struct {
	io           *ioStreams
	in, out      string
	key          string
	keyFile      string
	keepDomains  bool
	keepDigits   int
	keepBodies   bool
	keepUnparsed bool
	rtp          string
	mapFile      string
	noVerify     bool
	check        string // --check OUT: only verify OUT against --against IN
	against      string
}

func newCmdAnonymize(ios *ioStreams, runF func(*anonymizeOptions) error) *cobra.Command {
	opts := &anonymizeOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "anonymize IN OUT | --check OUT --against IN",
		Short: "Pseudonymise a capture for sharing, and prove nothing is left",
		Long: `Rewrite every identifier of a capture into a keyed pseudonym that is the same
everywhere it occurs, in every layer: MAC and IP addresses of every header
(tunnels included; prefix-preserving Crypto-PAn, family kept), SIP users,
numbers (same length, digits stay digits, + and 00 kept), domains (under
example.invalid), display names, Call-IDs, tags, branches, credentials, SDP
addresses, ICE and SRTP keys, RTCP SDES items. RTP payloads become silence
(--rtp), DTMF events are hidden, bodies that are not SDP are removed.

Records that carry no SIP, RTP or RTCP (ARP, DNS, TCP handshakes), or whose
payload spans several records, are not written: they are counted in the
summary. Then every byte of OUT is searched for every original identifier
in every encoding (text, escaped, E.164 forms, raw address bytes, arpa
names); any hit fails the command.

The same --key gives the same pseudonyms in every run, so captures can be
compared; without --key or --key-file a random key is used and forgotten.

--check OUT --against IN runs the leak check alone: every identifier of IN
searched in every byte of OUT (an output made by anything, or edited after).`,
		Example: `  voiptool anonymize call.pcap shared.pcap --key "$TEAM_SECRET"
  voiptool anonymize call.pcapng out.pcapng --key-file anon.key --keep-digits 3 --map map.tsv
  voiptool anonymize trace.pcap out.pcap --rtp drop --keep-domains
  voiptool anonymize --check shared.pcap --against call.pcap`,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.check != "" || opts.against != "" {
				if opts.check == "" || opts.against == "" || len(args) != 0 {
					return usageErrorf("anonymize: --check OUT needs --against IN and no other arguments")
				}
				if runF != nil {
					return runF(opts)
				}
				return anonymizeCheck(opts)
			}
			if len(args) != 2 {
				return usageErrorf("anonymize: want IN and OUT, got %d arguments", len(args))
			}
			opts.in, opts.out = args[0], args[1]
			if opts.key != "" && opts.keyFile != "" {
				return usageErrorf("anonymize: --key and --key-file exclude each other")
			}
			if opts.keepDigits < 0 {
				return usageErrorf("anonymize: --keep-digits %d is negative", opts.keepDigits)
			}
			if _, ok := anon.ParseRTPMode(opts.rtp); !ok {
				return usageErrorf("anonymize: unknown --rtp %q (silence, drop, keep)", opts.rtp)
			}
			if runF != nil {
				return runF(opts)
			}
			return anonymizeRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.key, "key", "", "derive the key from this `SECRET` (same key, same pseudonyms)")
	f.StringVar(&opts.keyFile, "key-file", "", "read the key from `FILE` (32 raw bytes or 64 hex digits)")
	f.BoolVar(&opts.keepDomains, "keep-domains", false, "keep domain names (addresses are still mapped)")
	f.IntVar(&opts.keepDigits, "keep-digits", 0, "keep the first `N` digits of every number")
	f.BoolVar(&opts.keepBodies, "keep-bodies", false, "keep bodies that are not SDP or multipart (text, XML) instead of removing them")
	f.BoolVar(&opts.keepUnparsed, "keep-unparsed", false, "write records with no SIP/RTP/RTCP/HEP in them (ARP, DNS, TCP handshakes, other UDP) as captured, NOT anonymised, instead of dropping them (the leak check then reports what they hold)")
	f.StringVar(&opts.rtp, "rtp", "silence", "RTP payloads: silence, drop or keep")
	f.StringVar(&opts.mapFile, "map", "", "write the pseudonym table to `FILE` (as personal as the capture)")
	f.BoolVar(&opts.noVerify, "no-verify", false, "skip the leak check of OUT")
	f.StringVar(&opts.check, "check", "", "only check `OUT` for leaks (with --against)")
	f.StringVar(&opts.against, "against", "", "the original capture `IN` whose identifiers --check searches for")
	return cmd
}

// anonymizeCheck collects every identifier of the original and searches
// every byte of the output for it; any hit is an error.
func anonymizeCheck(o *anonymizeOptions) error {
	key, err := anon.NewRandomKey() // the pseudonyms are not used, only what was seen
	if err != nil {
		return fmt.Errorf("anonymize: %w", err)
	}
	r, err := pcap.Open(o.against)
	if err != nil {
		return fmt.Errorf("anonymize: %w", err)
	}
	defer r.Close()
	m := anon.NewMapper(key, anon.Options{})
	if err := m.LearnCapture(r, anon.CaptureOptions{}); err != nil {
		return fmt.Errorf("anonymize: %s: %w", o.against, err)
	}
	rep, err := leak.ScanFile(o.check, leak.NewChecker(m.Identifiers()), 0)
	if err != nil {
		return fmt.Errorf("anonymize: %s: %w", o.check, err)
	}
	fmt.Fprintf(o.io.Out, "leak check: %d identifiers of %s searched in %d bytes of %s: %d found\n",
		m.Identifiers().Len(), o.against, rep.Bytes, o.check, len(rep.Hits)+rep.Missed)
	for i, h := range rep.Hits {
		if i == 20 {
			fmt.Fprintf(o.io.Out, "  ... %d more\n", len(rep.Hits)-20+rep.Missed)
			break
		}
		fmt.Fprintf(o.io.Out, "  record %d, file offset %d: %s (%s)\n", h.Frame, h.Offset, h.Category, h.Encoding)
	}
	if n := len(rep.Hits) + rep.Missed; n > 0 {
		return fmt.Errorf("anonymize: %d original identifiers found in %s; do not share it", n, o.check)
	}
	return nil
}

func anonymizeRun(o *anonymizeOptions) error {
	var key anon.Key
	var err error
	switch {
	case o.key != "":
		key, err = anon.KeyFromString(o.key)
	case o.keyFile != "":
		key, err = anon.KeyFromFile(o.keyFile)
	default:
		key, err = anon.NewRandomKey()
	}
	if err != nil {
		return fmt.Errorf("anonymize: %w", err)
	}
	mode, _ := anon.ParseRTPMode(o.rtp)
	res, err := anon.AnonymizeFile(o.in, o.out, key, anon.FileOptions{
		Options:      anon.Options{KeepDomains: o.keepDomains, KeepDigits: o.keepDigits, KeepBodies: o.keepBodies},
		RTP:          mode,
		MapPath:      o.mapFile,
		NoVerify:     o.noVerify,
		KeepUnparsed: o.keepUnparsed,
	})
	if res != nil {
		writeAnonSummary(o.io.Out, o, res)
	}
	if err != nil {
		return fmt.Errorf("anonymize: %w", err)
	}
	if res.Leaks != nil && len(res.Leaks.Hits) > 0 {
		return fmt.Errorf("anonymize: %d original identifiers found in %s (see above); do not share it", len(res.Leaks.Hits)+res.Leaks.Missed, o.out)
	}
	return nil
}

func writeAnonSummary(w io.Writer, o *anonymizeOptions, r *anon.FileResult) {
	c := &r.Capture
	fmt.Fprintf(w, "records: %d read, %d written, %d not written\n", c.Records, c.Written, c.NotWritten())
	for _, d := range []struct {
		n    int
		what string
	}{
		{c.DroppedNoVoIP, "without SIP/RTP/RTCP (ARP, DNS, TCP handshakes and ACKs, unannounced UDP)"},
		{c.DroppedReassembled, "payload spanning records that could not be rebuilt in place (resized SCTP or WebSocket, IPv6 extension headers after a Fragment header)"},
		{c.DroppedHEP, "HEP that did not decode"},
		{c.DroppedRTP, "RTP (--rtp drop)"},
		{c.DroppedBadMedia, "RTP/RTCP that could not be walked"},
		{c.DroppedDecodeErrors, "decode errors"},
		{c.DroppedFixup, "lengths/checksums not repairable (SCTP size change)"},
	} {
		if d.n > 0 {
			fmt.Fprintf(w, "  not written: %d %s\n", d.n, d.what)
		}
	}
	if c.KeptUnparsed > 0 {
		fmt.Fprintf(w, "WARNING: %d records written as captured, NOT anonymised (--keep-unparsed): their addresses and payloads may identify people\n", c.KeptUnparsed)
	}
	if c.Defragmented > 0 || c.FragmentsMerged > 0 {
		fmt.Fprintf(w, "IP fragments: %d datagrams written reassembled (one record each, at the last fragment's place); %d earlier fragment records folded into them\n", c.Defragmented, c.FragmentsMerged)
	}
	if c.FragmentsIncomplete > 0 {
		fmt.Fprintf(w, "  not written: %d incomplete fragmented datagrams (never completed in the capture)\n", c.FragmentsIncomplete)
	}
	fmt.Fprintf(w, "payloads: %d SIP, %d SIP-port text scrubbed, %d RTP, %d RTCP, %d HEP\n", c.SIP, c.SIPText, c.RTP, c.RTCP, c.HEP)
	var parts []string
	for cat := leak.Number; cat <= leak.Token; cat++ {
		if n := r.Mapper.Replaced[cat]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cat, n))
		}
	}
	fmt.Fprintf(w, "replaced: %s; secrets %d; bodies removed %d\n", strings.Join(parts, ", "), r.Mapper.Secrets, r.Mapper.Bodies)
	fmt.Fprintf(w, "media: %d RTP silenced, %d zeroed (codec without known silence), %d DTMF events hidden, %d RTCP items\n",
		r.Mapper.RTPSilenced, r.Mapper.RTPZeroed, r.Mapper.DTMFHidden, r.Mapper.RTCPItems)
	if r.Dropped > 0 {
		fmt.Fprintf(w, "warning: %d identifiers beyond the bound were not checked\n", r.Dropped)
	}
	if r.Leaks == nil {
		fmt.Fprintf(w, "leak check: skipped (--no-verify)\n")
		return
	}
	fmt.Fprintf(w, "leak check: %d identifiers searched in %d bytes of %s: %d found\n", r.Identifiers, r.Leaks.Bytes, o.out, len(r.Leaks.Hits)+r.Leaks.Missed)
	if n := len(r.KeptFieldHits); n > 0 {
		fmt.Fprintf(w, "  not counted: %d raw-byte matches wholly inside numeric fields kept on purpose (RTP timestamps and SSRCs, RTCP reports, ports, sequence numbers): coincidences, e.g. record %d\n", n, r.KeptFieldHits[0].Frame)
	}
	for i, h := range r.Leaks.Hits {
		if i == 20 {
			fmt.Fprintf(w, "  ... %d more\n", len(r.Leaks.Hits)-20+r.Leaks.Missed)
			break
		}
		// the identifier itself is not printed: the terminal log may be shared
		fmt.Fprintf(w, "  record %d, file offset %d: %s (%s)\n", h.Frame, h.Offset, h.Category, h.Encoding)
	}
}
