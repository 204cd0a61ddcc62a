package tlsdec

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// opensslCase is one openssl s_client/s_server run.
type opensslCase struct {
	name      string
	args      []string // version and suite flags, given to both peers
	suite     uint16
	version   uint16
	keyUpdate bool // send a KeyUpdate from each side mid-call (TLS 1.3)
	reason    Reason
}

var opensslCases = []opensslCase{
	{"tls13-aes128gcm", []string{"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"}, 0x1301, VersionTLS13, true, ReasonNone},
	{"tls13-aes256gcm", []string{"-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"}, 0x1302, VersionTLS13, true, ReasonNone},
	{"tls13-chacha20", []string{"-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"}, 0x1303, VersionTLS13, true, ReasonNone},
	{"tls12-aes256gcm", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"}, 0xc02c, VersionTLS12, false, ReasonNone},
	{"tls12-chacha20", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"}, 0xcca9, VersionTLS12, false, ReasonNone},
	{"tls12-cbc", []string{"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256"}, 0xc023, VersionTLS12, false, ReasonCBC},
}

// TestOpenSSLPeers runs openssl s_client and s_server (with -keylogfile)
// as an independent TLS implementation through a recording TCP proxy on
// loopback, sends the SIP call through them, and decrypts the recording.
func TestOpenSSLPeers(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed:", err)
	}
	dir := t.TempDir()
	certFile, keyFile := writeCertPEM(t, dir)
	for _, tc := range opensslCases {
		t.Run(tc.name, func(t *testing.T) {
			chunks, keylog := opensslCall(t, dir, certFile, keyFile, tc)
			plain, st := decryptChunks(t, keyLogFrom(t, keylog), chunks)
			if st.Version != tc.version || st.Suite != tc.suite {
				t.Fatalf("parsed version %#04x suite %#04x, want %#04x %#04x", st.Version, st.Suite, tc.version, tc.suite)
			}
			if tc.reason != ReasonNone {
				if st.Reason != tc.reason || st.Undecrypted[tc.reason] == 0 || len(plain[0])+len(plain[1]) != 0 {
					t.Fatalf("reason %v (%v), %d bytes out; want %v", st.Reason, st.Undecrypted, len(plain[0])+len(plain[1]), tc.reason)
				}
				return
			}
			checkCall(t, plain, st)
			if tc.keyUpdate && (st.Dir[0].KeyUpdates != 1 || st.Dir[1].KeyUpdates != 1) {
				t.Fatalf("key updates followed: %d client, %d server; want 1 each", st.Dir[0].KeyUpdates, st.Dir[1].KeyUpdates)
			}
			t.Logf("%s: %d+%d records decrypted, %d+%d SIP messages, %d+%d key updates", tc.name,
				st.Dir[0].Decrypted, st.Dir[1].Decrypted, len(sipRequests), len(sipResponses), st.Dir[0].KeyUpdates, st.Dir[1].KeyUpdates)
		})
	}
}

func writeCertPEM(t testing.TB, dir string) (string, string) {
	t.Helper()
	cert := testCert(t, false)
	kder, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// watched collects a process's output so the test can wait for text.
type watched struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *watched) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(b)
}

func (w *watched) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor polls until cond holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool, dump ...*watched) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			for _, d := range dump {
				t.Log(d.String())
			}
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startOpenSSL(t *testing.T, args []string, out *watched) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Stdout, cmd.Stderr = out, out
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill() // by PID
			<-done
		}
	})
	return cmd, in
}

