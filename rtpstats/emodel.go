package rtpstats

import (
	"fmt"
	"math"
	"strings"
	"sync"
)

// EModel holds the ITU-T G.107 (06/2015) transmission parameters. The zero
// value is not meaningful; DefaultEModel returns the Table 3 defaults,
// with which R = 93.2 (G.107 7.2).
type EModel struct {
	SLR, RLR   float64 // send / receive loudness ratings, dB
	STMR, LSTR float64 // sidetone masking / listener sidetone ratings, dB
	Ds, Dr     float64 // D-values of telephone, send / receive side
	TELR       float64 // talker echo loudness rating, dB
	WEPL       float64 // weighted echo path loss, dB
	T, Ta, Tr  float64 // mean one-way delay of echo path / absolute delay / round-trip delay, ms
	Ps, Pr     float64 // room noise at send / receive side, dB(A)
	Nc         float64 // circuit noise referred to 0 dBr point, dBm0p
	Nfor       float64 // noise floor at receive side, dBmp
	Qdu        float64 // number of quantizing distortion units
	Ie, Bpl    float64 // equipment impairment factor, packet-loss robustness factor
	Ppl        float64 // random packet-loss probability, percent
	BurstR     float64 // burst ratio (1 = random loss)
	A          float64 // advantage factor
}

// DefaultEModel returns the G.107 Table 3 default values.
func DefaultEModel() EModel {
	return EModel{
		SLR: 8, RLR: 2, STMR: 15, LSTR: 18, Ds: 3, Dr: 3, TELR: 65, WEPL: 110,
		Ps: 35, Pr: 35, Nc: -70, Nfor: -64, Qdu: 1, Bpl: 1, BurstR: 1,
	}
}

// WithDelay sets the one-way mouth-to-ear delay: absolute delay Ta, the
// talker-echo path delay T (same path) and the listener-echo round trip
// Tr = 2T, the usual assumption when only one delay is known.
func (e EModel) WithDelay(ms float64) EModel {
	e.T, e.Ta, e.Tr = ms, ms, 2*ms
	return e
}

func lg(x float64) float64 { return math.Log10(x) }

// R computes the rating factor R = Ro − Is − Id − Ie,eff + A (G.107 7.1).
func (e EModel) R() float64 {
	ro, no := e.ro()
	return ro - e.is(ro, no) - e.id(ro, no) - e.ieEff() + e.A
}

// ro is the basic signal-to-noise ratio (G.107 7.2), also returning No.
func (e EModel) ro() (ro, no float64) {
	olr := e.SLR + e.RLR
	nos := e.Ps - e.SLR - e.Ds - 100 + 0.004*math.Pow(e.Ps-olr-e.Ds-14, 2)
	pre := e.Pr + 10*lg(1+math.Pow(10, (10-e.LSTR)/10))
	nor := e.RLR - 121 + pre + 0.008*math.Pow(pre-35, 2)
	nfo := e.Nfor + e.RLR
	no = 10 * lg(math.Pow(10, e.Nc/10)+math.Pow(10, nos/10)+math.Pow(10, nor/10)+math.Pow(10, nfo/10))
	return 15 - 1.5*(e.SLR+no), no
}

// is is the simultaneous impairment factor Is = Iolr + Ist + Iq (G.107 7.3).
func (e EModel) is(ro, no float64) float64 {
	olr := e.SLR + e.RLR
	xolr := olr + 0.2*(64+no-e.RLR)
	iolr := 20 * (math.Pow(1+math.Pow(xolr/8, 8), 1.0/8) - xolr/8)
	stmro := -10 * lg(math.Pow(10, -e.STMR/10)+math.Exp(-e.T/4)*math.Pow(10, -e.TELR/10))
	ist := 12*math.Pow(1+math.Pow((stmro-13)/6, 8), 1.0/8) -
		28*math.Pow(1+math.Pow((stmro+1)/19.4, 35), 1.0/35) -
		13*math.Pow(1+math.Pow((stmro-3)/33, 13), 1.0/13) + 29
	q := 37 - 15*lg(e.Qdu)
	g := 1.07 + 0.258*q + 0.0602*q*q
	y := (ro-100)/15 + 46/8.4 - g/9
	z := 46/30.0 - g/40
	iq := 15 * lg(1+math.Pow(10, y)+math.Pow(10, z))
	return iolr + ist + iq
}

// Idd parameters (G.107 7.4, equation 7-28): no impairment below mT.
const (
	iddMT = 100.0 // ms
	iddST = 1.0
)

// iddOf is the impairment from absolute delay Ta (G.107 7.4, eq. 7-28/29):
// zero up to mT = 100 ms, then growing with log2(Ta/100).
func iddOf(ta float64) float64 {
	if ta <= iddMT {
		return 0
	}
	x := lg(ta/iddMT) / lg(2)
	return 25 * (math.Pow(1+math.Pow(x, 6*iddST), 1/(6*iddST)) -
		3*math.Pow(1+math.Pow(x/3, 6*iddST), 1/(6*iddST)) + 2)
}

