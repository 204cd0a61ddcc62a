package sipstream

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// The committed TLS captures of capture/tlsdec: one SIP call
// (INVITE/100/180/200/ACK/BYE/200) over TLS 1.2 or 1.3, key log beside.
var tlsFixtures = []string{
	"tls12-ecdhe-ecdsa-aes128gcm", "tls12-ecdhe-rsa-aes256gcm", "tls12-ecdhe-ecdsa-chacha20",
	"tls13-aes128gcm", "tls13-aes256gcm-keyupdate", "tls13-chacha20-keyupdate",
}

var tlsCallStartLines = []string{
	"INVITE sips:bob@example.com SIP/2.0", "SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK",
	"ACK sips:bob@example.com SIP/2.0", "BYE sips:bob@example.com SIP/2.0", "SIP/2.0 200 OK",
}

func tlsFixture(t *testing.T, name string) ([]*Segment, *tlsdec.KeyLog) {
	t.Helper()
	dir := filepath.Join("..", "tlsdec", "testdata")
	f, err := os.Open(filepath.Join(dir, name+".keylog"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
	if _, err := keys.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	return readSegments(t, filepath.Join(dir, name+".pcap")), keys
}

type tlsEnd struct {
	client, server netip.AddrPort
	st             tlsdec.SessionStats
}

func runTLS(segs []*Segment, o Options) (*collector, *Assembler, []tlsEnd) {
	var ends []tlsEnd
	o.OnTLSSession = func(c, s netip.AddrPort, st tlsdec.SessionStats) { ends = append(ends, tlsEnd{c, s, st}) }
	a := New(o)
	c := &collector{}
	tlsFlag := true
	emit := func(m *Message) {
		tlsFlag = tlsFlag && m.TLS
		c.emit(m)
	}
	held := ""
	for _, s := range segs {
		a.Add(s, emit)
		if m := heldMismatch(a); m != "" && held == "" {
			held = m
		}
	}
	a.Flush(emit)
	if held != "" {
		c.msgs = append(c.msgs, got{payload: "held bytes miscounted: " + held})
	}
	if !tlsFlag {
		c.msgs = append(c.msgs, got{payload: "a message without the TLS flag"})
	}
	return c, a, ends
}

// TestTLSDecrypted: with a key log the SIP inside TLS is framed like any
// SIP over TCP, in order, each message marked TLS; the session is
// reported fully decrypted when the connection ends.
func TestTLSDecrypted(t *testing.T) {
	for _, name := range tlsFixtures {
		t.Run(name, func(t *testing.T) {
			segs, keys := tlsFixture(t, name)
			c, a, ends := runTLS(segs, Options{TLSKeys: keys})
			var lines []string
			for _, m := range c.msgs {
				line, _, _ := strings.Cut(m.payload, "\r\n")
				lines = append(lines, line)
				if strings.HasPrefix(line, "SIP/2.0") != (m.src.Port() == 5061) {
					t.Fatalf("%q from %v", line, m.src)
				}
			}
			if strings.Join(lines, "|") != strings.Join(tlsCallStartLines, "|") {
				t.Fatalf("messages %q", lines)
			}
			st := a.Stats()
			if st.TLSSessions != 1 || st.TLSSessionsUndecrypted != 0 || st.TLSRecordsDecrypted == 0 || st.TLSStreams != 2 {
				t.Fatalf("stats %+v", st)
			}
			if len(ends) != 1 || ends[0].st.Reason != tlsdec.ReasonNone || ends[0].server.Port() != 5061 {
				t.Fatalf("sessions reported %+v", ends)
			}
		})
	}
}

// TestTLSWithoutKeys: without a key log, TLS stays counted and ignored;
// with a key log lacking this connection's secrets it is reported as
// "no key".
func TestTLSWithoutKeys(t *testing.T) {
	segs, _ := tlsFixture(t, "tls13-aes128gcm")
	c, a, _ := runTLS(segs, Options{})
	if len(c.msgs) != 0 || a.Stats().TLSStreams != 2 || a.Stats().TLSSessions != 0 {
		t.Fatalf("%d messages, stats %+v", len(c.msgs), a.Stats())
	}
	c, a, ends := runTLS(segs, Options{TLSKeys: tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})})
	if len(c.msgs) != 0 || len(ends) != 1 || ends[0].st.Reason != tlsdec.ReasonNoKey || a.Stats().TLSSessionsUndecrypted != 1 {
		t.Fatalf("%d messages, sessions %+v", len(c.msgs), ends)
	}
}

