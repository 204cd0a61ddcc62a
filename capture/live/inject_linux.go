//go:build linux

package live

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultSendBuffer is the socket send buffer of an Injector when
// InjectorOptions.SendBuffer is zero: room for a burst of ~2 800
// full-size frames, so a --topspeed replay rarely finds it full.
const DefaultSendBuffer = 4 << 20

// DefaultSendWait is how long Send waits for room in a full socket
// buffer before it counts the frame dropped.
const DefaultSendWait = 10 * time.Millisecond

// InjectorOptions configure an Injector; the zero value is useful.
type InjectorOptions struct {
	// SendBuffer is SO_SNDBUF in bytes (0: DefaultSendBuffer).
	SendBuffer int
	// Wait bounds how long Send waits for room (0: DefaultSendWait;
	// negative: not at all). A paced replay prefers a dropped frame,
	// counted, to one sent late.
	Wait time.Duration
}

// Injector sends whole link-layer frames on one interface through an
// AF_PACKET SOCK_RAW socket (pure Go, no libpcap): the frame leaves
// exactly as given, Ethernet header first. It is used by one goroutine.
type Injector struct {
	fd   int
	ifi  *net.Interface
	wait time.Duration
	st   InjectStats
}

// InjectStats count every frame given to Send: sent, or why not.
type InjectStats struct {
	Sent    uint64 `json:"sent"`
	Bytes   uint64 `json:"bytes"`
	Dropped uint64 `json:"dropped_no_room"` // EAGAIN/ENOBUFS after Wait: socket or device queue full
	TooBig  uint64 `json:"dropped_too_big"` // EMSGSIZE: larger than the interface's MTU
	Errors  uint64 `json:"errors"`          // anything else (interface down, ...)
}

// OpenInjector opens a raw socket bound to iface. The interface must be
// up and carry Ethernet frames (a 6-byte hardware address, or loopback,
// whose frames have a zeroed Ethernet header).
func OpenInjector(iface string, o InjectorOptions) (*Injector, error) {
	if iface == "" || iface == "any" {
		return nil, fmt.Errorf("%w: frames are sent on one named interface, not %q", ErrNoInterface, displayName(iface))
	}
	ifi, err := interfaceByName(iface)
	if err != nil {
		return nil, err
	}
	if len(ifi.HardwareAddr) != 6 && ifi.Flags&net.FlagLoopback == 0 {
		return nil, fmt.Errorf("%w: %s has no Ethernet header (hardware address %q)", ErrNotEthernet, iface, ifi.HardwareAddr)
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("%w: %s", ErrDown, iface)
	}
	if o.SendBuffer <= 0 {
		o.SendBuffer = DefaultSendBuffer
	}
	switch {
	case o.Wait == 0:
		o.Wait = DefaultSendWait
	case o.Wait < 0:
		o.Wait = 0
	}
	// Protocol 0: this socket receives nothing; it only sends.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			// the live capture's advice, worded for sending; still ErrPermission
			return nil, messageError{msg: fmt.Sprintf("live: sending raw frames on %s needs the CAP_NET_RAW capability: run as root, or grant the capability once: sudo setcap cap_net_raw,cap_net_admin+ep $(command -v voiptool)", iface), err: ErrPermission}
		}
		return nil, fmt.Errorf("live: raw socket for %s: %w", iface, err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("live: bind to %s: %w", iface, err)
	}
	// SO_SNDBUFFORCE passes the sysctl cap with CAP_NET_ADMIN; without
	// it SO_SNDBUF gets what the cap allows.
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, o.SendBuffer) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, o.SendBuffer) // best effort: the default buffer works, only smaller
	}
	return &Injector{fd: fd, ifi: ifi, wait: o.Wait}, nil
}

// Interface is the interface frames are sent on (name, index, MAC, MTU).
func (j *Injector) Interface() *net.Interface { return j.ifi }

// Addrs are the interface's own IP addresses.
func (j *Injector) Addrs() ([]netip.Addr, error) { return interfaceAddrs(j.ifi) }

// Send sends one frame. A full socket buffer is waited on for at most
// InjectorOptions.Wait, a full device queue (ENOBUFS) retried once after
// it; then the frame is dropped and Send returns an error wrapping
// ErrDropped. A frame above the MTU gives ErrTooBig. Every outcome is
// counted in Stats.
func (j *Injector) Send(frame []byte) error {
	err := unix.Send(j.fd, frame, unix.MSG_DONTWAIT)
	if (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOBUFS)) && j.wait > 0 {
		if errors.Is(err, unix.EAGAIN) {
			fds := []unix.PollFd{{Fd: int32(j.fd), Events: unix.POLLOUT}}
			_, _ = unix.Poll(fds, int(max(j.wait/time.Millisecond, 1))) // a timeout or EINTR: the retry says
		} else {
			time.Sleep(j.wait) // no readiness to poll for a device queue
		}
		err = unix.Send(j.fd, frame, unix.MSG_DONTWAIT)
	}
	switch {
	case err == nil:
		j.st.Sent++
		j.st.Bytes += uint64(len(frame))
		return nil
	case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.ENOBUFS):
		j.st.Dropped++
		return fmt.Errorf("%w: %v", ErrDropped, err)
	case errors.Is(err, unix.EMSGSIZE):
		j.st.TooBig++
		return fmt.Errorf("%w: %d bytes on %s (MTU %d)", ErrTooBig, len(frame), j.ifi.Name, j.ifi.MTU)
	}
	j.st.Errors++
	return fmt.Errorf("live: send on %s: %w", j.ifi.Name, err)
}

// Stats are the counters so far.
func (j *Injector) Stats() InjectStats { return j.st }

// Close closes the socket.
func (j *Injector) Close() error { return unix.Close(j.fd) }

func interfaceAddrs(ifi *net.Interface) ([]netip.Addr, error) {
	as, err := ifi.Addrs()
	if err != nil {
		return nil, fmt.Errorf("live: addresses of %s: %w", ifi.Name, err)
	}
	var out []netip.Addr
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out, nil
}

// messageError is err with a message of its own.
type messageError struct {
	msg string
	err error
}

func (e messageError) Error() string { return e.msg }
func (e messageError) Unwrap() error { return e.err }
