//go:build linux

package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// vethPair creates a veth pair (no addresses: nothing routes over it),
// deleted at cleanup; it skips when not root or without ip.
func vethPair(t *testing.T, up bool) (a, b string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a veth pair needs root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip not installed")
	}
	id := os.Getpid() % 1000000
	a, b = fmt.Sprintf("vti%da", id), fmt.Sprintf("vti%db", id)
	if out, err := exec.Command("ip", "link", "add", a, "type", "veth", "peer", "name", b).CombinedOutput(); err != nil {
		t.Skipf("ip link add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run() })
	if up {
		for _, n := range []string{a, b} {
			if out, err := exec.Command("ip", "link", "set", n, "up").CombinedOutput(); err != nil {
				t.Fatalf("ip link set %s up: %v: %s", n, err, out)
			}
		}
	}
	return a, b
}

// frame is an Ethernet frame with an experimental EtherType (RFC 9542's
// local 0x88b5) carrying marker, padded to n bytes.
func frame(marker string, n int) []byte {
	f := []byte{0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5}
	f = append(f, marker...)
	for len(f) < n {
		f = append(f, 0)
	}
	return f
}

// TestInjectorSendsWholeFrames: a frame sent on one end of a veth pair
// arrives whole at the other, read by our own live capture; a frame
// above the MTU is refused with ErrTooBig; every frame is counted.
func TestInjectorSendsWholeFrames(t *testing.T) {
	a, b := vethPair(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	src := openOrSkip(t, ctx, b)
	inj, err := OpenInjector(a, InjectorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	want := frame("voiptool injector test", 60)
	if err := inj.Send(want); err != nil {
		t.Fatal(err)
	}
	big := frame("too big", inj.Interface().MTU+14+64)
	if err := inj.Send(big); !errors.Is(err, ErrTooBig) {
		t.Fatalf("a frame above the MTU: %v", err)
	}
	if st := inj.Stats(); st.Sent != 1 || st.Bytes != 60 || st.TooBig != 1 || st.Dropped+st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	for {
		data, _, err := src.NextContext(ctx)
		if err != nil {
			t.Fatalf("the frame never arrived: %v", err)
		}
		if bytes.Equal(data, want) {
			return
		}
	}
}

// TestInjectorCountsEveryFrame: a burst far above what the peer's
// backlog holds is either sent or counted dropped, frame for frame.
func TestInjectorCountsEveryFrame(t *testing.T) {
	a, _ := vethPair(t, true)
	inj, err := OpenInjector(a, InjectorOptions{Wait: -1, SendBuffer: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer inj.Close()
	const n = 20000
	f := frame("burst", 1500)
	var dropped int
	for range n {
		if err := inj.Send(f); errors.Is(err, ErrDropped) {
			dropped++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	st := inj.Stats()
	if st.Sent+st.Dropped != n || st.Dropped != uint64(dropped) || st.Bytes != st.Sent*1500 {
		t.Fatalf("stats %+v for %d frames, %d ErrDropped", st, n, dropped)
	}
	t.Logf("%d frames at full speed: %d sent, %d dropped (no room)", n, st.Sent, st.Dropped)
}

func TestOpenInjectorRefuses(t *testing.T) {
	if _, err := OpenInjector("any", InjectorOptions{}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("any: %v", err)
	}
	if _, err := OpenInjector("no-such-if0", InjectorOptions{}); !errors.Is(err, ErrNoInterface) {
		t.Errorf("missing interface: %v", err)
	}
	a, _ := vethPair(t, false)
	if _, err := OpenInjector(a, InjectorOptions{}); !errors.Is(err, ErrDown) {
		t.Errorf("down interface: %v", err)
	}
}

// TestInjectorWithoutCapability: without CAP_NET_RAW the error is
// ErrPermission (and os.ErrPermission) with the live capture's advice.
// The capability is dropped from one locked OS thread only, which exits
// with its goroutine.
func TestInjectorWithoutCapability(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the test drops CAP_NET_RAW from a thread that has it")
	}
	res := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			res <- fmt.Errorf("capget: %w", err)
			return
		}
		data[0].Effective &^= 1 << unix.CAP_NET_RAW
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			res <- fmt.Errorf("capset: %w", err)
			return
		}
		_, err := OpenInjector("lo", InjectorOptions{})
		res <- err
	}()
	err := <-res
	if !errors.Is(err, ErrPermission) || !errors.Is(err, os.ErrPermission) || !strings.Contains(err.Error(), "CAP_NET_RAW") || !strings.Contains(err.Error(), "setcap") {
		t.Fatalf("without CAP_NET_RAW: %v", err)
	}
	t.Log(err)
}
