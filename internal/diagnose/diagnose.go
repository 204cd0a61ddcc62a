package diagnose

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/voiptool/voiptool/rtpstats"
	"github.com/voiptool/voiptool/sipflow"
)

// Problem codes, one per detector.
const (
	OneWayAudio          = "one-way-audio"
	NoMedia              = "no-media"
	LateMedia            = "late-media"
	MediaAddressMismatch = "media-address-mismatch"
	PrivateSDP           = "private-sdp"
	CodecMismatch        = "codec-mismatch"
	PtimeAsymmetry       = "ptime-asymmetry"
	SSRCChange           = "ssrc-change"
	HighLoss             = "high-loss"
	HighJitter           = "high-jitter"
	LowMOS               = "low-mos"
	NoACK                = "no-ack"
	RetransmissionStorm  = "retransmission-storm"
	SlowSetup            = "slow-setup"
	ShortCall            = "short-call"
	Timeout              = "timeout"
	AuthLoop             = "auth-loop"
	RTPAfterBye          = "rtp-after-bye"
	ByeWithoutRTPEnd     = "bye-without-rtp-end"
)

// Codes lists every code in the order the detectors run.
var Codes = [...]string{
	OneWayAudio, NoMedia, LateMedia, MediaAddressMismatch, PrivateSDP, CodecMismatch, PtimeAsymmetry,
	SSRCChange, HighLoss, HighJitter, LowMOS, NoACK, RetransmissionStorm, SlowSetup, ShortCall,
	Timeout, AuthLoop, RTPAfterBye, ByeWithoutRTPEnd,
}

// Options holds the thresholds. A zero field means its default; a
// negative one turns its detector off.
type Options struct {
	// MinPackets is how many packets a stream needs before its quality
	// (loss, jitter, MOS, ptime) or its lonely direction (one-way-audio)
	// is judged; default 50 (1 s at 20 ms).
	MinPackets int
	// HighLossPct flags a stream losing more than this percentage of its
	// packets (rtpstats' real loss, not tshark's); default 2. Five times
	// the threshold is an error, less a warning.
	HighLossPct float64
	// HighJitterMs flags a stream whose RFC 3550 jitter peaked above this;
	// default 40 ms (about the depth of a typical fixed jitter buffer).
	HighJitterMs float64
	// LowMOS flags a stream whose E-model MOS is below this; default 3.6
	// (G.107 "many users dissatisfied" starts at R 70, MOS 3.6).
	LowMOS float64
	// LateMedia flags a call whose first RTP comes this long after the
	// answer; default 2 s.
	LateMedia time.Duration
	// SlowSetup flags a call whose post-dial delay (INVITE to first 18x,
	// or to the answer when there was no 18x) exceeds this; default 5 s.
	SlowSetup time.Duration
	// ShortCall flags an answered call shorter than this; default 2 s.
	ShortCall time.Duration
	// RetransStorm flags a call with at least this many retransmitted
	// messages that are also a quarter or more of its messages; default 5.
	RetransStorm int
	// AuthLoop flags a dialog challenged (401/407) at least this many
	// times that never succeeded; default 3 (one challenge per request is
	// normal, and a registration refreshed under one Call-ID is
	// challenged at every refresh).
	AuthLoop int
	// RTPAfterBye flags a stream still sending this long after the BYE;
	// default 2 s.
	RTPAfterBye time.Duration
	// DeadAir flags (bye-without-rtp-end) a call whose RTP all ended this
	// long before its BYE: the call stayed up without media; default 10 s.
	DeadAir time.Duration
	// AckTimeout is how long after a 2xx an ACK may still come (RFC 3261
	// Timer H, 64*T1); default 32 s.
	AckTimeout time.Duration
	// PtimeToleranceMs is how far the packet times of the two directions
	// may differ; default 2 ms.
	PtimeToleranceMs float64
}

func (o *Options) fill() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.MinPackets, 50)
	deff(&o.HighLossPct, 2)
	deff(&o.HighJitterMs, 40)
	deff(&o.LowMOS, 3.6)
	defd(&o.LateMedia, 2*time.Second)
	defd(&o.SlowSetup, 5*time.Second)
	defd(&o.ShortCall, 2*time.Second)
	def(&o.RetransStorm, 5)
	def(&o.AuthLoop, 3)
	defd(&o.RTPAfterBye, 2*time.Second)
	defd(&o.DeadAir, 10*time.Second)
	defd(&o.AckTimeout, 32*time.Second)
	deff(&o.PtimeToleranceMs, 2)
}

