package rtpstats

// histBuckets is the consecutive-loss histogram size: runs of 1..9 lost
// packets, and 10 or more in the last bucket.
const histBuckets = 10

// defaultGmin is the RFC 3611 4.7.2 recommended gap threshold.
const defaultGmin = 16

// lossPattern consumes the final received/lost fate of each sequence number
// in order and keeps: the RFC 3611 Appendix A.2 burst/gap transition
// counters, a histogram of consecutive-loss runs and the two-state Markov
// transition counts used for the G.107 BurstR.
type lossPattern struct {
	// What a received packet updates (received) first, together.
	pkt       int // RFC 3611 A.2: received since the last loss
	received_ int
	run       int // current consecutive-loss run
	n00, n10  int // Markov chain counts (0 = received, 1 = lost)
	have      bool
	prevLost  bool

	gmin int
	// RFC 3611 A.2 state: lost = losses in the current burst.
	lost                    int
	c11, c13, c14, c22, c23 int
	c33                     int
	n01, n11                int
	lostTot                 int
	// consecutive-loss run histogram
	hist [histBuckets]int
}

func (l *lossPattern) received(n int) {
	if n <= 0 {
		return
	}
	l.pkt += n
	l.received_ += n
	if l.run > 0 {
		l.closeRun()
	}
	if l.have {
		if l.prevLost {
			l.n10++
		} else {
			l.n00++
		}
	}
	l.n00 += n - 1
	l.have, l.prevLost = true, false
}

func (l *lossPattern) closeRun() {
	b := l.run
	if b > histBuckets {
		b = histBuckets
	}
	l.hist[b-1]++
	l.run = 0
}

func (l *lossPattern) lostN(n int) {
	if n <= 0 {
		return
	}
	l.lostTot += n
	l.run += n
	if l.have {
		if l.prevLost {
			l.n11++
		} else {
			l.n01++
		}
	}
	l.n11 += n - 1
	l.have, l.prevLost = true, true
	// RFC 3611 A.2, first lost packet of this run.
	if l.pkt >= l.gmin {
		// A.2 counts the previous burst's end here; before the first loss
		// there is no previous burst (lost == 0), which A.2 would
		// miscount as one.
		switch {
		case l.lost == 1:
			l.c14++
		case l.lost > 1:
			l.c13++
		}
		l.lost = 1
		l.c11 += l.pkt
	} else {
		l.lost++
		if l.pkt == 0 {
			l.c33++
		} else {
			l.c23++
			l.c22 += l.pkt - 1
		}
	}
	l.pkt = 0
	// The rest of the run follows a loss directly (pkt == 0).
	l.lost += n - 1
	l.c33 += n - 1
}

// BurstStats is the RFC 3611 4.7.2 burst/gap summary (densities as
// fractions 0..1 rather than the wire's /256), computed with the Appendix A.2
// algorithm. A burst is a run that starts and ends with a loss and holds no
// run of Gmin or more received packets; isolated losses belong to gaps.
type BurstStats struct {
	Gmin            int     `json:"gmin"`
	BurstDensity    float64 `json:"burst_density"`
	GapDensity      float64 `json:"gap_density"`
	BurstDurationMs float64 `json:"burst_duration_ms"`
	GapDurationMs   float64 `json:"gap_duration_ms"`
	// MarkovP is P(loss | previous received), MarkovQ P(received | previous
	// lost); BurstR = 1/(p+q) (G.107 7.5, 1 for random loss).
	MarkovP float64 `json:"markov_p"`
	MarkovQ float64 `json:"markov_q"`
	BurstR  float64 `json:"burst_r"`
}

// stats finishes the A.2 computation on a copy (l is a value receiver so
// the running state is untouched). frameMs is the packet duration.
func (l lossPattern) stats(frameMs float64) (BurstStats, [histBuckets]int) {
	if l.run > 0 {
		l.closeRun()
	}
	bs := BurstStats{Gmin: l.gmin, BurstR: 1}
	// The trailing received packets end the last gap (A.2 does this when
	// the next loss arrives; at report time there is none).
	c11 := l.c11 + l.pkt
	c14, c13, c22, c23, c33 := l.c14, l.c13, l.c22, l.c23, l.c33
	// A burst still open at the end (lost > 1) counts as one that ended.
	switch {
	case l.lost > 1:
		c13++
	case l.lost == 1:
		c14++
	}
	c31, c32 := c13, c23
	ctotal := c11 + c14 + c13 + c22 + c23 + c31 + c32 + c33
	if c13 > 0 {
		p32 := float64(c32) / float64(c31+c32+c33)
		p23 := 1.0
		if c22+c23 >= 1 {
			p23 = 1 - float64(c22)/float64(c22+c23)
		}
		bs.BurstDensity = p23 / (p23 + p32)
		gap := float64(c11+c14+c13) * frameMs / float64(c13)
		bs.GapDurationMs = gap
		bs.BurstDurationMs = float64(ctotal)*frameMs/float64(c13) - gap
	} else {
		bs.GapDurationMs = float64(l.received_+l.lostTot) * frameMs
	}
	if c11+c14 > 0 {
		bs.GapDensity = float64(c14) / float64(c11+c14)
	}
	if n := l.n00 + l.n01; n > 0 {
		bs.MarkovP = float64(l.n01) / float64(n)
	}
	if n := l.n10 + l.n11; n > 0 {
		bs.MarkovQ = float64(l.n10) / float64(n)
	}
	if pq := bs.MarkovP + bs.MarkovQ; pq > 0 && l.lostTot > 0 {
		bs.BurstR = 1 / pq
	}
	return bs, l.hist
}
