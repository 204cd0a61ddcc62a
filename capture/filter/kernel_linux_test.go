//go:build linux

package filter

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

func sockFprog(raw []bpf.RawInstruction) *unix.SockFprog {
	f := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		f[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return &unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
}

// TestKernelAcceptsPrograms attaches every program the table compiles to
// a socket: the kernel's checker (jumps in range, ends in ret, valid
// opcodes and scratch slots) must accept them all.
func TestKernelAcceptsPrograms(t *testing.T) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		t.Skipf("no socket: %v", err)
	}
	defer unix.Close(fd)
	n := 0
	exprs := append(slices.Clone(diffExprs), randomExprs(60)...)
	exprs = append(exprs, "("+fmt.Sprint(longPortList(40))+") and host 10.0.0.1")
	for _, lt := range fuzzLinks {
		for _, e := range exprs {
			raw, err := Compile(e, lt, 0)
			if err != nil {
				continue
			}
			if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, sockFprog(raw)); err != nil {
				t.Errorf("link %d %q: kernel refuses the program: %v", lt, e, err)
			}
			n++
		}
	}
	t.Logf("kernel accepted %d programs", n)
}

func longPortList(n int) string {
	var b bytes.Buffer
	for p := 1; p <= n; p++ {
		if p > 1 {
			b.WriteString(" or ")
		}
		fmt.Fprintf(&b, "udp port %d", p)
	}
	return b.String()
}

// packetSocket opens an AF_PACKET socket on loopback, with prog attached
// if not nil: SOCK_RAW sees Ethernet frames, SOCK_DGRAM the network
// layer (as capture/live does on "any": link type RAW).
func packetSocket(t *testing.T, sockType int, prog []bpf.RawInstruction) int {
	t.Helper()
	const ethPAll = 0x0003
	proto := int(ethPAll<<8&0xff00 | ethPAll>>8)
	fd, err := unix.Socket(unix.AF_PACKET, sockType, proto)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		t.Skipf("AF_PACKET needs CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if prog != nil {
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, sockFprog(prog)); err != nil {
			t.Fatal(err)
		}
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: lo.Index}); err != nil {
		t.Fatal(err)
	}
	// room for every frame of a round even when the reader is slow
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
	tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	return fd
}

// drain reads frames carrying token (ours, or ICMP errors quoting ours)
// until it has seen end twice (its outgoing and arriving copies: the
// socket then holds every frame sent before it) and the socket stays
// quiet, or for at most 5 s under heavy load.
func drain(fd int, token, end []byte) [][]byte {
	var out [][]byte
	buf := make([]byte, 1<<16)
	ends := 0
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if ends >= 2 || end == nil {
				break // quiet after the end marker
			}
			continue
		}
		switch {
		case end != nil && bytes.Contains(buf[:n], end):
			ends++
		case bytes.Contains(buf[:n], token):
			out = append(out, append([]byte(nil), buf[:n]...))
		}
	}
	return out
}

// TestKernelLoopbackVerdicts runs our programs in the kernel: UDP
// datagrams (and the ICMP errors they provoke) cross loopback, one
// AF_PACKET socket sees them all, another only what our filter accepts,
// and x/net/bpf's verdict on each frame must say which.
func TestKernelLoopbackVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping loopback traffic")
	}
	exprs := []string{
		"udp dst port 47001",
		"udp portrange 47002-47004 and not port 47003",
		"host 127.0.0.1 and udp src port 47001 or udp dst port 47005",
		"ip6 and udp",
		"icmp or icmp6",
		"udp[8:2] = 0x5654 and len > 100",
		"greater 300 or ip[8] = 64 and udp dst port 47002",
		"not (udp port 47001 or 47002)",
	}
	ports := []int{47001, 47002, 47003, 47004, 47005}
	for _, sock := range []struct {
		typ  int
		link uint32
	}{{unix.SOCK_RAW, LinkTypeEthernet}, {unix.SOCK_DGRAM, LinkTypeRaw}} {
		for _, expr := range exprs {
			prog, err := Compile(expr, sock.link, 0)
			if err != nil {
				t.Fatal(err)
			}
			ins, _ := CompileInstructions(expr, sock.link, 0)
			vm, err := bpf.NewVM(ins)
			if err != nil {
				t.Fatal(err)
			}
			// The reference socket sees every frame our traffic can make
			// (its datagrams and the ICMP errors quoting them), not all of
			// loopback: on a busy machine (other tests' SIP and RTP on lo)
			// an unfiltered socket's buffer overflowed and lost ours.
			ours, err := Compile("udp portrange 47001-47009 or icmp or icmp6", sock.link, 0)
			if err != nil {
				t.Fatal(err)
			}
			all := packetSocket(t, sock.typ, ours)
			filtered := packetSocket(t, sock.typ, prog)
			token := make([]byte, 12)
			rand.Read(token)
			for i, p := range ports {
				for _, dst := range []string{"127.0.0.1", "::1"} {
					c, err := net.Dial("udp", net.JoinHostPort(dst, fmt.Sprint(p)))
					if err != nil {
						continue // no IPv6 on loopback
					}
					payload := append([]byte("VT"), token...)
					payload = append(payload, bytes.Repeat([]byte{'x'}, 60*i)...)
					c.Write(payload)
					c.Close()
				}
			}
			end := make([]byte, 12)
			rand.Read(end)
			if c, err := net.Dial("udp", "127.0.0.1:47009"); err == nil {
				c.Write(end)
				c.Close()
			}
			seen := drain(all, token, end)
			got := drain(filtered, token, nil) // everything is queued by now

			unix.Close(all)
			unix.Close(filtered)
			var want [][]byte
			for _, f := range seen {
				if n, _ := vm.Run(f); n > 0 {
					want = append(want, f)
				}
			}
			sortFrames(want)
			sortFrames(got)
			if len(seen) == 0 {
				t.Fatalf("link %d %q: no frame seen on loopback", sock.link, expr)
			}
			if !slices.EqualFunc(want, got, bytes.Equal) {
				t.Errorf("link %d %q: of %d frames the kernel passed %d, x/net/bpf %d", sock.link, expr, len(seen), len(got), len(want))
			}
			t.Logf("link %d %q: %d frames, %d accepted by kernel and VM alike", sock.link, expr, len(seen), len(got))
		}
	}
}

func sortFrames(f [][]byte) { slices.SortFunc(f, bytes.Compare) }