// Input is one call and what is known around it.
type Input struct {
	Call sipflow.CallSummary
	// Streams are the RTP streams linked to the call.
	Streams []rtpstats.StreamReport
	// Now is the capture clock (latest packet time); an ACK or media is
	// only missing once enough of it has passed.
	Now time.Time
	// MediaSeen says the capture carried RTP at all: a signalling-only
	// capture says nothing about media, so no-media is not reported.
	MediaSeen bool
}

// Call runs every detector and returns the problems found, in the order
// of Codes, never nil.
func Call(in *Input, o Options) []sipflow.Problem {
	return AppendCall([]sipflow.Problem{}, in, o)
}

// AppendCall is Call appending to dst: a caller that diagnoses every
// call of a capture at its end reuses one list (and one Input) instead
// of allocating them per call.
func AppendCall(dst []sipflow.Problem, in *Input, o Options) []sipflow.Problem {
	o.fill()
	d := diag{in: in, o: o, c: &in.Call, out: dst}
	d.run()
	return d.out
}

type diag struct {
	in  *Input
	o   Options // a copy: a pointer to Call's would move it to the heap
	c   *sipflow.CallSummary
	out []sipflow.Problem
}

func (d *diag) add(code, sev string, ssrc uint32, format string, args ...any) {
	d.out = append(d.out, sipflow.Problem{Code: code, Severity: sev, Detail: fmt.Sprintf(format, args...), SSRC: ssrc})
}

// answerTime is the 2xx to the initial INVITE; zero when unanswered.
func (d *diag) answerTime() time.Time {
	if d.c.SetupMS < 0 || d.c.Start.IsZero() {
		return time.Time{}
	}
	return d.c.Start.Add(time.Duration(d.c.SetupMS) * time.Millisecond)
}

// byeTime is the BYE after the answer; zero when none.
func (d *diag) byeTime() time.Time {
	a := d.answerTime()
	if a.IsZero() || d.c.DurationMS < 0 {
		return time.Time{}
	}
	return a.Add(time.Duration(d.c.DurationMS) * time.Millisecond)
}

func (d *diag) isCall() bool { return d.c.Type == sipflow.TypeCall }

// directional reports whether any offer or answer media line asks for
// less than sendrecv (hold, announcements, listen-only): one-way media is
// then what was negotiated.
func (d *diag) directional() bool {
	if d.c.OnHold {
		return true
	}
	for _, l := range [2][]sipflow.MediaSummary{d.c.Offer, d.c.Answer} {
		for _, m := range l {
			switch m.Dir {
			case "sendonly", "recvonly", "inactive":
				return true
			}
		}
	}
	return false
}

func (d *diag) run() {
	if d.isCall() {
		d.oneWay()
		d.noMedia()
		d.lateMedia()
		d.mediaAddress()
		d.privateSDP()
		d.codecMismatch()
		d.ptime()
	}
	d.ssrcChange()
	d.quality()
	if d.isCall() {
		d.noACK()
	}
	d.retrans()
	if d.isCall() {
		d.slowSetup()
		d.shortCall()
	}
	d.timeout()
	d.authLoop()
	if d.isCall() {
		d.rtpAfterBye()
		d.deadAir()
	}
}

// oneWay: an answered call where one side sent media for at least
// MinPackets and nothing came back from the host it sent to.
func (d *diag) oneWay() {
	if len(d.in.Streams) == 0 || d.o.MinPackets < 0 || d.answerTime().IsZero() || d.directional() {
		return
	}
	for i := range d.in.Streams {
		s := &d.in.Streams[i]
		if s.Packets < d.o.MinPackets {
			continue
		}
		// Media comes back when anything reaches the sender's host,
		// from wherever it is sent (a relay, a NAT, another port):
		// media-address-mismatch reports the odd source.
		back := false
		for j := range d.in.Streams {
			r := &d.in.Streams[j]
			if j != i && (r.Dst.Addr() == s.Src.Addr() || r.Src.Addr() == s.Dst.Addr()) {
				back = true
				break
			}
		}
		if !back {
			d.add(OneWayAudio, sipflow.SeverityError, 0,
				"RTP flows %v -> %v (%d packets) but no RTP goes back to %v nor comes from %v, and the SDP asks for sendrecv",
				s.Src, s.Dst, s.Packets, s.Src.Addr(), s.Dst.Addr())
			return
		}
	}
}

