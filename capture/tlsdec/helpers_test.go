package tlsdec

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/pcap"
)

// chunk is one read or write seen on a TLS connection, in capture order.
type chunk struct {
	dir Direction
	b   []byte
}

// recorder keeps the bytes of both directions in the order they passed.
type recorder struct {
	mu     sync.Mutex
	chunks []chunk
}

func (r *recorder) add(d Direction, b []byte) {
	if len(b) == 0 {
		return
	}
	r.mu.Lock()
	r.chunks = append(r.chunks, chunk{d, append([]byte(nil), b...)})
	r.mu.Unlock()
}

func (r *recorder) all() []chunk {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chunk(nil), r.chunks...)
}

// serverConn records the server side of a connection: what it reads came
// from the client, what it writes goes to it.
type serverConn struct {
	net.Conn
	rec *recorder
}

func (c serverConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.rec.add(ClientToServer, b[:n])
	return n, err
}

func (c serverConn) Write(b []byte) (int, error) {
	c.rec.add(ServerToClient, b)
	return c.Conn.Write(b)
}

// The SIP call carried over TLS in every test: INVITE/100/180/200/ACK/BYE/200.
const (
	sdpOffer  = "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
	sdpAnswer = "v=0\r\no=bob 2 2 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\nm=audio 3456 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n"
)

func sipMsg(start, cseq, body string) string {
	ct := ""
	if body != "" {
		ct = "Content-Type: application/sdp\r\n"
	}
	return start + "\r\n" +
		"Via: SIP/2.0/TLS 192.0.2.1:5061;branch=z9hG4bK776asdhds\r\n" +
		"From: Alice <sips:alice@example.com>;tag=1928301774\r\n" +
		"To: Bob <sips:bob@example.com>\r\n" +
		"Call-ID: a84b4c76e66710@tls.example.com\r\n" +
		"CSeq: " + cseq + "\r\n" +
		"Contact: <sips:alice@192.0.2.1:5061>\r\n" +
		ct +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

var (
	sipRequests = []string{
		sipMsg("INVITE sips:bob@example.com SIP/2.0", "314159 INVITE", sdpOffer),
		sipMsg("ACK sips:bob@example.com SIP/2.0", "314159 ACK", ""),
		sipMsg("BYE sips:bob@example.com SIP/2.0", "314160 BYE", ""),
	}
	sipResponses = []string{
		sipMsg("SIP/2.0 100 Trying", "314159 INVITE", ""),
		sipMsg("SIP/2.0 180 Ringing", "314159 INVITE", ""),
		sipMsg("SIP/2.0 200 OK", "314159 INVITE", sdpAnswer),
		sipMsg("SIP/2.0 200 OK", "314160 BYE", ""),
	}
)

// readSIP reads one SIP message framed by Content-Length.
func readSIP(br *bufio.Reader) (string, error) {
	var b bytes.Buffer
	n := 0
	for {
		line, err := br.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String(), err
		}
		if v, ok := bytes.CutPrefix([]byte(line), []byte("Content-Length: ")); ok {
			n, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, n)
	_, err := io.ReadFull(br, body)
	b.Write(body)
	return b.String(), err
}

// splitSIP frames a decrypted stream into messages the same way.
func splitSIP(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	br := bufio.NewReader(bytes.NewReader(b))
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out
		}
		m, err := readSIP(br)
		if err != nil {
			t.Fatalf("decrypted stream is not SIP after %d messages: %v (%q)", len(out), err, m)
		}
		out = append(out, m)
	}
}

