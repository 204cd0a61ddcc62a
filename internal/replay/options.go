package replay

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pace"
	"github.com/voiptool/voiptool/sipflow"
)

// DefaultMaxSockets bounds the local sockets (one per original source
// endpoint, one per TCP connection) a replay opens.
const DefaultMaxSockets = 512

// DefaultSpin is the pacer spin `voiptool replay` uses: it polls the
// clock for the last 2 ms before each departure instead of trusting the
// timer, which overshoots by about a millisecond; a replay is about
// timing, so the busy core is worth it.
const DefaultSpin = 2 * time.Millisecond

// DefaultProgressEvery is how often Options.Progress is called.
const DefaultProgressEvery = 500 * time.Millisecond

// Side says which party's packets a replay sends.
type Side uint8

const (
	// SideBoth sends every selected packet: both directions of a call.
	SideBoth Side = iota
	// SideCaller sends what the caller of each call sent (the source
	// of its first request, and the media its SDP offered): the live
	// peer plays the callee.
	SideCaller
	// SideCallee sends what the other side sent.
	SideCallee
)

// ParseSide reads "both", "caller" or "callee".
func ParseSide(s string) (Side, error) {
	switch s {
	case "both", "":
		return SideBoth, nil
	case "caller":
		return SideCaller, nil
	case "callee":
		return SideCallee, nil
	}
	return 0, fmt.Errorf("replay: bad side %q (both, caller or callee)", s)
}

func (s Side) String() string {
	switch s {
	case SideCaller:
		return "caller"
	case SideCallee:
		return "callee"
	}
	return "both"
}

// Map sends what the capture sent to From to To instead. A zero From port
// matches every port of the address; a zero To port keeps the original
// port.
type Map struct {
	From, To netip.AddrPort
}

func (m Map) String() string { return fmtEP(m.From) + "=" + fmtEP(m.To) }

func fmtEP(a netip.AddrPort) string {
	if a.Port() == 0 {
		return a.Addr().String()
	}
	return a.String()
}

// ParseMap reads ORIG_IP[:PORT]=NEW_IP[:PORT]. NEW may be a host name,
// resolved once now.
func ParseMap(s string) (Map, error) {
	from, to, ok := strings.Cut(s, "=")
	if !ok {
		return Map{}, fmt.Errorf("%w %q: want ORIG_IP[:PORT]=NEW_IP[:PORT]", ErrBadMap, s)
	}
	f, err := parseEP(from, false)
	if err != nil {
		return Map{}, fmt.Errorf("%w %q: %v", ErrBadMap, s, err)
	}
	t, err := parseEP(to, true)
	if err != nil {
		return Map{}, fmt.Errorf("%w %q: %v", ErrBadMap, s, err)
	}
	return Map{From: f, To: t}, nil
}

// ParseTarget reads HOST:PORT (a host name is resolved once now).
func ParseTarget(s string) (netip.AddrPort, error) {
	a, err := parseEP(s, true)
	if err != nil {
		return a, fmt.Errorf("%w %q: %v", ErrBadTarget, s, err)
	}
	if a.Port() == 0 {
		return a, fmt.Errorf("%w %q: want HOST:PORT", ErrBadTarget, s)
	}
	return a, nil
}

// parseEP reads IP, IP:PORT, [IPv6]:PORT, or with resolve a host name.
func parseEP(s string, resolve bool) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return netip.AddrPortFrom(a.Unmap(), 0), nil
	}
	host, port := s, "0"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", port)
	}
	if !resolve || host == "" {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", host)
	}
	ips, err := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
	if err != nil || len(ips) == 0 {
		return netip.AddrPort{}, fmt.Errorf("cannot resolve %q", host)
	}
	return netip.AddrPortFrom(ips[0].Unmap(), uint16(pn)), nil
}

// Options configure Run.
type Options struct {
	// Files are the captures, read once to select and once per loop.
	Files   []string
	Capture capture.Options

	// To receives every packet whose destination no Map names (invalid:
	// only mapped destinations are sent to).
	To   netip.AddrPort
	Maps []Map
	// AllowBroadcast permits broadcast and multicast targets.
	AllowBroadcast bool
	// Bind is the local address of the sockets (invalid: 127.0.0.1 when
	// every target is loopback, else the unspecified address).
	Bind netip.Addr
	// MaxSockets bounds the local sockets (0: DefaultMaxSockets).
	MaxSockets int

	// CallIDs and Filter select calls (both empty: every packet);
	// a Call-ID may be an unambiguous prefix.
	CallIDs []string
	Filter  sipflow.Filter
	// Side picks whose packets are sent.
	Side Side

	// Rewrite makes the SIP and SDP point at the targets and the local
	// sockets; NewIDs (with Rewrite) draws new Call-IDs, tags and branches
	// for each run; NewRTP gives each RTP stream new SSRC, sequence and
	// timestamp bases for each run.
	Rewrite bool
	NewIDs  bool
	NewRTP  bool

	// Speed 1 keeps the capture's timing; <= 0 sends as fast as possible.
	Speed float64
	// Spin: see pace.Options.Spin.
	Spin time.Duration
	// Loops is how many times the capture is played; 0 forever.
	Loops int
	// Linger keeps the sockets open this long after the last packet, so
	// a live peer's last answers are read and counted (0: close at once).
	Linger time.Duration

	// PPS and Mbps, when positive, replace the capture's timing (and
	// Speed) with a packet rate or a bit rate (of what is sent: frames,
	// or payloads over sockets).
	PPS, Mbps float64

	// Iface, when set, replays the capture's frames whole on this
	// interface through AF_PACKET (CAP_NET_RAW) instead of its payloads
	// over sockets: see RunFrames. To, Bind, Rewrite and NewIDs do not
	// apply there; Maps rewrite addresses in the frames.
	Iface string
	// SrcMAC and DstMAC, when set, replace every frame's Ethernet source
	// and destination; a capture without Ethernet headers (raw IP, Linux
	// cooked, BSD loopback) gets one built from them (DstMAC required).
	SrcMAC, DstMAC net.HardwareAddr
	// Force replays on an interface that owns one of the capture's
	// addresses (after Maps), which is refused otherwise.
	Force bool
	// OnlyVoIP sends only the frames that carry a classified payload
	// (SIP, RTP, RTCP, HEP). Without it, when no calls or side are
	// selected, the others (ARP, TCP handshakes and ACKs, DNS, ...) go
	// out as captured, so the wire sees what the capture saw; both are
	// counted (FrameCounts.Unclassified, SkippedUnclassified).
	OnlyVoIP bool
	// Window is how many records wait for the decoder to classify them
	// (the RTP heuristic names a flow's first packet only with its
	// second); 0: DefaultWindow.
	Window int

	// Progress, when set, is called every ProgressEvery (and once at the
	// end) from Run's goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// paceOptions are the pacer's options for o.
func (o *Options) paceOptions() pace.Options {
	return pace.Options{Speed: o.Speed, Spin: o.Spin, PPS: o.PPS, BitRate: o.Mbps * 1e6}
}