// opensslCall runs one call: s_client -> recording proxy -> s_server.
func opensslCall(t *testing.T, dir, certFile, keyFile string, tc opensslCase) ([]chunk, []byte) {
	t.Helper()
	// A free port for s_server: there is a short race between closing
	// this listener and openssl binding it, acceptable on loopback.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srvAddr := l.Addr().String()
	l.Close()
	keylogFile := filepath.Join(dir, tc.name+".keylog")

	var srvOut, cliOut watched
	srvArgs := append([]string{"s_server", "-accept", srvAddr, "-cert", certFile, "-key", keyFile, "-naccept", "1", "-keylogfile", keylogFile + ".srv"}, tc.args...)
	_, srvIn := startOpenSSL(t, srvArgs, &srvOut)
	waitFor(t, "s_server to listen", func() bool { return strings.Contains(srvOut.String(), "ACCEPT") }, &srvOut)

	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	rec := &recorder{}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := proxy.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s, err := net.Dial("tcp", srvAddr)
		if err != nil {
			return
		}
		defer s.Close()
		var pw sync.WaitGroup
		pw.Add(2)
		pump := func(d Direction, dst, src net.Conn) {
			defer pw.Done()
			b := make([]byte, 32<<10)
			for {
				n, err := src.Read(b)
				rec.add(d, b[:n]) // recorded before it is forwarded: capture order
				if n > 0 {
					if _, werr := dst.Write(b[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					if tcp, ok := dst.(*net.TCPConn); ok {
						tcp.CloseWrite()
					}
					return
				}
			}
		}
		go pump(ClientToServer, s, c)
		go pump(ServerToClient, c, s)
		pw.Wait()
	}()

	cliArgs := append([]string{"s_client", "-connect", proxy.Addr().String(), "-keylogfile", keylogFile}, tc.args...)
	_, cliIn := startOpenSSL(t, cliArgs, &cliOut)
	count := func(w *watched, s string) func() bool {
		return func() bool { return strings.Contains(w.String(), s) }
	}
	send := func(w io.Writer, msgs ...string) {
		for _, m := range msgs {
			if _, err := io.WriteString(w, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	s2c := func() int {
		n := 0
		for _, c := range rec.all() {
			if c.dir == ServerToClient {
				n++
			}
		}
		return n
	}

	send(cliIn, sipRequests[0])
	waitFor(t, "INVITE at s_server", count(&srvOut, "inline:WVNf"), &srvOut, &cliOut)
	send(srvIn, sipResponses[:3]...)
	waitFor(t, "200 OK at s_client", count(&cliOut, "inline:PS1u"), &srvOut, &cliOut)
	if tc.keyUpdate {
		// s_client and s_server send a KeyUpdate for a line "k" alone.
		send(cliIn, "k\n")
		waitFor(t, "client KeyUpdate", count(&cliOut, "KEYUPDATE"), &cliOut)
	}
	send(cliIn, sipRequests[1])
	send(cliIn, sipRequests[2])
	waitFor(t, "BYE at s_server", count(&srvOut, "314160 BYE"), &srvOut, &cliOut)
	if tc.keyUpdate {
		n := s2c()
		send(srvIn, "k\n")
		waitFor(t, "server KeyUpdate record", func() bool { return s2c() > n }, &srvOut)
	}
	send(srvIn, sipResponses[3])
	waitFor(t, "200 OK to BYE at s_client", count(&cliOut, "CSeq: 314160 BYE"), &srvOut, &cliOut)
	cliIn.Close() // s_client sends close_notify and exits; s_server (-naccept 1) follows
	srvIn.Close()
	wg.Wait()
	keylog, err := os.ReadFile(keylogFile)
	if err != nil {
		t.Fatal(err)
	}
	return rec.all(), keylog
}

// TestOpenSSLKeysLoggedLate: openssl's own key log (-keylogfile), handed
// to a followed key log only after the handshake and first application
// record went by, still decrypts the whole call, as the records come.
func TestOpenSSLKeysLoggedLate(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed:", err)
	}
	dir := t.TempDir()
	certFile, keyFile := writeCertPEM(t, dir)
	for _, tc := range []opensslCase{opensslCases[0], opensslCases[3]} {
		t.Run(tc.name, func(t *testing.T) {
			chunks, keylog := opensslCall(t, dir, certFile, keyFile, tc)
			want, _ := decryptChunks(t, keyLogFrom(t, keylog), chunks)
			// The chunk after the one that brings the first application data.
			split, emitted := -1, false
			probe := NewSession(keyLogFrom(t, keylog), func(Direction, []byte) { emitted = true }, Options{})
			for i, c := range chunks {
				if probe.Feed(c.dir, c.b); emitted {
					split = i + 1
					break
				}
			}
			if split < 0 {
				t.Fatal("no application data")
			}
			var file bytes.Buffer
			keys := NewKeyLog(KeyLogOptions{})
			keys.Follow(&file, time.Nanosecond)
			var got [2][]byte
			s := NewSession(keys, func(d Direction, p []byte) { got[d] = append(got[d], p...) }, Options{})
			for i, c := range chunks {
				if i == split {
					file.Write(keylog)
				}
				s.SetMark(time.Unix(int64(i), 0), uint64(i))
				s.Feed(c.dir, c.b)
			}
			if s.Waiting() || !bytes.Equal(got[0], want[0]) || !bytes.Equal(got[1], want[1]) {
				t.Fatalf("waiting %v, %d+%d bytes, want %d+%d", s.Waiting(), len(got[0]), len(got[1]), len(want[0]), len(want[1]))
			}
			s.End()
			checkCall(t, got, s.Stats())
			if !s.Stats().LateKeys {
				t.Error("keys were not late")
			}
		})
	}
}