// TestTLSReorderedAndLost: segments swapped pairwise in each direction
// are reassembled before decryption; a server segment lost for good
// stops that direction (a gap) but keeps what came before it.
func TestTLSReorderedAndLost(t *testing.T) {
	segs, keys := tlsFixture(t, "tls12-ecdhe-ecdsa-aes128gcm")
	swapped := append([]*Segment(nil), segs...)
	for i := 3; i+1 < len(swapped); i += 2 {
		if swapped[i].Src == swapped[i+1].Src {
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
		}
	}
	c, _, ends := runTLS(swapped, Options{TLSKeys: keys})
	if len(c.msgs) != len(tlsCallStartLines) || ends[0].st.Reason != tlsdec.ReasonNone {
		t.Fatalf("reordered: %d messages, %+v", len(c.msgs), ends)
	}
	// Lose a server segment: the 200 to the INVITE (the next-to-last
	// server data segment), then the last one (the 200 to BYE, before the FIN).
	var server []int
	for i, s := range segs {
		if s.Src.Port() == 5061 && len(s.Payload) > 0 {
			server = append(server, i)
		}
	}
	for _, tc := range []struct{ lost, want int }{
		{server[len(server)-2], len(tlsCallStartLines) - 2},
		{server[len(server)-1], len(tlsCallStartLines) - 1},
	} {
		kept := append(append([]*Segment(nil), segs[:tc.lost]...), segs[tc.lost+1:]...)
		c, _, ends = runTLS(kept, Options{TLSKeys: keys})
		if len(c.msgs) != tc.want || ends[0].st.Reason != tlsdec.ReasonGap {
			t.Fatalf("segment %d lost: %d messages, want %d; %+v", tc.lost, len(c.msgs), tc.want, ends)
		}
	}
}

// tlsChunks turns a fixture's segments into the fuzz format: per chunk a
// direction byte (0 client, 1 server), a 2-byte length and the payload.
func tlsChunks(segs []*Segment) []byte {
	var b []byte
	for _, s := range segs {
		if len(s.Payload) == 0 {
			continue
		}
		d := byte(0)
		if s.Src.Port() == 5061 {
			d = 1
		}
		b = append(b, d, byte(len(s.Payload)>>8), byte(len(s.Payload)))
		b = append(b, s.Payload...)
	}
	return b
}

// feedTLSChunks replays fuzz-format chunks as two TCP directions, each
// chunk cut into pieces of at most cut bytes.
func feedTLSChunks(b []byte, keys *tlsdec.KeyLog, cut int) []string {
	a := New(Options{TLSKeys: keys})
	x := [2]*tx{newTx(cli, srv, 1000), newTx(srv, cli, 9000)}
	var col collector
	a.Add(x[0].syn(), col.emit)
	a.Add(x[1].syn(), col.emit)
	for len(b) >= 3 {
		d, n := b[0]&1, min(int(b[1])<<8|int(b[2]), len(b)-3)
		p := b[3 : 3+n]
		b = b[3+n:]
		for len(p) > 0 {
			k := min(cut, len(p))
			a.Add(x[d].data(string(p[:k])), col.emit)
			p = p[k:]
		}
	}
	a.Flush(col.emit)
	return col.payloads()
}

