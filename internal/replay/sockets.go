package replay

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// dialTimeout bounds the connect of one replayed TCP connection.
const dialTimeout = 3 * time.Second

// udpSock is the local socket standing for one original source endpoint.
type udpSock struct {
	c     *net.UDPConn
	local netip.AddrPort
}

// tcpConn is one replayed TCP connection.
type tcpConn struct {
	c     *net.TCPConn
	local netip.AddrPort
	err   error // the dial failed: every message on it is a send error
}

// sockets is the bounded table of local sockets. Each socket has a
// reader goroutine (owned here: close stops and waits for them) that
// counts what a live peer sends back and hands it to learn.
type sockets struct {
	bind  netip.Addr // invalid: unspecified
	max   int
	udp   map[netip.AddrPort]*udpSock    // by original source endpoint
	tcp   map[[2]netip.AddrPort]*tcpConn // by original (source, destination)
	route map[netip.Addr]netip.Addr      // target address -> local address towards it
	learn func([]byte)                   // called from reader goroutines

	wg        sync.WaitGroup
	recv      atomic.Int64
	recvBytes atomic.Int64
}

func newSockets(bind netip.Addr, max int, learn func([]byte)) *sockets {
	return &sockets{bind: bind, max: max, learn: learn,
		udp: make(map[netip.AddrPort]*udpSock), tcp: make(map[[2]netip.AddrPort]*tcpConn),
		route: make(map[netip.Addr]netip.Addr)}
}

func (s *sockets) n() int { return len(s.udp) + len(s.tcp) }

func (s *sockets) laddr() *net.UDPAddr {
	if !s.bind.IsValid() {
		return &net.UDPAddr{}
	}
	return net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.bind, 0))
}

// udpFor returns the socket for original source src, opening it if the
// table has room (ok false: full, or the open failed with err).
func (s *sockets) udpFor(src netip.AddrPort) (*udpSock, bool, error) {
	if u := s.udp[src]; u != nil {
		return u, true, nil
	}
	if s.n() >= s.max {
		return nil, false, nil
	}
	c, err := net.ListenUDP("udp", s.laddr())
	if err != nil {
		return nil, false, err
	}
	u := &udpSock{c: c, local: c.LocalAddr().(*net.UDPAddr).AddrPort()}
	s.udp[src] = u
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 65536)
		errRun := 0 // consecutive read errors
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				if isClosed(err) {
					return
				}
				// ICMP errors (port unreachable) surface here and the
				// socket stays usable; a persistent error must not spin
				// a core.
				if errRun++; errRun > 10 {
					time.Sleep(10 * time.Millisecond)
				}
				continue
			}
			errRun = 0
			s.got(buf[:n])
		}
	}()
	return u, true, nil
}

// tcpFor returns the connection replaying the original connection
// src->dst, dialling target the first time.
func (s *sockets) tcpFor(ctx context.Context, src, dst, target netip.AddrPort) (*tcpConn, bool) {
	k := [2]netip.AddrPort{src, dst}
	if t := s.tcp[k]; t != nil {
		return t, true
	}
	if s.n() >= s.max {
		return nil, false
	}
	t := &tcpConn{}
	s.tcp[k] = t
	d := net.Dialer{Timeout: dialTimeout}
	if s.bind.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(s.bind, 0))
	}
	c, err := d.DialContext(ctx, "tcp", target.String())
	if err != nil {
		t.err = err
		return t, true
	}
	t.c = c.(*net.TCPConn)
	t.local = t.c.LocalAddr().(*net.TCPAddr).AddrPort()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := t.c.Read(buf)
			if n > 0 {
				// best effort: a read usually holds whole messages
				s.got(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return t, true
}

func (s *sockets) got(b []byte) {
	s.recv.Add(1)
	s.recvBytes.Add(int64(len(b)))
	if s.learn != nil {
		s.learn(b)
	}
}

// localIP is the address a peer reaches a local socket at: the bound
// one, or for an unspecified bind the source address the kernel picks
// towards target (a connected UDP socket sends nothing).
func (s *sockets) localIP(local netip.AddrPort, target netip.Addr) netip.Addr {
	if a := local.Addr(); a.IsValid() && !a.IsUnspecified() {
		return a.Unmap()
	}
	if a, ok := s.route[target]; ok {
		return a
	}
	a := target
	if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(target, 9))); err == nil {
		a = c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		c.Close()
	}
	s.route[target] = a
	return a
}

// close closes every socket and waits for the readers.
func (s *sockets) close() {
	for _, u := range s.udp {
		u.c.Close()
	}
	for _, t := range s.tcp {
		if t.c != nil {
			t.c.Close()
		}
	}
	s.wg.Wait()
}

func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed)
}
