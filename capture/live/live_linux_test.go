//go:build linux

package live

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

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
