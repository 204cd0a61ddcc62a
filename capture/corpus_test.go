package capture

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

// corpusDir is the shared public capture corpus, beside the repository.
const corpusDir = "../../shared/corpus"

// corpusWant is what Decode must find in each corpus file. sip is
// tshark's count of SIP messages (MANIFEST "SIP msgs", = frames matching
// -Y sip except where noted); rtp/rtcp are lower bounds where the
// MANIFEST gives a reliable figure.
var corpusWant = map[string]struct {
	sip      int
	minRTP   int
	minRTCP  int
	hep      int
	errsOK   bool
	exactRTP bool // minRTP is the exact MANIFEST count (RTP-only files)
	why      string
}{
	"sip-udp-b2bua-reinvite-g711a-bidir.pcap":                     {sip: 33, minRTP: 1400, minRTCP: 10},
	"sip-udp-g711a-bidir-183-earlymedia.pcap":                     {sip: 7, minRTP: 480},
	"sip-udp-g711a-g711u-two-calls-oneway-rtp.pcap":               {sip: 10, minRTP: 800},
	"sip-udp-g711u-bidir-401-183-magicjack.pcap":                  {sip: 11, minRTP: 1260},
	"sip-udp-g722-oneway-rtp.pcap":                                {sip: 6, minRTP: 420},
	"sip-udp-g726-8-sequential-calls-dynamic-pt.pcap":             {sip: 48, minRTP: 3390},
	"sip-udp-g729a-oneway-rtp.pcap":                               {sip: 6, minRTP: 420},
	"sip-udp-ilbc-30ms-oneway-rtp.pcap":                           {sip: 6, minRTP: 280},
	"sip-udp-opus-oneway-rtp.pcap":                                {sip: 6, minRTP: 420},
	"sip-udp-pbx-ipv4frag-subscribe-notify-g711u-jitter.pcap":     {sip: 60, minRTP: 5700, minRTCP: 37, why: "tshark flags 14 more frames rtcp (56/92-byte payloads with no RTCP packet type): not RTCP"},
	"sip-udp-register-invite-cancel-auth-noisy.pcap":              {sip: 81},
	"sip-udp-rfc2833-dtmf-register-603.pcap":                      {sip: 29, minRTP: 1000},
	"sip-udp-t38-fax-reinvite-megaco.pcap":                        {sip: 92, minRTP: 6990, why: "tshark dissects 2010 frames as malformed T.38 that are RTP (PT 8, SSRC 0x0EAF0EAF): counted as RTP"},
	"sip-udp-zrtp-srtcp-register-subscribe-options-rtploss.pcap":  {sip: 27, minRTP: 500},
	"sip-sctp-sll.pcap":                                           {sip: 4},
	"sip-tcp-g711a-cn-rtcp.pcap":                                  {sip: 7, minRTP: 50, minRTCP: 2},
	"sip-tcp-port6060-segmented-486-487-cancel-prack-update.pcap": {sip: 406, why: "tshark needs -d tcp.port==6060,sip"},
	"sip-tcp-to-udp-proxy-tcp-retrans-sll.pcap":                   {sip: 8},
	"sip-tls-midstream-nonmonotonic-ts.pcap":                      {sip: 0, why: "TLS: encrypted, counted in TLSStreams"},
	"sip-tls13-sll-g722-rtcp.pcap":                                {sip: 0, minRTP: 4414, exactRTP: true, minRTCP: 92, why: "TLS 1.3: SIP encrypted; RTP/RTCP by heuristic"},
	"sip-websocket-tcp-plus-udp.pcap":                             {sip: 39},
	"sip-erspan-gre-subscribe-notify-refer-hold.pcapng":           {sip: 140},
	"sip-ipip-tcp.pcap":                                           {sip: 4},
	"sip-ipv6-frag-sll-forked-prack-update.pcap":                  {sip: 32},
	"sip-ipv6-udp-basic-call.pcap":                                {sip: 6},
	"sip-pppoe-info-dtmf-cancel.pcap":                             {sip: 32},
	"sip-protos-c07-r2-fuzz.pcap":                                 {sip: 12},
	"sip-rawip-linktype-invite-403-register-401.pcap":             {sip: 8},
	"sip-rtp-rtcp-mgcp-h225-noisy.pcap":                           {sip: 14, minRTP: 1500, minRTCP: 20},
	"sip-scanner-icmp-quoted-sip.pcap":                            {sip: 40, why: "tshark -Y sip gives 45 frames: 5 are SIP quoted inside ICMP errors, not messages; sip,stat says 40"},
	"sip-vlan-gre-ppp-single-100trying.pcapng":                    {sip: 1},
	"hep3-udp9060-sip-options-publish-rtcpjson-log.pcap":          {sip: 0, hep: 8, why: "SIP is inside HEP (decoded by package hep)"},
	"hep3-udp9060-sll-compressed.pcapng":                          {sip: 0, hep: 21, why: "SIP is zlib-compressed inside HEP"},
	"rtcp-compound-multiple-in-datagram-sll.pcap":                 {minRTCP: 5},
	"rtp-g711a-oneway-sipp.pcap":                                  {minRTP: 236, exactRTP: true},
	"rtp-g711a-ptime40-sll.pcap":                                  {minRTP: 826, exactRTP: true},
	"rtp-g711u-loss-bursts-260ms-gap.pcap":                        {minRTP: 800, exactRTP: true},
	"rtp-g711u-rfc2833-sll.pcap":                                  {minRTP: 974, exactRTP: true},
	"rtp-opus-fec-60s-1pct-dropped.pcapng":                        {minRTP: 2971, exactRTP: true},
	"rtp-opus-fec-60s-complete.pcapng":                            {minRTP: 3000, exactRTP: true},
	"rtp-rfc2833-dtmf-digit1-sipp.pcap":                           {minRTP: 10, exactRTP: true},
	"rtp-vlan-mixed-pt-rtpevent-comments.pcapng":                  {minRTP: 69, exactRTP: true, why: "tshark -o rtp.heuristic_rtp:TRUE -z rtp,streams: 29+15+7+12+6; was 60 while the heuristic kept one SSRC per 5-tuple and SSRCs 0x001A759F/0x001A757D on 50003->54234 restarted each other"},
}

