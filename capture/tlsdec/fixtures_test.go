package tlsdec

import (
	"bytes"
	"crypto/tls"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/pcap"
)

var update = flag.Bool("update", false, "regenerate testdata/*.pcap and *.keylog")

// fixtures are committed captures of the SIP call over TLS, each with the
// key log beside it (NAME.pcap, NAME.keylog); TestGenerateFixtures
// recreates them with -update.
var fixtures = []struct {
	name    string
	version uint16
	suite   uint16
	openssl *opensslCase // nil: Go client and server
}{
	{"tls12-ecdhe-ecdsa-aes128gcm", VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, nil},
	{"tls12-ecdhe-rsa-aes256gcm", VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, nil},
	{"tls12-ecdhe-ecdsa-chacha20", VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, nil},
	{"tls13-aes128gcm", VersionTLS13, tls.TLS_AES_128_GCM_SHA256, nil},
	{"tls13-aes256gcm-keyupdate", VersionTLS13, tls.TLS_AES_256_GCM_SHA384, &opensslCases[1]},
	{"tls13-chacha20-keyupdate", VersionTLS13, tls.TLS_CHACHA20_POLY1305_SHA256, &opensslCases[2]},
}

// TestGenerateFixtures recreates the committed captures:
// go test ./capture/tlsdec -run TestGenerateFixtures -update
func TestGenerateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	dir := t.TempDir()
	ecdsaCert, rsaCert := testCert(t, false), testCert(t, true)
	certFile, keyFile := writeCertPEM(t, dir)
	for _, f := range fixtures {
		var chunks []chunk
		var keylog []byte
		var suite uint16
		if f.openssl != nil {
			chunks, keylog = opensslCall(t, dir, certFile, keyFile, *f.openssl)
			suite = f.openssl.suite
		} else {
			cert := ecdsaCert
			if strings.Contains(f.name, "rsa") {
				cert = rsaCert
			}
			s := f.suite
			if f.version == VersionTLS13 {
				s = 0 // not configurable: Go picks
			}
			var cs tls.ConnectionState
			chunks, keylog, cs = goCall(t, cert, f.version, s)
			suite = cs.CipherSuite
		}
		if suite != f.suite {
			t.Fatalf("%s: negotiated %#04x, want %#04x", f.name, suite, f.suite)
		}
		writePcap(t, testdataPath(f.name+".pcap"), chunks)
		if err := os.WriteFile(testdataPath(f.name+".keylog"), keylog, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fixtureKeys(t *testing.T, name string) *KeyLog {
	t.Helper()
	b, err := os.ReadFile(testdataPath(name + ".keylog"))
	if err != nil {
		t.Fatal(err)
	}
	return keyLogFrom(t, b)
}

// TestFixtures decrypts the committed captures through the whole path:
// pcap reader, TCP payloads per direction, Session.
func TestFixtures(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			chunks := readPcapStreams(t, testdataPath(f.name+".pcap"), pcapServer.port)
			plain, st := decryptChunks(t, fixtureKeys(t, f.name), chunks)
			if st.Version != f.version || st.Suite != f.suite {
				t.Fatalf("parsed %#04x/%#04x, want %#04x/%#04x", st.Version, st.Suite, f.version, f.suite)
			}
			checkCall(t, plain, st)
			if f.openssl != nil && (st.Dir[0].KeyUpdates != 1 || st.Dir[1].KeyUpdates != 1) {
				t.Fatalf("key updates %d/%d, want 1/1", st.Dir[0].KeyUpdates, st.Dir[1].KeyUpdates)
			}
			// One byte at a time: records split anywhere must give the same.
			var one []chunk
			for _, c := range chunks {
				for i := range c.b {
					one = append(one, chunk{c.dir, c.b[i : i+1]})
				}
			}
			plain1, st1 := decryptChunks(t, fixtureKeys(t, f.name), one)
			if !bytes.Equal(plain1[0], plain[0]) || !bytes.Equal(plain1[1], plain[1]) || st1.Dir != st.Dir {
				t.Fatal("byte-at-a-time feeding decrypts differently")
			}
		})
	}
}

// TestTsharkAgrees decrypts every fixture with tshark and the same key
// log and checks it finds the same SIP messages, in the same order.
func TestTsharkAgrees(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed:", err)
	}
	var want []string
	for _, m := range append(append([]string(nil), sipRequests...), sipResponses...) {
		want = append(want, m[:strings.Index(m, "\r\n")])
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			out, err := exec.Command("tshark", "-n", "-r", testdataPath(f.name+".pcap"),
				"-o", "tls.keylog_file:"+testdataPath(f.name+".keylog"),
				"-o", "tls.desegment_ssl_records:TRUE", "-o", "tls.desegment_ssl_application_data:TRUE",
				"-d", "tcp.port==5061,tls", "-Y", "sip",
				"-T", "fields", "-E", "occurrence=a", "-e", "sip.Request-Line", "-e", "sip.Status-Line").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			var got []string
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				for _, f := range strings.Split(line, "\t") {
					for _, m := range strings.Split(f, ",") {
						if m != "" {
							got = append(got, m)
						}
					}
				}
			}
			// tshark lists in capture order; ours per direction: compare as sets of lines with counts.
			if !sameMultiset(got, want) {
				t.Fatalf("tshark found %d SIP messages %q, we sent and decrypt %d %q", len(got), got, len(want), want)
			}
			t.Logf("tshark decrypts the same %d SIP messages", len(got))
		})
	}
}

func sameMultiset(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	n := map[string]int{}
	for _, s := range a {
		n[s]++
	}
	for _, s := range b {
		n[s]--
	}
	for _, v := range n {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestEditcapInjectedSecrets: editcap --inject-secrets puts the key log
// into a pcapng Decryption Secrets Block; the pcap reader hands it over
// and the capture decrypts with no key log file.
func TestEditcapInjectedSecrets(t *testing.T) {
	if _, err := exec.LookPath("editcap"); err != nil {
		t.Skip("editcap not installed:", err)
	}
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), f.name+".pcapng")
			if b, err := exec.Command("editcap", "--inject-secrets", "tls,"+testdataPath(f.name+".keylog"), testdataPath(f.name+".pcap"), out).CombinedOutput(); err != nil {
				t.Fatalf("editcap: %v: %s", err, b)
			}
			r, err := pcap.Open(out)
			if err != nil {
				t.Fatal(err)
			}
			keys := NewKeyLog(KeyLogOptions{})
			for _, s := range r.Secrets() {
				if s.Type == pcap.SecretsTLSKeyLog {
					keys.ReadFrom(bytes.NewReader(s.Data))
				}
			}
			r.Close()
			if keys.Stats().Entries != 1 || keys.Stats().BadLines != 0 {
				t.Fatalf("key log from the DSB: %+v", keys.Stats())
			}
			plain, st := decryptChunks(t, keys, readPcapStreams(t, out, pcapServer.port))
			checkCall(t, plain, st)
		})
	}
}

// TestDirectionsOutOfOrder: a reassembler may hand over the whole client
// direction before the server's; the client's protected records wait for
// the ServerHello and then decrypt.
func TestDirectionsOutOfOrder(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			chunks := readPcapStreams(t, testdataPath(f.name+".pcap"), pcapServer.port)
			var reordered []chunk
			for _, d := range []Direction{ClientToServer, ServerToClient} {
				for _, c := range chunks {
					if c.dir == d {
						reordered = append(reordered, c)
					}
				}
			}
			plain, st := decryptChunks(t, fixtureKeys(t, f.name), reordered)
			checkCall(t, plain, st)
		})
	}
}
