package srtpdec

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// Defaults for Options fields left at 0.
const (
	DefaultMaxStreams  = 4096
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultMaxROCGuess is how many rollover counters beyond 0 are tried
	// for a stream whose first packets fail: a capture that starts more
	// than 65536 packets into a stream (about 22 minutes at 50 packets/s)
	// needs ROC 1 or more, which the packets do not carry (RFC 3711 3.3.1).
	DefaultMaxROCGuess = 4
	// rocGuessPackets bounds the packets of a stream for which ROC
	// guesses are tried, so a wrong key does not cost 1+MaxROCGuess
	// authentications per packet forever.
	rocGuessPackets = 16
)

// Options bound a Decryptor. The zero value is useful.
type Options struct {
	MaxStreams  int           // SSRCs tracked; 0 means DefaultMaxStreams
	IdleTimeout time.Duration // packet time after which an idle stream may be evicted; 0 means DefaultIdleTimeout
	MaxROCGuess int           // 0 means DefaultMaxROCGuess; negative disables guessing
}

// Counts are one stream's packets of one kind (SRTP or SRTCP).
type Counts struct {
	Packets    int // packets seen
	Decrypted  int // decrypted and authenticated
	AuthFailed int // failed authentication
	NoKey      int // no key for the SSRC or source
}

// StreamStats describes one SSRC.
type StreamStats struct {
	SSRC       uint32
	RTP, RTCP  Counts
	ROC        uint32 // SRTP rollover counter, as tracked
	ROCGuessed bool   // the first authenticated packet needed a guessed ROC above 0
	Last       time.Time
}

// Stats counts what no stream accounts for.
type Stats struct {
	Malformed int // not RTP/RTCP, or too short
	Refused   int // packets of new streams while the table was full
	Evicted   int // idle streams dropped to make room
}

type keyCtx struct {
	key Key
	ctx *srtp.Context
}

// Decryptor decrypts and authenticates SRTP and SRTCP (RFC 3711) with
// SDES keys, bound to an SSRC or to the source address of the side that
// announced them. It is not safe for concurrent use: one owner feeds it.
type Decryptor struct {
	o        Options
	bySSRC   map[uint32]*keyCtx
	bySource map[netip.AddrPort]*keyCtx
	streams  map[uint32]*StreamStats
	stats    Stats
	hdr      rtp.Header
	rhdr     rtcp.Header
	buf      []byte
}

// New returns a Decryptor with no keys.
func New(o Options) *Decryptor {
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxROCGuess == 0 {
		o.MaxROCGuess = DefaultMaxROCGuess
	}
	return &Decryptor{
		o:        o,
		bySSRC:   make(map[uint32]*keyCtx),
		bySource: make(map[netip.AddrPort]*keyCtx),
		streams:  make(map[uint32]*StreamStats),
		buf:      make([]byte, 0, 1500),
	}
}

func newKeyCtx(k Key) (*keyCtx, error) {
	if k.Suite == 0 || int(k.Suite) >= len(suiteInfo) {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedSuite, k.Suite)
	}
	// Replay protection is off: a capture may hold duplicates (mirrored
	// ports) and reordering beyond any window; all are decrypted.
	opts := []srtp.ContextOption{srtp.SRTPNoReplayProtection(), srtp.SRTCPNoReplayProtection()}
	if k.MKI != nil {
		opts = append(opts, srtp.MasterKeyIndicator(k.MKI))
	}
	if k.UnencryptedSRTP {
		opts = append(opts, srtp.SRTPNoEncryption())
	}
	if k.UnencryptedSRTCP {
		opts = append(opts, srtp.SRTCPNoEncryption())
	}
	c, err := srtp.CreateContext(k.MasterKey, k.MasterSalt, suiteInfo[k.Suite].profile, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCrypto, err)
	}
	return &keyCtx{key: k, ctx: c}, nil
}

// SetSSRCKey binds a key to one SSRC; it takes precedence over source keys.
func (d *Decryptor) SetSSRCKey(ssrc uint32, k Key) error {
	kc, err := newKeyCtx(k)
	if err != nil {
		return err
	}
	d.bySSRC[ssrc] = kc
	return nil
}

// SetSourceKey binds a key to the packets sent from src: with SDES the
// a=crypto of an SDP protects what its author sends, from the address
// of its m= line (RTCP from the next port unless rtcp-mux).
func (d *Decryptor) SetSourceKey(src netip.AddrPort, k Key) error {
	kc, err := newKeyCtx(k)
	if err != nil {
		return err
	}
	d.bySource[src] = kc
	return nil
}

