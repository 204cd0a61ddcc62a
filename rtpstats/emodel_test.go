package rtpstats

import (
	"math"
	"testing"
)

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.4f, want %.4f ± %g", what, got, want, tol)
	}
}

func TestEModelWorkedExamples(t *testing.T) {
	// G.107 7.2: with all defaults R = 93.2; Annex B then gives
	// 1 + 0.035·93.2 + 93.2·33.2·6.8·7e-6 = 4.409.
	r := DefaultEModel().R()
	near(t, "default R", r, 93.2, 0.05)
	near(t, "default MOS", MOSFromR(r), 4.409, 0.005)

	// G.711 without PLC (Bpl 4.3), 2 % random loss:
	// Ie,eff = 95·2/(2/1 + 4.3) = 30.159; R = 93.2 − 30.159 = 63.04;
	// MOS = 1 + 2.2065 + 63.04·3.04·36.96·7e-6 = 3.256.
	a := Assess("PCMA", false, 2, 1, 0)
	near(t, "G.711 2% R", a.R, 63.04, 0.06)
	near(t, "G.711 2% MOS", a.MOS, 3.256, 0.005)
	near(t, "G.711 2% Bpl", a.Bpl, 4.3, 0)

	// Same loss with PLC (Bpl 25.1): Ie,eff = 190/27.1 = 7.011, R = 86.19.
	a = Assess("PCMU", true, 2, 1, 0)
	near(t, "G.711 PLC 2% R", a.R, 86.19, 0.06)

	// G.729A, no loss: R = 93.2 − 11 = 82.2.
	a = Assess("G729", true, 0, 1, 0)
	near(t, "G.729 R", a.R, 82.2, 0.06)

	// Bursty loss hurts more: BurstR 2 with G.711 PLC, 2 %:
	// Ie,eff = 190/(1 + 25.1) = 7.280 → R = 85.92.
	a = Assess("PCMU", true, 2, 2, 0)
	near(t, "G.711 PLC 2% BurstR 2 R", a.R, 85.92, 0.06)

	// Idd at Ta = 200 ms: X = 1, 25·(2^(1/6) − 3·(1+1/729)^(1/6) + 2) = 3.044.
	near(t, "Idd(200)", iddOf(200), 3.044, 0.002)
	near(t, "Idd(100)", iddOf(100), 0, 0)

	// MOS clamps.
	near(t, "MOS(-5)", MOSFromR(-5), 1, 0)
	near(t, "MOS(120)", MOSFromR(120), 4.5, 0)

	if a := Assess("opus", true, 0, 1, 0); !a.Assumed {
		t.Error("opus must be flagged as assumed (no narrowband G.113 value)")
	}
}

// Assess splits R into its delay part (remembered per delay by reports)
// and the rest: the result must be EModel.R's to the last bit, memo or
// not, for delays seen again, after the memo wrapped, and for -0.
func TestAssessSplitExact(t *testing.T) {
	var m delayMemo
	delays := []float64{0, math.Copysign(0, -1), 20, 20.5, 70, 220, 150.25, 400, 1, 33.3, 20, 70, 900, 5000}
	for round := range 3 {
		for _, d := range delays {
			for _, ppl := range []float64{0, 0.5, 3, 17.2, 100} {
				for _, br := range []float64{1, 1.7} {
					for _, codec := range []string{"PCMU", "G729", "opus", "AMR-WB", ""} {
						ci := codecImpairment(codec, true)
						e := DefaultEModel().WithDelay(d)
						e.Ie, e.Bpl, e.Ppl, e.BurstR = ci.Ie, ci.Bpl, ppl, br
						want := e.R()
						a, b := m.assess(codec, true, ppl, br, d), Assess(codec, true, ppl, br, d)
						if math.Float64bits(a.R) != math.Float64bits(want) || math.Float64bits(b.R) != math.Float64bits(want) {
							t.Fatalf("round %d codec %q delay %v ppl %v burst %v: R = %v (memo) %v, EModel.R %v", round, codec, d, ppl, br, a.R, b.R, want)
						}
					}
				}
			}
		}
	}
	if m.n != len(m.ms) {
		t.Errorf("memo holds %d delays, want it full (%d)", m.n, len(m.ms))
	}
}