// id is the delay impairment Id = Idte + Idle + Idd (G.107 7.4).
func (e EModel) id(ro, no float64) float64 {
	terv := e.TELR - 40*lg((1+e.T/10)/(1+e.T/150)) + 6*math.Exp(-0.3*e.T*e.T)
	if e.STMR < 9 {
		// G.107: for STMR < 9 dB use TERVs = TERV + Ist/2.
		stmro := -10 * lg(math.Pow(10, -e.STMR/10)+math.Exp(-e.T/4)*math.Pow(10, -e.TELR/10))
		ist := 12*math.Pow(1+math.Pow((stmro-13)/6, 8), 1.0/8) -
			28*math.Pow(1+math.Pow((stmro+1)/19.4, 35), 1.0/35) -
			13*math.Pow(1+math.Pow((stmro-3)/33, 13), 1.0/13) + 29
		terv += ist / 2
	}
	re := 80 + 2.5*(terv-14)
	roe := -1.5 * (no - e.RLR)
	idte := ((roe-re)/2 + math.Sqrt((roe-re)*(roe-re)/4+100) - 1) * (1 - math.Exp(-e.T))
	rle := 10.5 * (e.WEPL + 7) * math.Pow(e.Tr+1, -0.25)
	idle := (ro-rle)/2 + math.Sqrt((ro-rle)*(ro-rle)/4+169)
	idd := iddOf(e.Ta)
	return idte + idle + idd
}

// ieEff is Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl) (G.107 7.5).
func (e EModel) ieEff() float64 {
	br := e.BurstR
	if br <= 0 {
		br = 1
	}
	return e.Ie + (95-e.Ie)*e.Ppl/(e.Ppl/br+e.Bpl)
}

// MOSFromR is the G.107 Annex B conversion to the conversational quality
// estimate MOS-CQE, clamped to [1, 4.5].
func MOSFromR(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	return 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
}

// CodecImpairment is the equipment impairment Ie and packet-loss robustness
// Bpl for a codec. Assumed is true when G.113 has no narrowband value for
// the codec and we substituted one (see codecImpairment).
type CodecImpairment struct {
	Ie, Bpl float64
	Assumed bool
	Source  string
}

// codecImpairment returns Ie and Bpl from ITU-T G.113 (11/2007) Appendix I:
// Ie from Table I.1, Bpl from Table I.3 where the codec is listed there.
// plc selects G.711 "with PLC" (Appendix I of G.711) against "random loss,
// no PLC".
//
// Codecs G.113 does not give narrowband E-model values for:
//   - G.722 and Opus are wideband/fullband; the narrowband E-model (R max
//     93.2) cannot express their advantage (G.107.1 would). We use the
//     G.711-with-PLC values (Ie 0, Bpl 25.1) and flag them Assumed.
//   - iLBC, GSM-FR, G.726, G.728 have Ie in Table I.1 but no Bpl in
//     Table I.3; we use Bpl 10 (the GSM-EFR value, the most conservative
//     listed for a codec with built-in concealment) and flag them Assumed.
func codecImpairment(name string, plc bool) CodecImpairment {
	n := strings.ToUpper(name)
	switch {
	case n == "PCMU" || n == "PCMA" || n == "G711" || strings.HasPrefix(n, "G711"):
		if plc {
			return CodecImpairment{Ie: 0, Bpl: 25.1, Source: "G.113 I.1/I.3: G.711 with PLC"}
		}
		return CodecImpairment{Ie: 0, Bpl: 4.3, Source: "G.113 I.1/I.3: G.711 random loss, no PLC"}
	case strings.HasPrefix(n, "G729"):
		return CodecImpairment{Ie: 11, Bpl: 19, Source: "G.113 I.1/I.3: G.729A+VAD"}
	case strings.HasPrefix(n, "G723"):
		return CodecImpairment{Ie: 15, Bpl: 16.1, Source: "G.113 I.1/I.3: G.723.1+VAD 6.3 kbit/s"}
	case n == "GSM-EFR":
		return CodecImpairment{Ie: 5, Bpl: 10, Source: "G.113 I.1/I.3: GSM-EFR"}
	case n == "GSM":
		return CodecImpairment{Ie: 20, Bpl: 10, Assumed: true, Source: "G.113 I.1: GSM-FR Ie 20; Bpl assumed"}
	case n == "ILBC":
		return CodecImpairment{Ie: 11, Bpl: 10, Assumed: true, Source: "iLBC: Ie assumed (not in G.113 I.1), Bpl assumed"}
	case strings.HasPrefix(n, "G726-16"), strings.HasPrefix(n, "AAL2-G726-16"):
		return CodecImpairment{Ie: 50, Bpl: 10, Assumed: true, Source: "G.113 I.1: G.726 16 kbit/s; Bpl assumed"}
	case strings.HasPrefix(n, "G726-24"), strings.HasPrefix(n, "AAL2-G726-24"):
		return CodecImpairment{Ie: 25, Bpl: 10, Assumed: true, Source: "G.113 I.1: G.726 24 kbit/s; Bpl assumed"}
	case strings.HasPrefix(n, "G726-40"), strings.HasPrefix(n, "AAL2-G726-40"):
		return CodecImpairment{Ie: 2, Bpl: 10, Assumed: true, Source: "G.113 I.1: G.726 40 kbit/s; Bpl assumed"}
	case strings.HasPrefix(n, "G726"), strings.HasPrefix(n, "AAL2-G726"), n == "G721":
		return CodecImpairment{Ie: 7, Bpl: 10, Assumed: true, Source: "G.113 I.1: G.726 32 kbit/s; Bpl assumed"}
	case n == "G728":
		return CodecImpairment{Ie: 7, Bpl: 10, Assumed: true, Source: "G.113 I.1: G.728 16 kbit/s; Bpl assumed"}
	case n == "G722" || strings.HasPrefix(n, "OPUS"):
		return CodecImpairment{Ie: 0, Bpl: 25.1, Assumed: true, Source: "wideband: no narrowband G.113 value; G.711+PLC used"}
	}
	return CodecImpairment{Ie: 0, Bpl: 25.1, Assumed: true, Source: "unknown codec: G.711+PLC used"}
}

