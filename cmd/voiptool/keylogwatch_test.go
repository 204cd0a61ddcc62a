package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCaptureKeylogWatch: a live capture of SIP over TLS on loopback
// with --tls-keylog FILE --keylog-watch, where the application writes
// its key log lines only after the INVITE and its 200 went by (as a
// busy server does): the records wait, the file is read again when the
// ACK's record needs the keys, and the whole call is decrypted.
func TestCaptureKeylogWatch(t *testing.T) {
	if testing.Short() {
		t.Skip("a live capture of a few seconds; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("live capture needs CAP_NET_RAW (CI runs as root)")
	}
	dir := t.TempDir()
	keylog := filepath.Join(dir, "sslkeylog")
	if err := os.WriteFile(keylog, nil, 0o600); err != nil { // SSLKEYLOGFILE exists, empty, before the first connection
		t.Fatal(err)
	}
	cert := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	capCtx, stopCapture := context.WithCancel(ctx)
	var capOut, capErr bytes.Buffer
	capDone := make(chan error, 1)
	go func() {
		cmd := newCmdCapture(&ioStreams{Out: &capOut, ErrOut: &capErr}, nil)
		cmd.SetArgs([]string{"-i", "lo", "--no-ui", "--status-interval", "0", "--report", "calls", "--format", "json",
			"--tls-keylog", keylog, "--keylog-watch", "tcp", "port", strconv.Itoa(port)})
		cmd.SetContext(capCtx)
		capDone <- cmd.Execute()
	}()
	time.Sleep(500 * time.Millisecond) // the ring is open before the handshake

	var wg sync.WaitGroup
	wg.Add(1)
	srvErr := make(chan error, 1)
	go func() { // the server: 200 to the INVITE and to the BYE
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for _, reply := range []string{"INVITE", "", "BYE"} {
			m, err := readMessage(br)
			if err != nil {
				srvErr <- err
				return
			}
			if reply != "" {
				if _, err := c.Write([]byte(watchMsg("SIP/2.0 200 OK", reply))); err != nil {
					srvErr <- err
					return
				}
			}
			_ = m
		}
		srvErr <- nil
	}()
	var held bytes.Buffer // the client's key log lines, written late
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, KeyLogWriter: &held})
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	c.Write([]byte(watchMsg("INVITE sips:bob@example.com SIP/2.0", "INVITE")))
	if _, err := readMessage(br); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(keylog, held.Bytes(), 0o600); err != nil { // the application logs its secrets now
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the follow interval, in packet time too
	c.Write([]byte(watchMsg("ACK sips:bob@example.com SIP/2.0", "ACK")))
	c.Write([]byte(watchMsg("BYE sips:bob@example.com SIP/2.0", "BYE")))
	if _, err := readMessage(br); err != nil {
		t.Fatal(err)
	}
	if err := <-srvErr; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond)
	stopCapture() // while the client's side is still open: no FIN from it
	if err := <-capDone; err != nil {
		t.Fatalf("capture: %v\n%s", err, capErr.String())
	}
	c.Close()
	out := capOut.String()
	if !strings.Contains(out, "watch-1@tls.example.com") || !strings.Contains(out, "COMPLETED") || !strings.Contains(out, `"messages": 5`) && !strings.Contains(out, `"messages":5`) {
		t.Errorf("calls report:\n%s\nstderr:\n%s", out, capErr.String())
	}
	if !strings.Contains(capErr.String(), "1 TLS connections decrypted, 0 of them not fully") {
		t.Errorf("summary:\n%s", capErr.String())
	}
}

func watchMsg(start, method string) string {
	cseq := "1 " + method
	if method == "BYE" {
		cseq = "2 BYE"
	}
	to := "To: <sips:bob@example.com>"
	if strings.HasPrefix(start, "SIP/2.0") || method == "ACK" || method == "BYE" {
		to += ";tag=b1"
	}
	return start + "\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK" + method + "\r\n" +
		"From: <sips:alice@example.com>;tag=a1\r\n" + to + "\r\nCall-ID: watch-1@tls.example.com\r\n" +
		"CSeq: " + cseq + "\r\nContact: <sips:alice@127.0.0.1>\r\nContent-Length: 0\r\n\r\n"
}

// readMessage reads one SIP message without a body.
func readMessage(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		b.WriteString(line)
		if line == "\r\n" {
			return b.String(), nil
		}
	}
}

func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