// audioPort reports whether the negotiation left an active audio line.
func activeMedia(l []sipflow.MediaSummary) bool {
	for _, m := range l {
		if m.Addr.Port() != 0 && m.Dir != "inactive" && (m.Type == "audio" || m.Type == "video") {
			return true
		}
	}
	return false
}

// noMedia: an answered call with active media in its SDP but no RTP
// stream at all, in a capture that carries RTP.
func (d *diag) noMedia() {
	a := d.answerTime()
	if !d.in.MediaSeen || a.IsZero() || len(d.in.Streams) > 0 || d.c.OnHold || !activeMedia(d.c.Offer) {
		return
	}
	if d.c.Answer != nil && !activeMedia(d.c.Answer) {
		return
	}
	end := d.c.End
	if b := d.byeTime(); !b.IsZero() {
		end = b
	}
	if end.Sub(a) < d.o.LateMedia {
		return // too short to expect any: short-call covers it
	}
	d.add(NoMedia, sipflow.SeverityError, 0, "answered call with no RTP in %s (SDP offer %s, answer %s)",
		fmtDur(end.Sub(a)), endpoints(d.c.Offer), endpoints(d.c.Answer))
}

// lateMedia: the first RTP starts LateMedia or more after the answer.
func (d *diag) lateMedia() {
	a := d.answerTime()
	if d.o.LateMedia < 0 || a.IsZero() || len(d.in.Streams) == 0 {
		return
	}
	first := d.in.Streams[0].Start
	for _, s := range d.in.Streams[1:] {
		if s.Start.Before(first) {
			first = s.Start
		}
	}
	if gap := first.Sub(a); gap >= d.o.LateMedia {
		d.add(LateMedia, sipflow.SeverityWarning, 0, "first RTP %s after the answer", fmtDur(gap))
	}
}

// mediaAddress: a stream that reached an SDP endpoint but was sent from
// an address no offer or answer of the call ever announced (NAT, a media relay the
// signalling does not know of), or that was linked only by port.
func (d *diag) mediaAddress() {
	if len(d.in.Streams) == 0 {
		return // nothing to check: the set below is for streams
	}
	// Every endpoint any exchange of the call negotiated: media moved by
	// a re-INVITE is still the call's own.
	announced := map[netip.AddrPort]bool{}
	lists := [][]sipflow.MediaSummary{d.c.Offer, d.c.Answer}
	for _, n := range d.c.SDPHistory {
		lists = append(lists, n.Offer, n.Answer)
	}
	for _, l := range lists {
		for _, m := range l {
			if m.Addr.IsValid() {
				announced[m.Addr] = true
			}
		}
	}
	if len(announced) == 0 {
		return
	}
	for i := range d.in.Streams {
		s := &d.in.Streams[i]
		switch {
		case s.Link == rtpstats.LinkNATPort:
			d.add(MediaAddressMismatch, sipflow.SeverityWarning, s.SSRC,
				"RTP %v -> %v matches the SDP endpoint %v by port only (NAT?)", s.Src, s.Dst, s.SDPEndpoint)
		case announced[s.Dst] && !announced[s.Src]:
			d.add(MediaAddressMismatch, sipflow.SeverityWarning, s.SSRC,
				"RTP to %v comes from %v, which no SDP of the call announced (announced: %s)", s.Dst, s.Src, endpointList(announced, s.Dst))
		}
	}
}

// privateSDP: an SDP announcing a private address while the message that
// carried it came from a public one: media will be sent to an
// unreachable address unless something rewrites it.
func (d *diag) privateSDP() {
	check := func(what string, l []sipflow.MediaSummary, sig netip.AddrPort) {
		if !sig.IsValid() || isPrivate(sig.Addr()) {
			return
		}
		for _, m := range l {
			if m.Addr.IsValid() && isPrivate(m.Addr.Addr()) && m.Addr.Port() != 0 {
				d.add(PrivateSDP, sipflow.SeverityWarning, 0, "%s announces private %v but its signalling comes from public %v",
					what, m.Addr, sig.Addr())
				return
			}
		}
	}
	check("offer", d.c.Offer, d.c.Src)
	check("answer", d.c.Answer, d.c.Dst)
}