// serveSIP is the server half of the call: INVITE gets 100/180/200,
// ACK nothing, BYE its 200.
func serveSIP(c net.Conn) error {
	br := bufio.NewReader(c)
	replies := [][]string{sipResponses[0:3], nil, sipResponses[3:4]}
	for i, rs := range replies {
		m, err := readSIP(br)
		if err != nil {
			return err
		}
		if m != sipRequests[i] {
			return fmt.Errorf("server got %q, want request %d", m, i)
		}
		for _, r := range rs {
			if _, err := io.WriteString(c, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// clientSIP is the client half of the call.
func clientSIP(c net.Conn) error {
	br := bufio.NewReader(c)
	if _, err := io.WriteString(c, sipRequests[0]); err != nil {
		return err
	}
	for range 3 {
		if _, err := readSIP(br); err != nil {
			return err
		}
	}
	for _, r := range sipRequests[1:] {
		if _, err := io.WriteString(c, r); err != nil {
			return err
		}
	}
	_, err := readSIP(br)
	return err
}

// testCert makes a self-signed certificate, ECDSA P-256 or RSA 2048.
func testCert(t testing.TB, useRSA bool) tls.Certificate {
	t.Helper()
	var key any
	var pub any
	if useRSA {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sip.example.com"},
		DNSNames:     []string{"sip.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// goCall runs the SIP call between a Go TLS client and server on
// loopback and returns the recorded bytes and the key log.
func goCall(t *testing.T, cert tls.Certificate, version uint16, suite uint16) ([]chunk, []byte, tls.ConnectionState) {
	t.Helper()
	return goCallWith(t, cert, version, suite, nil)
}

// goCallWith is goCall with a hook to adjust both configurations.
func goCallWith(t *testing.T, cert tls.Certificate, version uint16, suite uint16, mod func(client, server *tls.Config)) ([]chunk, []byte, tls.ConnectionState) {
	t.Helper()
	scfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: version, MaxVersion: version}
	ccfg := &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version}
	if suite != 0 {
		scfg.CipherSuites = []uint16{suite}
		ccfg.CipherSuites = []uint16{suite}
	}
	if mod != nil {
		mod(ccfg, scfg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var keylog bytes.Buffer
	var klMu sync.Mutex
	kw := writerFunc(func(b []byte) (int, error) { klMu.Lock(); defer klMu.Unlock(); return keylog.Write(b) })
	rec := &recorder{}
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		srvErr <- serveSIP(tls.Server(serverConn{c, rec}, scfg))
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	ccfg.KeyLogWriter = kw
	tc := tls.Client(c, ccfg)
	if err := clientSIP(tc); err != nil {
		t.Fatal("client:", err)
	}
	if err := <-srvErr; err != nil {
		t.Fatal("server:", err)
	}
	klMu.Lock()
	defer klMu.Unlock()
	return rec.all(), append([]byte(nil), keylog.Bytes()...), tc.ConnectionState()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// decryptChunks feeds the chunks to a Session and returns each direction's
// plaintext.
func decryptChunks(t *testing.T, keys *KeyLog, chunks []chunk) ([2][]byte, SessionStats) {
	t.Helper()
	var out [2][]byte
	s := NewSession(keys, func(d Direction, p []byte) { out[d] = append(out[d], p...) }, Options{})
	for _, c := range chunks {
		s.Feed(c.dir, c.b)
	}
	s.End()
	return out, s.Stats()
}

func keyLogFrom(t *testing.T, b []byte) *KeyLog {
	t.Helper()
	k := NewKeyLog(KeyLogOptions{})
	if _, err := k.ReadFrom(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	if st := k.Stats(); st.BadLines != 0 {
		t.Fatalf("key log: %d bad lines (%v)", st.BadLines, st.BadLine)
	}
	return k
}

// checkCall asserts the decrypted streams are the call, message for message.
func checkCall(t *testing.T, plain [2][]byte, st SessionStats) {
	t.Helper()
	if st.Reason != ReasonNone {
		t.Fatalf("session not fully decrypted: %v (%v)", st.Reason, st.Undecrypted)
	}
	for d, want := range [2][]string{sipRequests, sipResponses} {
		got := splitSIP(t, plain[d])
		if len(got) != len(want) {
			t.Fatalf("%v: %d SIP messages decrypted, want %d", Direction(d), len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v message %d differs:\n got %q\nwant %q", Direction(d), i, got[i], want[i])
			}
		}
	}
}

// Test captures are Ethernet/IPv4/TCP between these endpoints.
var (
	pcapClient = netipAddrPort("10.0.0.1", 40000)
	pcapServer = netipAddrPort("10.0.0.2", 5061)
)

type endpoint struct {
	ip   net.IP
	port uint16
}

func netipAddrPort(ip string, port uint16) endpoint { return endpoint{net.ParseIP(ip).To4(), port} }

// writePcap writes the chunks as a TCP connection (handshake, segments of
// at most 1448 bytes, FIN) to a classic pcap file.
func writePcap(t *testing.T, path string, chunks []chunk) {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.WriterOptions{LinkType: pcap.LinkType(layers.LinkTypeEthernet)})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	seq := [2]uint32{1000, 5000}
	ep := [2]endpoint{pcapClient, pcapServer}
	mac := [2]net.HardwareAddr{{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}}
	write := func(d Direction, syn, ack, fin bool, payload []byte) {
		src, dst := ep[d], ep[1-d]
		eth := &layers.Ethernet{SrcMAC: mac[d], DstMAC: mac[1-d], EthernetType: layers.EthernetTypeIPv4}
		ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: src.ip, DstIP: dst.ip}
		tcp := &layers.TCP{SrcPort: layers.TCPPort(src.port), DstPort: layers.TCPPort(dst.port), Seq: seq[d], Ack: seq[1-d], SYN: syn, ACK: ack, FIN: fin, PSH: len(payload) > 0, Window: 65535}
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		sb := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, tcp, gopacket.Payload(payload)); err != nil {
			t.Fatal(err)
		}
		if syn || fin {
			seq[d]++
		}
		seq[d] += uint32(len(payload))
		ts = ts.Add(time.Millisecond)
		data := sb.Bytes()
		if err := w.WritePacket(pcap.Packet{Timestamp: ts, CaptureLength: len(data), Length: len(data)}, data); err != nil {
			t.Fatal(err)
		}
	}
	seq[1]-- // the server's SYN consumes its ISN
	seq[0]--
	write(ClientToServer, true, false, false, nil)
	write(ServerToClient, true, true, false, nil)
	write(ClientToServer, false, true, false, nil)
	for _, c := range chunks {
		for b := c.b; len(b) > 0; {
			n := min(len(b), 1448)
			write(c.dir, false, true, false, b[:n])
			b = b[n:]
		}
	}
	write(ClientToServer, false, true, true, nil)
	write(ServerToClient, false, true, true, nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readPcapStreams reads a capture written by writePcap (or any capture of
// one TLS connection without loss) back into per-direction chunks, the
// server being the side whose port is serverPort.
func readPcapStreams(t testing.TB, path string, serverPort uint16) []chunk {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []chunk
	for {
		data, p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(data, linkFirstLayer(p.LinkType), gopacket.NoCopy)
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if tl == nil || len(tl.Payload) == 0 {
			continue
		}
		d := ClientToServer
		if uint16(tl.SrcPort) == serverPort {
			d = ServerToClient
		}
		out = append(out, chunk{d, append([]byte(nil), tl.Payload...)})
	}
	return out
}

func linkFirstLayer(lt pcap.LinkType) gopacket.LayerType {
	if lt == pcap.LinkType(layers.LinkTypeLinuxSLL) {
		return layers.LayerTypeLinuxSLL
	}
	return layers.LayerTypeEthernet
}

func testdataPath(name string) string { return filepath.Join("testdata", name) }
