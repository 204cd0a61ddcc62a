package heptransport

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/hep"
)

// waitLimit bounds every wait for loopback traffic. It is a failure
// deadline, not a speed assertion.
const waitLimit = 10 * time.Second

// waitFor polls cond every 5 ms, at most waitLimit.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < int(waitLimit/(5*time.Millisecond)); i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// got is one delivered packet, copied out of the listener's buffer.
type got struct {
	p    hep.Packet
	raw  []byte // payload, decompressed
	peer netip.AddrPort
}

// collector runs a Listener and records what it delivers.
type collector struct {
	l      *Listener
	mu     sync.Mutex
	pkts   []got
	cancel context.CancelFunc
	done   chan error
}

func startCollector(t testing.TB, addrs []string, o ListenOptions) *collector {
	t.Helper()
	l, err := NewListener(addrs, o)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{l: l, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() {
		c.done <- l.Run(ctx, func(p *hep.Packet, peer netip.AddrPort) {
			raw, err := p.Decompress(nil)
			if err != nil {
				t.Errorf("decompress: %v", err)
			}
			q := *p
			q.Payload = nil
			q.AuthKey = append([]byte(nil), p.AuthKey...)
			q.GroupID = append([]byte(nil), p.GroupID...)
			q.CorrelationID = append([]byte(nil), p.CorrelationID...)
			q.Extra = nil
			c.mu.Lock()
			c.pkts = append(c.pkts, got{q, raw, peer})
			c.mu.Unlock()
		})
	}()
	t.Cleanup(func() { c.stop(t) })
	return c
}

// stop cancels Run and waits for it; safe to call twice.
func (c *collector) stop(t testing.TB) {
	t.Helper()
	if c.cancel == nil {
		return
	}
	c.cancel()
	c.cancel = nil
	select {
	case err := <-c.done:
		if err != nil {
			t.Errorf("Listener.Run: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Listener.Run did not return after cancel")
	}
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pkts)
}

func (c *collector) snapshot() []got {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]got(nil), c.pkts...)
}

// runSender starts s.Run and stops it at cleanup, checking that it returns.
func runSender(t testing.TB, s *Sender) context.CancelFunc {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Sender.Run: %v", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("Sender.Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

// sipMsg is a small SIP request numbered n, so order can be checked.
func sipMsg(n int) []byte {
	return []byte(fmt.Sprintf("OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-%d\r\n"+
		"Call-ID: seq-%d@192.0.2.10\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n", n, n, n))
}

func sipPacket(n int) hep.Packet {
	return SIPPacket(sipMsg(n), netip.MustParseAddrPort("192.0.2.10:5060"), netip.MustParseAddrPort("192.0.2.20:5060"),
		time.Unix(1700000000, int64(n)*1000).UTC(), ProtoUDP)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key,
// returning the file names (the certificate is its own CA).
func selfSigned(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "heptransport test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func itoa(i int) string { return strconv.Itoa(i) }