func isPrivate(a netip.Addr) bool {
	a = a.Unmap()
	if a.IsPrivate() {
		return true
	}
	if a.Is4() {
		b := a.As4()
		return b[0] == 100 && b[1]&0xc0 == 64 // RFC 6598
	}
	return false
}

// nonAudioCodec names payloads that ride beside the voice codec.
func nonAudioCodec(name string) bool {
	switch strings.ToLower(name) {
	case "telephone-event", "cn", "comfort-noise":
		return true
	}
	return false
}

// codecMismatch: a stream whose payload is not among what the answer
// (or, without an answer, the offer) lists.
func (d *diag) codecMismatch() {
	if len(d.in.Streams) == 0 {
		return
	}
	neg := d.c.Answer
	what := "answer"
	if len(neg) == 0 {
		neg, what = d.c.Offer, "offer"
	}
	var names []string
	for _, m := range neg {
		if m.Type == "audio" {
			names = append(names, m.Codecs...)
		}
	}
	if len(names) == 0 {
		return
	}
	for i := range d.in.Streams {
		s := &d.in.Streams[i]
		if s.Codec == "" || nonAudioCodec(s.Codec) || s.Packets == 0 {
			continue
		}
		ok := false
		for _, n := range names {
			if strings.EqualFold(n, s.Codec) || n == fmt.Sprint(s.PayloadType) {
				ok = true
				break
			}
		}
		if !ok {
			d.add(CodecMismatch, sipflow.SeverityError, s.SSRC, "RTP %v -> %v carries %s (PT %d) but the %s lists %s",
				s.Src, s.Dst, clean(s.Codec), s.PayloadType, what, clean(strings.Join(names, " ")))
		}
	}
}

// ptime: the two directions packetise differently.
func (d *diag) ptime() {
	if d.o.PtimeToleranceMs < 0 {
		return
	}
	for i := range d.in.Streams {
		s := &d.in.Streams[i]
		if s.PacketMs <= 0 || s.Packets < d.o.MinPackets {
			continue
		}
		for j := i + 1; j < len(d.in.Streams); j++ {
			r := &d.in.Streams[j]
			if r.PacketMs <= 0 || r.Packets < d.o.MinPackets || r.Src.Addr() != s.Dst.Addr() || r.Dst.Addr() != s.Src.Addr() {
				continue
			}
			if diff := s.PacketMs - r.PacketMs; diff > d.o.PtimeToleranceMs || -diff > d.o.PtimeToleranceMs {
				d.add(PtimeAsymmetry, sipflow.SeverityInfo, 0, "%v sends %.0f ms packets, %v sends %.0f ms",
					s.Src, s.PacketMs, r.Src, r.PacketMs)
				return
			}
		}
	}
}

// ssrcChange: one direction (same source and destination) carried more
// than one SSRC: a re-INVITE, a transfer or a media server switching
// sources; receivers that lock on the first SSRC go silent.
func (d *diag) ssrcChange() {
	type dir struct{ src, dst netip.AddrPort }
	seen := map[dir][]uint32{}
	var order []dir
	for _, s := range d.in.Streams {
		k := dir{s.Src, s.Dst}
		if _, ok := seen[k]; !ok {
			order = append(order, k)
		}
		seen[k] = append(seen[k], s.SSRC)
	}
	for _, k := range order {
		if l := seen[k]; len(l) > 1 {
			var b strings.Builder
			for i, x := range l {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "0x%08X", x)
			}
			d.add(SSRCChange, sipflow.SeverityInfo, 0, "%v -> %v changed SSRC %d times (%s)", k.src, k.dst, len(l)-1, b.String())
		}
	}
}