// Assessment is an E-model result together with every input that produced
// it, so a report can explain its MOS.
type Assessment struct {
	Codec    string  `json:"codec"`
	Ie       float64 `json:"ie"`
	Bpl      float64 `json:"bpl"`
	Ppl      float64 `json:"ppl"`     // percent
	BurstR   float64 `json:"burst_r"` // 1 = random
	DelayMs  float64 `json:"delay_ms"`
	R        float64 `json:"r"`
	MOS      float64 `json:"mos"`
	Assumed  bool    `json:"assumed"`
	Source   string  `json:"source"`
	LateLost int     `json:"late_lost"` // packets a jitter buffer discarded
}

// String is the one-line explanation the TUI shows.
func (a Assessment) String() string {
	s := fmt.Sprintf("codec=%s Ie=%.1f Bpl=%.1f Ppl=%.2f%% BurstR=%.2f delay=%.1fms R=%.1f MOS=%.2f",
		a.Codec, a.Ie, a.Bpl, a.Ppl, a.BurstR, a.DelayMs, a.R, a.MOS)
	if a.Assumed {
		s += " (assumed: " + a.Source + ")"
	}
	return s
}

// Assess runs the E-model for a codec with packet loss pplPct (percent),
// burst ratio and one-way delay.
func Assess(codec string, plc bool, pplPct, burstR, delayMs float64) Assessment {
	return (*delayMemo)(nil).assess(codec, plc, pplPct, burstR, delayMs)
}

// delayR is Ro − Is − Id of the default E-model at one-way delay ms:
// every power, logarithm and exponential of R, which depends on nothing
// else a report varies (Ie,eff and A come after it; see assess).
func delayR(ms float64) float64 {
	e := DefaultEModel().WithDelay(ms)
	ro, no := e.ro()
	return ro - e.is(ro, no) - e.id(ro, no)
}

// delayMemo remembers delayR for the last few delays: a report runs the
// E-model four times (and once per distinct loss of its series), and
// the streams of a capture share a handful of delays (the packet time
// plus each jitter buffer's depth), so the end of a run evaluated the
// same powers and logarithms thousands of times. Reports are built by
// concurrent readers too, hence the lock.
type delayMemo struct {
	mu   sync.Mutex
	ms   [8]uint64 // delays, as bits: -0 and NaN are keys like any other
	r    [8]float64
	n    int // slots filled
	next int // the slot overwritten next when all are
}

func (m *delayMemo) delayR(ms float64) float64 {
	k := math.Float64bits(ms)
	m.mu.Lock()
	for i := range m.n {
		if m.ms[i] == k {
			r := m.r[i]
			m.mu.Unlock()
			return r
		}
	}
	m.mu.Unlock()
	r := delayR(ms)
	m.mu.Lock()
	i := m.n
	if i == len(m.ms) {
		i, m.next = m.next, (m.next+1)%len(m.ms)
	} else {
		m.n++
	}
	m.ms[i], m.r[i] = k, r
	m.mu.Unlock()
	return r
}

// assess is Assess, with delayR through the memo unless m is nil.
func (m *delayMemo) assess(codec string, plc bool, pplPct, burstR, delayMs float64) Assessment {
	ci := codecImpairment(codec, plc)
	if pplPct < 0 {
		pplPct = 0
	}
	if burstR < 1 {
		burstR = 1 // G.107: BurstR < 1 is not defined for loss models we derive
	}
	var dr float64
	if m == nil {
		dr = delayR(delayMs)
	} else {
		dr = m.delayR(delayMs)
	}
	e := DefaultEModel().WithDelay(delayMs)
	e.Ie, e.Bpl, e.Ppl, e.BurstR = ci.Ie, ci.Bpl, pplPct, burstR
	// R(), evaluated in the same order: ((Ro − Is) − Id) − Ie,eff + A.
	r := dr - e.ieEff() + e.A
	return Assessment{Codec: codec, Ie: ci.Ie, Bpl: ci.Bpl, Ppl: pplPct, BurstR: burstR, DelayMs: delayMs,
		R: r, MOS: MOSFromR(r), Assumed: ci.Assumed, Source: ci.Source}
}
