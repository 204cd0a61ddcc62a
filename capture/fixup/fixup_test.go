package fixup

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pcapgen"
)

// variants of the payload: shrunk, grown, and changed in place.
func variants(orig []byte) map[string][]byte {
	return map[string][]byte{
		"shrink": sipMsg(0),
		"grow":   sipMsg(5),
		"same":   bytes.Replace(orig, []byte("fixup-test"), []byte("FIXUP-TEST"), 1),
	}
}

// TestReplaceTshark changes the payload of every test frame (smaller,
// larger, same size), fixes it, and has tshark validate every IP, UDP,
// TCP and GRE checksum of the originals and of the results; our decoder
// must find the new payload in each result.
func TestReplaceTshark(t *testing.T) {
	var all []frame
	for _, f := range testFrames(t) {
		all = append(all, f)
		l, orig := decodeOne(t, f.data)
		for name, p := range variants(orig) {
			out, err := Replace(nil, f.data, &l, len(orig), p)
			if err != nil {
				t.Fatalf("%s %s: %v", f.name, name, err)
			}
			if len(out) != len(f.data)+len(p)-len(orig) {
				t.Fatalf("%s %s: %d bytes", f.name, name, len(out))
			}
			if _, got := decodeOne(t, out); !bytes.Equal(got, p) {
				t.Errorf("%s %s: decoded payload %q", f.name, name, got)
			}
			all = append(all, frame{f.name + " " + name, out})
		}
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	recs := make([]pcapgen.Record, len(all))
	for i, f := range all {
		recs[i] = pcapgen.Record{Time: t0, Data: f.data}
	}
	var file bytes.Buffer
	if err := pcapgen.WritePcap(&file, layers.LinkTypeEthernet, false, recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "fixed.pcap")
	if err := os.WriteFile(path, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-o", "tcp.check_checksum:TRUE", "-d", "tcp.port==5060,sip", "-T", "fields", "-E", "separator=|",
		"-e", "ip.checksum.status", "-e", "udp.checksum.status", "-e", "tcp.checksum.status", "-e", "gre.checksum.status",
		"-e", "ipv6.plen", "-e", "ip.len").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(all) {
		t.Fatalf("tshark printed %d lines for %d frames", len(lines), len(all))
	}
	// Wireshark's checksum status: 0 bad, 1 good, 2 unverified, 3 not
	// present (a zero UDP checksum), 4 illegal.
	for i, line := range lines {
		f := strings.Split(line, "|")
		checked := 0
		for k, proto := range []string{"ip", "udp", "tcp", "gre"} {
			if f[k] == "" {
				continue
			}
			for _, st := range strings.Split(f[k], ",") {
				ok := st == "1" || (proto == "udp" && st == "3" && strings.Contains(all[i].name, "zero checksum"))
				if !ok {
					t.Errorf("frame %d (%s): %s.checksum.status %s", i+1, all[i].name, proto, f[k])
				}
				checked++
			}
		}
		if checked == 0 || (f[0] == "" && f[4] == "") {
			t.Errorf("frame %d (%s): tshark checked %d checksums: %q", i+1, all[i].name, checked, line)
		}
	}
}

// sameButZero reports whether a and b differ only where one holds a
// checksum 0x0000 and the other 0xffff (one's complement's two zeros,
// both valid for IPv4 and TCP).
func sameButZero(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] == b[i] {
			continue
		}
		if i+1 < len(a) && (a[i] == 0 && a[i+1] == 0 && b[i] == 0xff && b[i+1] == 0xff || a[i] == 0xff && a[i+1] == 0xff && b[i] == 0 && b[i+1] == 0) {
			i++
			continue
		}
		return false
	}
	return true
}

