//go:build linux

package live

import (
	"context"
	"fmt"
	"reflect"

	"github.com/gopacket/gopacket/afpacket"
	"golang.org/x/sys/unix"
)

// maxFanout bounds --fanout: each member has a ring of its own, and
// past a few per core more sockets only add wake-ups.
const maxFanout = 64

// OpenFanout opens n sockets on iface joined in one PACKET_FANOUT_HASH
// group: the kernel spreads packets over them by a symmetric flow hash,
// so both directions of a flow (a call's SIP, one RTP stream) land on
// the same member, each read by its own goroutine when the sources are
// given to capture.Run, which merges them back by time. The ring
// (o.BufferSize) is shared out between the members, so the memory asked
// for is what is used. n = 1 is Open.
//
// The group's id is chosen by the kernel (PACKET_FANOUT_FLAG_UNIQUEID)
// rather than derived from something like the PID: joining an id that
// another capture on the host already uses would silently share its
// packets with it.
func OpenFanout(ctx context.Context, iface string, o Options, n int) ([]*Source, error) {
	if n <= 1 {
		s, err := Open(ctx, iface, o)
		if err != nil {
			return nil, err
		}
		return []*Source{s}, nil
	}
	if n > maxFanout {
		return nil, fmt.Errorf("%w: %d sockets (at most %d)", ErrFanout, n, maxFanout)
	}
	if o.BufferSize <= 0 {
		o.BufferSize = DefaultBufferSize
	}
	o.BufferSize = max(o.BufferSize/n, minBufferSize)
	var out []*Source
	fail := func(err error) ([]*Source, error) {
		for _, s := range out {
			s.Close()
		}
		return nil, err
	}
	var id uint16
	for i := range n {
		s, err := Open(ctx, iface, o)
		if err != nil {
			return fail(err)
		}
		out = append(out, s)
		s.name = fmt.Sprintf("%s#%d", s.name, i+1)
		if i == 0 {
			id, err = joinUnique(s.tp)
		} else {
			err = s.tp.SetFanout(afpacket.FanoutHash, id)
		}
		if err != nil {
			return fail(fmt.Errorf("%w: %s: %v", ErrFanout, displayName(iface), err))
		}
	}
	return out, nil
}

// joinUnique creates the fanout group with a kernel-chosen id and
// returns the id, for the other members to join.
func joinUnique(tp *afpacket.TPacket) (uint16, error) {
	fd, ok := socketFD(tp)
	if !ok {
		return 0, fmt.Errorf("cannot reach the socket to learn its fanout group")
	}
	arg := (unix.PACKET_FANOUT_HASH | unix.PACKET_FANOUT_FLAG_UNIQUEID) << 16
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT, arg); err != nil {
		return 0, err
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_FANOUT)
	if err != nil {
		return 0, err
	}
	return uint16(got & 0xffff), nil
}

// socketFD reads the descriptor afpacket keeps unexported: reading an
// unexported integer field through reflect is allowed and safe, and the
// alternative (opening the sockets without afpacket) would duplicate its
// ring handling. If a future afpacket renames the field, fanout fails
// with a clear error instead of guessing an id.
func socketFD(tp *afpacket.TPacket) (int, bool) {
	f := reflect.ValueOf(tp).Elem().FieldByName("fd")
	if !f.IsValid() || !f.CanInt() {
		return 0, false
	}
	return int(f.Int()), true
}
