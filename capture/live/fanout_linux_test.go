//go:build linux

package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// A two-member fanout group on loopback: every datagram is read by
// exactly one member, both directions of a flow by the same one (the
// symmetric hash keeps a call's SIP on one reader), and with forty flows
// both members get some.
func TestFanoutSymmetric(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srcs, err := OpenFanout(ctx, "lo", Options{PollInterval: 20 * time.Millisecond, BufferSize: 4 << 20}, 2)
	if errors.Is(err, os.ErrPermission) {
		t.Skipf("live capture needs CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, s := range srcs {
			s.Close()
		}
	}()
	if len(srcs) != 2 || srcs[0].Name() != "lo#1" || srcs[1].Name() != "lo#2" {
		t.Fatalf("members %d, names %q %q", len(srcs), srcs[0].Name(), srcs[1].Name())
	}
	if srcs[0].RingSize() > 3<<20 {
		t.Errorf("member ring %d: the 4 MiB asked for is shared out", srcs[0].RingSize())
	}

	const flows = 40
	tag := fmt.Sprintf("fanout-%d-", os.Getpid())
	var mu sync.Mutex
	seen := map[string]int{} // marker → member
	dup := 0
	rctx, rcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				data, _, err := s.NextContext(rctx)
				if err != nil {
					return
				}
				j := bytes.Index(data, []byte(tag))
				if j < 0 {
					continue
				}
				m := string(data[j:])
				mu.Lock()
				if _, ok := seen[m]; ok {
					dup++
				}
				seen[m] = i
				n := len(seen)
				mu.Unlock()
				if n == 2*flows {
					rcancel()
				}
			}
		}()
	}
	for k := range flows {
		a, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		b, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		a.WriteToUDP([]byte(fmt.Sprintf("%s%d-ab", tag, k)), b.LocalAddr().(*net.UDPAddr))
		b.WriteToUDP([]byte(fmt.Sprintf("%s%d-ba", tag, k)), a.LocalAddr().(*net.UDPAddr))
		a.Close()
		b.Close()
	}
	select {
	case <-rctx.Done():
	case <-time.After(5 * time.Second):
	}
	rcancel()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 2*flows || dup != 0 {
		t.Fatalf("read %d of %d datagrams, %d twice", len(seen), 2*flows, dup)
	}
	per := [2]int{}
	for k := range flows {
		ab, ba := seen[fmt.Sprintf("%s%d-ab", tag, k)], seen[fmt.Sprintf("%s%d-ba", tag, k)]
		if ab != ba {
			t.Errorf("flow %d: its two directions went to members %d and %d", k, ab, ba)
		}
		per[ab]++
	}
	if per[0] == 0 || per[1] == 0 {
		t.Errorf("flows per member %v: the hash did not spread", per)
	}
}

func TestFanoutBounds(t *testing.T) {
	if _, err := OpenFanout(context.Background(), "lo", Options{}, maxFanout+1); !errors.Is(err, ErrFanout) {
		t.Errorf("too many members: %v", err)
	}
}