// quality: per-stream loss, jitter and MOS.
func (d *diag) quality() {
	for i := range d.in.Streams {
		s := &d.in.Streams[i]
		if s.Packets < d.o.MinPackets {
			continue
		}
		if d.o.HighLossPct > 0 && s.LostPct > d.o.HighLossPct {
			sev := sipflow.SeverityWarning
			if s.LostPct > 5*d.o.HighLossPct {
				sev = sipflow.SeverityError
			}
			d.add(HighLoss, sev, s.SSRC, "%v -> %v lost %d packets (%.1f %%)%s", s.Src, s.Dst, s.Lost, s.LostPct, burst(s))
		}
		if d.o.HighJitterMs > 0 && s.MaxJitterMs > d.o.HighJitterMs {
			d.add(HighJitter, sipflow.SeverityWarning, s.SSRC, "%v -> %v jitter peaked at %.1f ms (mean %.1f ms)",
				s.Src, s.Dst, s.MaxJitterMs, s.MeanJitterMs)
		}
		if d.o.LowMOS > 0 && s.MOS > 0 && s.MOS < d.o.LowMOS {
			q := s.Quality
			d.add(LowMOS, sipflow.SeverityWarning, s.SSRC, "%v -> %v MOS %.2f (R %.1f: %s, loss %.2f %%, burst ratio %.2f, delay %.0f ms)",
				s.Src, s.Dst, s.MOS, q.R, clean(q.Codec), q.Ppl, q.BurstR, q.DelayMs)
		}
	}
}

func burst(s *rtpstats.StreamReport) string {
	longest := 0
	for i, n := range s.LossHistogram {
		if n > 0 {
			longest = i + 1
		}
	}
	switch {
	case longest == len(s.LossHistogram):
		return fmt.Sprintf(", bursts of %d+ packets", longest)
	case longest > 1:
		return fmt.Sprintf(", bursts up to %d packets", longest)
	}
	return ""
}

func hasMethod(c *sipflow.CallSummary, m string) bool {
	for _, x := range c.Methods {
		if x == m {
			return true
		}
	}
	return false
}

// noACK: a 2xx to the INVITE never acknowledged, once the ACK is overdue
// (Timer H) or the dialog has ended.
func (d *diag) noACK() {
	a := d.answerTime()
	if a.IsZero() || hasMethod(d.c, "ACK") {
		return
	}
	if !d.c.State.Terminal() && !d.c.Expired && d.in.Now.Sub(a) < d.o.AckTimeout {
		return
	}
	d.add(NoACK, sipflow.SeverityError, 0, "the %d answer was never acknowledged (no ACK%s)", d.c.FinalCode, ackContext(d))
}

func ackContext(d *diag) string {
	if d.c.Retransmissions > 0 {
		return fmt.Sprintf("; %d retransmissions in the call", d.c.Retransmissions)
	}
	return ""
}

// retrans: many retransmissions, a lossy or one-way signalling path.
func (d *diag) retrans() {
	if d.o.RetransStorm < 0 {
		return
	}
	r, m := d.c.Retransmissions, d.c.Messages
	if r >= d.o.RetransStorm && 4*r >= m {
		d.add(RetransmissionStorm, sipflow.SeverityWarning, 0, "%d of %d messages were retransmissions", r, m)
	}
}

// slowSetup: long post-dial delay.
func (d *diag) slowSetup() {
	if d.o.SlowSetup < 0 {
		return
	}
	pdd, what := d.c.PDDMS, "first provisional response"
	if pdd < 0 {
		pdd, what = d.c.SetupMS, "answer"
	}
	if pdd >= 0 && time.Duration(pdd)*time.Millisecond > d.o.SlowSetup {
		d.add(SlowSetup, sipflow.SeverityWarning, 0, "%s %s after the INVITE", what, fmtDur(time.Duration(pdd)*time.Millisecond))
	}
}

// shortCall: answered and hung up almost at once.
func (d *diag) shortCall() {
	if d.o.ShortCall < 0 || d.c.DurationMS < 0 {
		return
	}
	if dur := time.Duration(d.c.DurationMS) * time.Millisecond; dur < d.o.ShortCall {
		// "answered call hung up[ by the X] after D", appended rather than
		// formatted: every short call of a load test has one (a string
		// each, not four).
		var buf [96]byte
		b := append(buf[:0], "answered call hung up"...)
		if d.c.HangupBy != "" {
			b = append(append(b, " by the "...), d.c.HangupBy...)
		}
		b = appendDur(append(b, " after "...), dur)
		d.out = append(d.out, sipflow.Problem{Code: ShortCall, Severity: sipflow.SeverityInfo, Detail: string(b)})
	}
}

