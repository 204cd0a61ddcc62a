package summary

import (
	"bytes"
	"testing"

	"github.com/voiptool/voiptool/capture"
)

func TestCapture(t *testing.T) {
	var b bytes.Buffer
	Capture(&b, 3, &capture.Stats{Packets: 10, SIP: 4, RTP: 5, HEP: 1})
	if got := b.String(); got != "voiptool: 10 packets: 4 SIP, 5 RTP, 0 RTCP, 1 HEP; 3 printed\n" {
		t.Errorf("clean capture: %q", got)
	}
	b.Reset()
	Capture(&b, 0, &capture.Stats{Packets: 2, Other: 1, TLSStreams: 2, FragmentsExpired: 1, FragmentsDropped: 2})
	want := "voiptool: 2 packets: 0 SIP, 0 RTP, 0 RTCP, 0 HEP; 0 printed\n" +
		"voiptool: also 1 other (not SIP/RTP/RTCP/HEP), 2 TLS streams (encrypted SIP, not decoded), 3 fragments dropped\n"
	if got := b.String(); got != want {
		t.Errorf("odd capture:\n%q\nwant\n%q", got, want)
	}
}

func TestDrops(t *testing.T) {
	for _, tt := range []struct {
		l    Loss
		want string
	}{
		{Loss{}, ""},
		{Loss{Kernel: 7}, "voiptool: the kernel dropped 7 packets (capture did not keep up)\n"},
		{Loss{Kernel: 1, Source: 2}, "voiptool: the kernel dropped 1 packets (capture did not keep up)\nvoiptool: the live sources dropped 2 packets (their queues were full)\n"},
		{Loss{Reordered: 3}, "voiptool: 3 packets from several live sources were decoded out of time order (they reached the merge after its window)\n"},
	} {
		var b bytes.Buffer
		Drops(&b, tt.l)
		if b.String() != tt.want {
			t.Errorf("%+v: %q, want %q", tt.l, b.String(), tt.want)
		}
	}
}