// TestFixUnchangedIsNoop: fixing a valid record whose payload did not
// change leaves it byte for byte as it was.
func TestFixUnchangedIsNoop(t *testing.T) {
	for _, f := range testFrames(t) {
		l, _ := decodeOne(t, f.data)
		b := append([]byte(nil), f.data...)
		if err := Fix(b, &l, 0); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if !bytes.Equal(b, f.data) {
			t.Errorf("%s: fixing an unchanged record changed it", f.name)
		}
	}
}

func TestFixErrors(t *testing.T) {
	f := testFrames(t)[0] // Ethernet IPv4 UDP
	l, orig := decodeOne(t, f.data)
	tests := []struct {
		name  string
		rec   []byte
		l     func(capture.Layers) capture.Layers
		delta int
		want  error
	}{
		{"header in reassembled bytes", f.data, func(l capture.Layers) capture.Layers { l.Offs[2] = -1; return l }, 0, ErrNotInRecord},
		{"chain full", f.data, func(l capture.Layers) capture.Layers { l.N = capture.MaxChain + 1; return l }, 0, ErrNotInRecord},
		{"snaplen cut", f.data[:60], func(l capture.Layers) capture.Layers { return l }, 0, ErrTruncated},
		{"length below header", f.data, func(l capture.Layers) capture.Layers { return l }, -len(orig) - 1, ErrLength},
		{"length above 65535", f.data, func(l capture.Layers) capture.Layers { return l }, 70000, ErrLength},
		{"SCTP resized", f.data, func(l capture.Layers) capture.Layers { l.Protos[2] = capture.ProtoSCTP; return l }, 4, ErrUnsupported},
	}
	for _, tc := range tests {
		rec := append([]byte(nil), tc.rec...)
		ll := tc.l(l)
		if err := Fix(rec, &ll, tc.delta); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if !bytes.Equal(rec, tc.rec) {
			t.Errorf("%s: record changed on error", tc.name)
		}
	}
	if _, err := Replace(nil, f.data, &l, len(f.data), nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("Replace past the record: %v", err)
	}
	r := l
	r.Payload, r.Reassembled = -1, capture.ReasmIP
	if _, err := Replace(nil, f.data, &r, len(orig), nil); !errors.Is(err, ErrNotInRecord) {
		t.Errorf("Replace of a reassembled payload: %v", err)
	}
}

// FuzzFix: any new payload in any test frame gives a record whose length
// fields grew by the size change and which a second Fix leaves alone; the
// decoder parses its headers back to the same chain.
func FuzzFix(f *testing.F) {
	f.Add(uint8(0), []byte("SIP/2.0 200 OK\r\n\r\n"))
	f.Add(uint8(6), []byte{})
	f.Add(uint8(8), bytes.Repeat([]byte{0xff}, 1201))
	frames := testFrames(f)
	f.Fuzz(func(t *testing.T, idx uint8, p []byte) {
		if len(p) > 4000 {
			return
		}
		fr := frames[int(idx)%len(frames)]
		l, orig := decodeOne(t, fr.data)
		out, err := Replace(nil, fr.data, &l, len(orig), p)
		if err != nil {
			t.Fatal(err)
		}
		delta := len(p) - len(orig)
		for i := range l.Len() {
			h := l.Header(i)
			o := h.Off
			var off int32 = -1
			switch h.Proto {
			case capture.ProtoIPv4:
				off = o + ipv4LenOff
			case capture.ProtoIPv6:
				off = o + ipv6LenOff
			case capture.ProtoUDP:
				off = o + udpLenOff
			case capture.ProtoPPPoE:
				off = o + pppoeLenOff
			}
			if off >= 0 && int(binary.BigEndian.Uint16(out[off:]))-int(binary.BigEndian.Uint16(fr.data[off:])) != delta {
				t.Fatalf("%s: %v length did not grow by %d", fr.name, h.Proto, delta)
			}
		}
		again := append([]byte(nil), out...)
		if err := Fix(again, &l, 0); err != nil || !sameButZero(again, out) {
			t.Fatalf("%s: second Fix changed the record (%v)", fr.name, err)
		}
	})
}