// timeout: no final response, or a 408/504.
func (d *diag) timeout() {
	switch {
	case d.c.State == sipflow.StateTimeout:
		d.add(Timeout, sipflow.SeverityError, 0, "no final response to the %s (%d messages, %d retransmissions)",
			firstMethod(d.c), d.c.Messages, d.c.Retransmissions)
	case d.c.FinalCode == 408 || d.c.FinalCode == 504:
		d.add(Timeout, sipflow.SeverityError, 0, "final response %d %s", d.c.FinalCode, clean(d.c.Reason))
	}
}

func firstMethod(c *sipflow.CallSummary) string {
	if c.Type == sipflow.TypeCall {
		return "INVITE"
	}
	return clean(c.Type)
}

// authLoop: challenged again and again.
func (d *diag) authLoop() {
	// A dialog that ends in success is not a loop: a registration
	// refreshed under one Call-ID is challenged at every refresh.
	if d.o.AuthLoop < 0 || d.c.AuthChallenges < d.o.AuthLoop || (d.c.FinalCode >= 200 && d.c.FinalCode < 300) {
		return
	}
	final := "no final response"
	if d.c.FinalCode != 0 {
		final = fmt.Sprintf("final %d", d.c.FinalCode)
	}
	d.add(AuthLoop, sipflow.SeverityError, 0, "%d authentication challenges and no success (%s): wrong credentials or a stale nonce",
		d.c.AuthChallenges, final)
}

// rtpAfterBye: a stream still sending RTPAfterBye or more after the BYE.
func (d *diag) rtpAfterBye() {
	b := d.byeTime()
	if d.o.RTPAfterBye < 0 || b.IsZero() {
		return
	}
	for i := range d.in.Streams {
		s := &d.in.Streams[i]
		if late := s.End.Sub(b); late >= d.o.RTPAfterBye {
			d.add(RTPAfterBye, sipflow.SeverityWarning, s.SSRC, "%v -> %v kept sending %s after the BYE", s.Src, s.Dst, fmtDur(late))
		}
	}
}

// deadAir (bye-without-rtp-end): every stream had stopped long before the
// BYE, so the call stayed up without media until someone hung up.
func (d *diag) deadAir() {
	b := d.byeTime()
	if d.o.DeadAir < 0 || b.IsZero() || len(d.in.Streams) == 0 || d.directional() {
		return
	}
	var last time.Time
	for _, s := range d.in.Streams {
		if s.End.After(last) {
			last = s.End
		}
	}
	if gap := b.Sub(last); gap >= d.o.DeadAir {
		d.add(ByeWithoutRTPEnd, sipflow.SeverityWarning, 0, "all RTP stopped %s before the BYE: the call stayed up without media", fmtDur(gap))
	}
}

func fmtDur(d time.Duration) string { return string(appendDur(nil, d)) }

// appendDur appends d as "%d ms" of its milliseconds under a second,
// else "%.1f s" of its seconds (strconv's 'f' with one digit is what
// %.1f writes).
func appendDur(b []byte, d time.Duration) []byte {
	if d < time.Second {
		return append(strconv.AppendInt(b, d.Milliseconds(), 10), " ms"...)
	}
	return append(strconv.AppendFloat(b, d.Seconds(), 'f', 1, 64), " s"...)
}

func endpoints(l []sipflow.MediaSummary) string {
	if len(l) == 0 {
		return "none"
	}
	var parts []string
	for _, m := range l {
		parts = append(parts, clean(m.Type)+" "+m.Addr.String())
	}
	return strings.Join(parts, ", ")
}

func endpointList(m map[netip.AddrPort]bool, skip netip.AddrPort) string {
	var parts []string
	for ap := range m {
		if ap != skip {
			parts = append(parts, ap.String())
		}
	}
	if len(parts) == 0 {
		return "only " + skip.String()
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// clean keeps wire text (codec names, reasons) printable: control bytes
// become '?', so a detail can reach a terminal.
func clean(s string) string {
	ok := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = '?'
		}
	}
	return string(b)
}