// stream returns the SSRC's counters, evicting an idle stream when the
// table is full, or nil when none is idle.
func (d *Decryptor) stream(ssrc uint32, now time.Time) *StreamStats {
	if st := d.streams[ssrc]; st != nil {
		st.Last = now
		return st
	}
	if len(d.streams) >= d.o.MaxStreams {
		victim, ok := uint32(0), false
		for s, st := range d.streams {
			if now.Sub(st.Last) > d.o.IdleTimeout {
				victim, ok = s, true
				break
			}
		}
		if !ok {
			d.stats.Refused++
			return nil
		}
		delete(d.streams, victim)
		d.stats.Evicted++
	}
	st := &StreamStats{SSRC: ssrc, Last: now}
	d.streams[ssrc] = st
	return st
}

// RTP decrypts and authenticates one SRTP packet sent from src at packet
// time now. The returned RTP packet (header and payload, tag removed)
// aliases the Decryptor's buffer and is valid until the next call.
func (d *Decryptor) RTP(now time.Time, src netip.AddrPort, pkt []byte) ([]byte, error) {
	if len(pkt) < 12 || pkt[0]>>6 != 2 {
		d.stats.Malformed++
		return nil, fmt.Errorf("%w: %d bytes, not RTP", ErrMalformed, len(pkt))
	}
	ssrc := binary.BigEndian.Uint32(pkt[8:])
	st := d.stream(ssrc, now)
	if st == nil {
		return nil, ErrTooManyStreams
	}
	st.RTP.Packets++
	kc := d.bySSRC[ssrc]
	if kc == nil {
		kc = d.bySource[src]
	}
	if kc == nil {
		st.RTP.NoKey++
		return nil, ErrNoKey // bare: no allocation per packet (HasKey tells beforehand)
	}
	out, err := kc.ctx.DecryptRTP(d.buf[:0], pkt, &d.hdr)
	if err != nil && st.RTP.Decrypted == 0 && st.RTP.Packets <= rocGuessPackets {
		for roc := uint32(1); int(roc) <= d.o.MaxROCGuess && err != nil; roc++ {
			kc.ctx.SetROC(ssrc, roc)
			if out, err = kc.ctx.DecryptRTP(d.buf[:0], pkt, &d.hdr); err == nil {
				st.ROCGuessed = true
			}
		}
		if err != nil {
			kc.ctx.SetROC(ssrc, 0) // as if never seen
		}
	}
	if err != nil {
		st.RTP.AuthFailed++
		return nil, ErrAuth // bare: a flood of forged packets costs no allocation; counted per stream
	}
	if cap(out) > cap(d.buf) {
		d.buf = out[:0] // keep the grown buffer
	}
	st.RTP.Decrypted++
	st.ROC, _ = kc.ctx.ROC(ssrc)
	return out, nil
}

// HasKey reports whether SRTP of ssrc sent from src has a key (by SSRC,
// else by source), without counting anything: a caller feeding plain RTP
// and SRTP alike asks first, so plain streams take no table entry.
func (d *Decryptor) HasKey(src netip.AddrPort, ssrc uint32) bool {
	return d.bySSRC[ssrc] != nil || d.bySource[src] != nil
}

// RTCP decrypts and authenticates one SRTCP compound packet sent from src.
// The returned RTCP (index and tag removed) aliases the Decryptor's
// buffer and is valid until the next call.
func (d *Decryptor) RTCP(now time.Time, src netip.AddrPort, pkt []byte) ([]byte, error) {
	if len(pkt) < 8 || pkt[0]>>6 != 2 {
		d.stats.Malformed++
		return nil, fmt.Errorf("%w: %d bytes, not RTCP", ErrMalformed, len(pkt))
	}
	ssrc := binary.BigEndian.Uint32(pkt[4:])
	st := d.stream(ssrc, now)
	if st == nil {
		return nil, ErrTooManyStreams
	}
	st.RTCP.Packets++
	kc := d.bySSRC[ssrc]
	if kc == nil {
		kc = d.bySource[src]
	}
	if kc == nil && src.Port() > 0 {
		kc = d.bySource[netip.AddrPortFrom(src.Addr(), src.Port()-1)] // RTCP on RTP port + 1
	}
	if kc == nil {
		st.RTCP.NoKey++
		return nil, ErrNoKey
	}
	out, err := kc.ctx.DecryptRTCP(d.buf[:0], pkt, &d.rhdr)
	if err != nil {
		st.RTCP.AuthFailed++
		return nil, ErrAuth
	}
	if cap(out) > cap(d.buf) {
		d.buf = out[:0]
	}
	st.RTCP.Decrypted++
	return out, nil
}

// Streams returns a copy of every stream's counters, by SSRC.
func (d *Decryptor) Streams() []StreamStats {
	out := make([]StreamStats, 0, len(d.streams))
	for _, st := range d.streams {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b StreamStats) int { return int(int64(a.SSRC) - int64(b.SSRC)) })
	return out
}

// Stats returns the counters no stream accounts for.
func (d *Decryptor) Stats() Stats { return d.stats }
