package rtpstats

import (
	"strings"
	"time"
)

// Static payload types with special meaning to the analysis (RFC 3551 6,
// and the pre-RFC 3389 CN value Wireshark still honours).
const (
	ptCN    = 13 // RFC 3389 comfort noise
	ptCNOld = 19 // reserved; "old" CN in Wireshark's rtp_pt.h
	// firstDynamicPT is where RFC 3551 6 dynamic payload types begin.
	firstDynamicPT = 96
	// defaultEventPT mirrors Wireshark's rtpevent preference default, so a
	// capture without SDP still yields DTMF digits from PT 101.
	defaultEventPT = 101
)

// staticPT is the RFC 3551 Table 4/5 payload type table: encoding name and
// RTP clock rate. The clock rates are those Wireshark uses in
// ui/tap-rtp-analysis.c (clock_map), including G.722 = 8000 (RFC 3551 4.5.2
// keeps the historical 8000 Hz RTP clock although the codec samples at 16 kHz).
var staticPT = [firstDynamicPT]struct {
	name  string
	clock uint32
}{
	0:  {"PCMU", 8000},
	1:  {"1016", 8000},
	2:  {"G721", 8000},
	3:  {"GSM", 8000},
	4:  {"G723", 8000},
	5:  {"DVI4", 8000},
	6:  {"DVI4", 16000},
	7:  {"LPC", 8000},
	8:  {"PCMA", 8000},
	9:  {"G722", 8000},
	10: {"L16", 44100},
	11: {"L16", 44100},
	12: {"QCELP", 8000},
	13: {"CN", 8000},
	14: {"MPA", 90000},
	15: {"G728", 8000},
	16: {"DVI4", 11025},
	17: {"DVI4", 22050},
	18: {"G729", 8000},
	19: {"CN", 8000},
	25: {"CelB", 90000},
	26: {"JPEG", 90000},
	28: {"nv", 90000},
	31: {"H261", 90000},
	32: {"MPV", 90000},
	33: {"MP2T", 90000},
	34: {"H263", 90000},
}

// dynClock is Wireshark's mimetype_and_clock_map: clock rates for
// registered media subtypes, used when an rtpmap gave a name but no rate.
// Matched as a case-insensitive prefix, longest entry first (Wireshark
// searches its sorted table in reverse for the same effect).
var dynClock = []struct {
	prefix string
	clock  uint32
}{
	{"telephone-event", 8000}, {"t140", 1000}, {"SMV0", 8000}, {"SMV", 8000}, {"red", 1000},
	{"raw", 90000}, {"pointer", 90000}, {"opus", 48000}, {"mpa-robust", 90000},
	{"MP4V-ES", 90000}, {"MP2P", 90000}, {"MP1S", 90000}, {"H264", 90000},
	{"H263-2000", 90000}, {"H263-1998", 90000}, {"GSM-EFR", 8000}, {"G729E", 8000},
	{"G729D", 8000}, {"G726-40", 8000}, {"G726-32", 8000}, {"G726-24", 8000},
	{"G726-16", 8000}, {"G7221", 16000}, {"EVS", 16000}, {"EVRCWB1", 16000},
	{"EVRCWB0", 16000}, {"EVRCWB", 16000}, {"EVRCB1", 8000}, {"EVRCB0", 8000},
	{"EVRCB", 8000}, {"EVRC1", 8000}, {"EVRC0", 8000}, {"EVRC", 8000},
	{"DV", 90000}, {"BT656", 90000}, {"BMPEG", 90000}, {"AMR-WB", 16000}, {"AMR", 8000},
}

func dynClockRate(name string) uint32 {
	// Wireshark walks its alphabetical table backwards so that a longer
	// name ("AMR-WB") wins over its prefix ("AMR"); we do the same by
	// picking the longest matching prefix.
	var best uint32
	bestLen := 0
	for _, e := range dynClock {
		if len(e.prefix) > bestLen && len(name) >= len(e.prefix) && strings.EqualFold(name[:len(e.prefix)], e.prefix) {
			best, bestLen = e.clock, len(e.prefix)
		}
	}
	return best
}

func isTelephoneEvent(name string) bool {
	const te = "telephone-event"
	return len(name) >= len(te) && strings.EqualFold(name[:len(te)], te)
}

// codecHint is what SDP told us about a payload type on an address.
type codecHint struct {
	name  string
	clock uint32
	at    time.Time // Tracker clock at SetCodec, for expiry
}

// ptInfo resolves name and the clock Wireshark would use for analysis.
// analysisClock is 0 when Wireshark would skip jitter (unknown dynamic PT,
// telephone-event); event reports a telephone-event PT.
func ptInfo(pt uint8, hint *codecHint, eventPT int) (name string, analysisClock uint32, event bool) {
	if pt < firstDynamicPT {
		s := staticPT[pt]
		name = s.name
		if hint != nil && hint.name != "" {
			name = hint.name
		}
		// Wireshark never overrides the static table's clock.
		return name, s.clock, false
	}
	if hint == nil {
		if int(pt) == eventPT {
			return "telephone-event", 0, true
		}
		return "", 0, false
	}
	if isTelephoneEvent(hint.name) {
		return hint.name, 0, true
	}
	if hint.clock != 0 {
		return hint.name, hint.clock, false
	}
	return hint.name, dynClockRate(hint.name), false
}