func corpusFiles(t testing.TB) []string {
	t.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus %s absent: %v", corpusDir, err)
	}
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng"} {
		m, _ := filepath.Glob(filepath.Join(corpusDir, pat))
		files = append(files, m...)
	}
	sort.Strings(files)
	return files
}

func decodeFile(t testing.TB, path string, o Options) (Stats, []error) {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	var errs []error
	st, err := Run(context.Background(), []Source{r}, o, func(e error) { errs = append(errs, e) }, func(ev *Event) error {
		if len(ev.Payload) == 0 {
			t.Errorf("%s: empty %v payload at packet %d", path, ev.Kind, ev.Packet.Number)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s: Run: %v", path, err)
	}
	return st, errs
}

func TestCorpus(t *testing.T) {
	for _, path := range corpusFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			want, ok := corpusWant[name]
			if !ok {
				t.Fatalf("no expectation for corpus file %s: add it to corpusWant", name)
			}
			st, errs := decodeFile(t, path, Options{})
			for _, e := range errs {
				var de *DecodeError
				if !errors.As(e, &de) && !want.errsOK {
					t.Errorf("unexpected error: %v", e)
				} else if !want.errsOK {
					t.Errorf("decode error: %v", e)
				}
			}
			t.Logf("SIP=%d RTP=%d RTCP=%d HEP=%d other=%d frag=%d/%d tls=%d trunc=%d (%s)",
				st.SIP, st.RTP, st.RTCP, st.HEP, st.Other, st.Fragments, st.Reassembled, st.TLSStreams, st.Truncated, want.why)
			if st.SIP != want.sip {
				t.Errorf("SIP messages = %d, tshark = %d", st.SIP, want.sip)
			}
			if st.RTP < want.minRTP || (want.exactRTP && st.RTP != want.minRTP) {
				t.Errorf("RTP = %d, want %d (exact: %v)", st.RTP, want.minRTP, want.exactRTP)
			}
			if st.RTCP < want.minRTCP {
				t.Errorf("RTCP = %d, want >= %d", st.RTCP, want.minRTCP)
			}
			if st.HEP != want.hep {
				t.Errorf("HEP = %d, want %d", st.HEP, want.hep)
			}
		})
	}
}