// FuzzTLS mutates real TLS sessions fed through the Assembler with their
// keys: nothing panics, and how the bytes are cut into segments does not
// change the SIP messages decrypted.
func FuzzTLS(f *testing.F) {
	// Seeds: testdata/fuzz/FuzzTLS, the fixtures in tlsChunks form.
	keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
	for _, name := range tlsFixtures {
		kb, err := os.ReadFile(filepath.Join("..", "tlsdec", "testdata", name+".keylog"))
		if err != nil {
			f.Fatal(err)
		}
		keys.ReadFrom(bytes.NewReader(kb))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		whole := feedTLSChunks(b, keys, 1<<16)
		pieces := feedTLSChunks(b, keys, 7)
		if strings.Join(whole, "\x00") != strings.Join(pieces, "\x00") {
			t.Fatalf("segmentation changed the messages: %d vs %d", len(whole), len(pieces))
		}
	})
}

// TestWSSDecrypted: SIP over secure WebSocket (wss, RFC 7118) from Go's
// TLS client and server over a pipe: the upgrade and the frames are
// decrypted, deframed, and each SIP message comes out marked WebSocket
// and TLS.
func TestWSSDecrypted(t *testing.T) {
	cert := wssCert(t)
	var keylog bytes.Buffer
	cc, sc := net.Pipe()
	type rec struct {
		dir int
		b   []byte
	}
	var mu sync.Mutex
	var recs []rec
	record := func(d int, b []byte) {
		mu.Lock()
		recs = append(recs, rec{d, append([]byte(nil), b...)})
		mu.Unlock()
	}
	invite, ok := sipMsg("INVITE", 1, 0), sipResp(200, 1)
	done := make(chan error, 1)
	go func() {
		s := tls.Server(recConn{sc, record}, &tls.Config{Certificates: []tls.Certificate{cert}})
		defer sc.Close() // not s.Close: its close_notify would wait for a reader on the pipe
		buf := make([]byte, len(wsRequest)+len(invite)+14)
		if _, err := io.ReadFull(s, buf[:len(wsRequest)]); err != nil {
			done <- err
			return
		}
		if _, err := s.Write([]byte(wsResponse)); err != nil {
			done <- err
			return
		}
		if _, err := io.ReadFull(s, buf[:len(wsFrame(true, opText, true, [4]byte{1, 2, 3, 4}, []byte(invite), 0))]); err != nil {
			done <- err
			return
		}
		_, err := s.Write(wsFrame(true, opText, false, [4]byte{}, []byte(ok), 0))
		done <- err
	}()
	c := tls.Client(cc, &tls.Config{InsecureSkipVerify: true, KeyLogWriter: &keylog})
	c.Write([]byte(wsRequest))
	io.ReadFull(c, make([]byte, len(wsResponse)))
	c.Write(wsFrame(true, opText, true, [4]byte{1, 2, 3, 4}, []byte(invite), 0))
	io.ReadFull(c, make([]byte, len(wsFrame(true, opText, false, [4]byte{}, []byte(ok), 0))))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cc.Close()

	keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
	keys.ReadFrom(&keylog)
	a := New(Options{TLSKeys: keys})
	x := [2]*tx{newTx(cli, srv, 1000), newTx(srv, cli, 9000)}
	var msgs []*Message
	emit := func(m *Message) {
		cp := *m
		cp.Payload = append([]byte(nil), m.Payload...)
		msgs = append(msgs, &cp)
	}
	a.Add(x[0].syn(), emit)
	a.Add(x[1].syn(), emit)
	mu.Lock()
	for _, r := range recs {
		a.Add(x[r.dir].data(string(r.b)), emit)
	}
	mu.Unlock()
	a.Flush(emit)
	if len(msgs) != 2 || string(msgs[0].Payload) != invite || string(msgs[1].Payload) != ok ||
		!msgs[0].WebSocket || !msgs[0].TLS || !msgs[1].WebSocket || !msgs[1].TLS {
		t.Fatalf("%d messages %+v", len(msgs), msgs)
	}
}

