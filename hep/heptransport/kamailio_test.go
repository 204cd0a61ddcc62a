//go:build unix

package heptransport

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// kamailioModules finds the directory holding sipcapture.so, or "".
func kamailioModules() string {
	for _, dir := range []string{
		"/usr/lib/x86_64-linux-gnu/kamailio/modules", "/usr/lib/aarch64-linux-gnu/kamailio/modules",
		"/usr/lib64/kamailio/modules", "/usr/lib/kamailio/modules", "/usr/local/lib64/kamailio/modules",
	} {
		if _, err := os.Stat(filepath.Join(dir, "sipcapture.so")); err == nil {
			return dir
		}
	}
	return ""
}

// kamailioCfg is a HOMER-style collector: sipcapture decapsulates HEP and
// the routes log each inner SIP message. sipcapture's usual store is a
// database; db_text cannot take its rows (micro_ts is a BIGINT, which
// db_text rejects: "dbt_is_neq_type(): BIGINT not supported"), so the test
// reads the log instead. db_text is loaded only because sipcapture binds a
// database at start-up.
const kamailioCfg = `#!KAMAILIO
debug=2
log_stderror=yes
fork=yes
children=1
disable_tcp=yes
listen=udp:127.0.0.1:%d
mpath="%s/"
loadmodule "pv.so"
loadmodule "xlog.so"
loadmodule "db_text.so"
loadmodule "sipcapture.so"
modparam("sipcapture", "db_url", "text://%s")
modparam("sipcapture", "capture_on", 1)
modparam("sipcapture", "hep_capture_on", 1)
request_route { xlog("L_NOTICE", "HEPRX src=$si:$sp rm=$rm ci=$ci\n"); drop; }
reply_route { xlog("L_NOTICE", "HEPRX src=$si:$sp rs=$rs ci=$ci\n"); drop; }
`

// TestKamailioReceives: Kamailio's sipcapture module as the collector for
// our Sender, HEP3 and HEPv2 (Kamailio checks the v2 length byte, which
// the hep package writes as it expects).
func TestKamailioReceives(t *testing.T) {
	bin, err := exec.LookPath("kamailio")
	if err != nil {
		t.Skip("kamailio not installed (apt-get install kamailio); interop test skipped")
	}
	mods := kamailioModules()
	if mods == "" {
		t.Skip("kamailio sipcapture module not found; interop test skipped")
	}
	for _, version := range []uint8{3, 2} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "db")
			if err := os.Mkdir(db, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(db, "version"), []byte("table_name(string) table_version(int)\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			port, readLog := startKamailio(t, bin, dir, mods, db)
			s, err := NewSender(SenderOptions{To: []string{fmt.Sprintf("udp:127.0.0.1:%d", port)}, Version: version, CaptureID: 77})
			if err != nil {
				t.Fatal(err)
			}
			runSender(t, s)
			const n = 10
			for i := range n {
				p := SIPPacket(fullSIP(i), netip.MustParseAddrPort("192.0.2.10:5060"), netip.MustParseAddrPort("192.0.2.20:5060"),
					time.Unix(1700000000+int64(i), 0), ProtoUDP)
				if err := s.Send(&p); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "kamailio to log every message", func() bool { return bytes.Count(readLog(), []byte("HEPRX ")) >= n })
			log := readLog()
			if got := bytes.Count(log, []byte("HEPRX ")); got != n {
				t.Fatalf("kamailio logged %d messages, sent %d\n%s", got, n, log)
			}
			for i := range n {
				want := fmt.Sprintf("HEPRX src=192.0.2.10:5060 rm=OPTIONS ci=interop-%d@192.0.2.10\n", i)
				if !bytes.Contains(log, []byte(want)) {
					t.Fatalf("kamailio log lacks %q\n%s", want, log)
				}
			}
		})
	}
}

// startKamailio starts the collector on a free UDP port of 127.0.0.1 and
// waits until it has bound it; the test's cleanup stops it and its
// workers. The port is free when chosen, but another test (go test runs
// packages at once) may take it before Kamailio binds it: then Kamailio
// exits with "Address already in use" and another port is tried, a few
// times at most.
func startKamailio(t *testing.T, bin, dir, mods, db string) (port int, readLog func() []byte) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		port = freePort(t, "udp")
		cfg := filepath.Join(dir, "kamailio.cfg")
		if err := os.WriteFile(cfg, []byte(fmt.Sprintf(kamailioCfg, port, mods, db)), 0o600); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, fmt.Sprintf("kamailio-%d.log", attempt))
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, "-DD", "-E", "-f", cfg, "-Y", dir, "-P", filepath.Join(dir, "kamailio.pid"))
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its workers share our group id: stop them all
		if err := cmd.Start(); err != nil {
			cancel()
			logf.Close()
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		stop := func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(waitLimit):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-exited
			}
			cancel()
			logf.Close()
		}
		readLog = func() []byte { b, _ := os.ReadFile(logPath); return b }
		bound, gone := false, false
		waitFor(t, "kamailio to bind its port", func() bool {
			select {
			case <-exited:
				gone = true
				return true
			default:
			}
			bound = udpPortBound(port)
			return bound
		})
		if bound && !gone {
			// The port seen bound may be the other process's: Kamailio
			// then exits at once on its own bind.
			select {
			case <-exited:
				gone = true
			case <-time.After(300 * time.Millisecond):
			}
		}
		if bound && !gone {
			t.Cleanup(stop)
			return port, readLog
		}
		stop()
		if log := readLog(); attempt == 3 || !bytes.Contains(log, []byte("Address already in use")) {
			t.Fatalf("kamailio exited:\n%s", log)
		}
	}
}
