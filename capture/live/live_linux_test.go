//go:build linux

package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/bpf"

	"github.com/voiptool/voiptool/pcap"
)

// openOrSkip opens a capture, skipping where the test may not open
// packet sockets (no CAP_NET_RAW); CI runs as root and never skips.
func openOrSkip(t *testing.T, ctx context.Context, iface string) *Source {
	t.Helper()
	s, err := Open(ctx, iface, Options{PollInterval: 20 * time.Millisecond})
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("live capture needs CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestLoopbackSIP sends a SIP OPTIONS over UDP on loopback and expects
// to read it back from the capture, framed as the link type says.
func TestLoopbackSIP(t *testing.T) {
	for _, iface := range []string{"lo", "any"} {
		t.Run(iface, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			src := openOrSkip(t, ctx, iface)

			conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			marker := []byte("OPTIONS sip:live-test-" + iface + "@127.0.0.1 SIP/2.0\r\n\r\n")
			// Send a few times: the socket may not see the very first
			// datagram if it races the ring setup.
			for i := 0; i < 3; i++ {
				if _, err := conn.WriteToUDP(marker, conn.LocalAddr().(*net.UDPAddr)); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < 10000; i++ {
				data, p, err := src.Next()
				if errors.Is(err, io.EOF) {
					t.Fatalf("no SIP packet seen on %s before the deadline", iface)
				}
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Contains(data, marker) {
					continue
				}
				if p.LinkType != src.LinkType() || p.Number == 0 || p.Timestamp.IsZero() {
					t.Fatalf("packet meta = %+v", p)
				}
				// The IP header's position proves the link type is right:
				// 14 bytes in for Ethernet, at 0 for RAW.
				off := 0
				if p.LinkType == pcap.LinkTypeEthernet {
					off = 14
				}
				if data[off]>>4 != 4 {
					t.Fatalf("link type %v but byte %d is %#x, not an IPv4 header", p.LinkType, off, data[off])
				}
				return
			}
			t.Fatal("SIP packet not found in 10000 packets")
		})
	}
}

// TestCancelEndsCapture checks that cancelling the context makes a
// blocked Next return io.EOF, so capture.Run can finish.
func TestCancelEndsCapture(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	src := openOrSkip(t, ctx, "lo")
	cancel()
	for i := 0; i < 1000; i++ {
		_, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("Next kept returning packets after cancel")
}

// TestLoopbackOnce: on "lo" each datagram is captured once, not once
// leaving and once arriving.
func TestLoopbackOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	src := openOrSkip(t, ctx, "lo")
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	marker := []byte("OPTIONS sip:once@127.0.0.1 SIP/2.0\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // let the ring start before the one datagram
	if _, err := conn.WriteToUDP(marker, conn.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i := 0; i < 100000; i++ {
		data, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			break // the deadline: every copy had its chance
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, marker) {
			seen++
		}
	}
	if seen != 1 {
		t.Errorf("datagram captured %d times on lo, want 1", seen)
	}
}

// A user filter runs in the kernel after the loopback prefix: only the
// datagrams it accepts arrive, and each once.
func TestFilterOnLoopback(t *testing.T) {
	a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	port := uint32(a.LocalAddr().(*net.UDPAddr).Port)
	// Ethernet/IPv4 without options, UDP destination port == port.
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 4},
		bpf.LoadAbsolute{Off: 23, Size: 1},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 17, SkipTrue: 2},
		bpf.LoadAbsolute{Off: 36, Size: 2},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: port, SkipTrue: 1},
		bpf.RetConstant{Val: 0},
		bpf.RetConstant{Val: 0x40000},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	src, err := Open(ctx, "lo", Options{PollInterval: 20 * time.Millisecond, Filter: prog})
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("live capture needs CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	time.Sleep(100 * time.Millisecond)
	marker := []byte("OPTIONS sip:filter@127.0.0.1 SIP/2.0\r\n\r\n")
	for i := 0; i < 3; i++ {
		a.WriteToUDP(marker, b.LocalAddr().(*net.UDPAddr)) // to b: filtered out
		b.WriteToUDP(marker, a.LocalAddr().(*net.UDPAddr)) // to a: kept
	}
	toA, other := 0, 0
	for {
		data, _, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, marker) {
			continue // other tests' loopback traffic that happens to use the port
		}
		if len(data) >= 38 && uint32(data[36])<<8|uint32(data[37]) == port {
			toA++
		} else {
			other++ // our datagrams to b: the filter should have dropped them
		}
	}
	if toA != 3 || other != 0 {
		t.Errorf("filter kept %d datagrams to the port (want 3) and %d others (want 0)", toA, other)
	}
	if src.RingSize() < minBufferSize {
		t.Errorf("ring %d bytes", src.RingSize())
	}
}

func TestUnknownInterfaceListsInterfaces(t *testing.T) {
	_, err := Open(context.Background(), "nosuch0", Options{})
	if !errors.Is(err, ErrNoInterface) || !strings.Contains(err.Error(), "lo") || !strings.Contains(err.Error(), "any") {
		t.Errorf("error %v: want ErrNoInterface listing the interfaces", err)
	}
}

// Without CAP_NET_RAW the error says what to run. The test re-runs
// itself as nobody (setpriv), where packet sockets are refused.
func TestPermissionMessage(t *testing.T) {
	if os.Getenv("VOIPTOOL_LIVE_NOPRIV") == "1" {
		_, err := Open(context.Background(), "lo", Options{})
		fmt.Println("ERR:", err, errors.Is(err, os.ErrPermission), errors.Is(err, ErrPermission))
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop to nobody with setpriv")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary lives in a private build directory: copy it where
	// nobody may run it.
	dir, err := os.MkdirTemp("", "voiptool-nopriv-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "live.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all", bin, "-test.run=^TestPermissionMessage$")
	cmd.Env = append(os.Environ(), "VOIPTOOL_LIVE_NOPRIV=1")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "CAP_NET_RAW") || !strings.Contains(s, "setcap cap_net_raw,cap_net_admin+ep") || !strings.Contains(s, "true true") {
		t.Errorf("message without CAP_NET_RAW:\n%s", s)
	}
}