// recConn records the server side: reads came from the client (0),
// writes go to it (1).
type recConn struct {
	net.Conn
	record func(int, []byte)
}

func (c recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.record(0, b[:n])
	}
	return n, err
}

func (c recConn) Write(b []byte) (int, error) {
	c.record(1, b)
	return c.Conn.Write(b)
}

func wssCert(t *testing.T) tls.Certificate {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k}
}

// TestTLSKeysLoggedLate: the key log (followed) gets the connection's
// secrets late, as when an application logs them after the capture saw
// its first protected records: written after the handshake (the next
// record finds them), or after every segment of a connection still open
// (SIP over TLS stays connected; the last look as the connection is
// flushed finds them). Written after the connection closed, they come
// too late: the session is reported without a key.
func TestTLSKeysLoggedLate(t *testing.T) {
	all, _ := tlsFixture(t, "tls13-aes128gcm")
	line, err := os.ReadFile(filepath.Join("..", "tlsdec", "testdata", "tls13-aes128gcm.keylog"))
	if err != nil {
		t.Fatal(err)
	}
	var open []*Segment // the connection without its FINs
	firstData := -1     // the first segment of the client's second flight
	for _, s := range all {
		if !s.FIN && !s.RST {
			open = append(open, s)
		}
	}
	for i, s := range all {
		if s.Dst.Port() == 5061 && len(s.Payload) > 0 && i > 2 && firstData < 0 && all[i-1].Src.Port() == 5061 {
			firstData = i
		}
	}
	want, _, _ := runTLS(all, Options{TLSKeys: keyLogOf(t, line)})
	for _, tc := range []struct {
		name    string
		segs    []*Segment
		writeAt int // segment index before which the key log line is written; -1: after the last
		want    int // SIP messages
		reason  tlsdec.Reason
	}{
		{"after the handshake", all, firstData + 1, len(tlsCallStartLines), tlsdec.ReasonNone},
		{"after the last segment, connection open", open, -1, len(tlsCallStartLines), tlsdec.ReasonNone},
		{"after the connection closed", all, -1, 0, tlsdec.ReasonNoKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var file bytes.Buffer
			keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
			keys.Follow(&file, time.Millisecond)
			var ends []tlsEnd
			a := New(Options{TLSKeys: keys, OnTLSSession: func(c, s netip.AddrPort, st tlsdec.SessionStats) { ends = append(ends, tlsEnd{c, s, st}) }})
			c := &collector{}
			for i, s := range tc.segs {
				if i == tc.writeAt {
					file.Write(line)
				}
				a.Add(s, c.emit)
			}
			if tc.writeAt < 0 {
				if len(c.msgs) != 0 {
					t.Fatalf("%d messages before the keys were logged", len(c.msgs))
				}
				file.Write(line)
			}
			a.Flush(c.emit)
			if len(c.msgs) != tc.want {
				t.Fatalf("%d messages, want %d", len(c.msgs), tc.want)
			}
			for i, m := range c.msgs {
				if l, _, _ := strings.Cut(m.payload, "\r\n"); l != tlsCallStartLines[i] {
					t.Fatalf("message %d: %q", i, l)
				}
				// Each message keeps the packet and time of its own
				// segments, as when the keys were there from the start.
				if w := want.msgs[i]; m.first != w.first || m.last != w.last || !m.t.Equal(w.t) {
					t.Errorf("message %d: refs %d-%d at %v, want %d-%d at %v", i, m.first, m.last, m.t, w.first, w.last, w.t)
				}
			}
			if len(ends) != 1 || ends[0].st.Reason != tc.reason || ends[0].st.LateKeys != (tc.reason == tlsdec.ReasonNone) {
				t.Fatalf("sessions reported %+v", ends)
			}
		})
	}
}

func keyLogOf(t *testing.T, b []byte) *tlsdec.KeyLog {
	t.Helper()
	k := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
	if _, err := k.ReadFrom(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return k
}
