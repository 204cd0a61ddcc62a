package capture

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture/sipstream"
	"github.com/voiptool/voiptool/capture/tlsdec"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// TestTLSDecryptedEvents: with Stream.TLSKeys the SIP call inside a
// committed TLS capture comes out as SIP events marked TLS, whose
// transport names what sipflow will show.
func TestTLSDecryptedEvents(t *testing.T) {
	dir := filepath.Join("tlsdec", "testdata")
	for _, name := range []string{"tls12-ecdhe-rsa-aes256gcm", "tls13-chacha20-keyupdate"} {
		t.Run(name, func(t *testing.T) {
			kf, err := os.Open(filepath.Join(dir, name+".keylog"))
			if err != nil {
				t.Fatal(err)
			}
			keys := tlsdec.NewKeyLog(tlsdec.KeyLogOptions{})
			keys.ReadFrom(kf)
			kf.Close()
			r, err := pcap.Open(filepath.Join(dir, name+".pcap"))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			d := NewDecoder(Options{Stream: sipstream.Options{TLSKeys: keys}})
			var lines []string
			emit := func(ev *Event) {
				if ev.Kind != KindSIP || ev.Transport != TransportTLS || sipflow.Transport(ev.Transport).String() != "TLS" {
					t.Fatalf("event %v %v", ev.Kind, ev.Transport)
				}
				// The plaintext is nowhere in the record: a rewriter must not look for it there.
				if ev.Layers.Reassembled&ReasmTLS == 0 || ev.Layers.Payload >= 0 {
					t.Fatalf("layers %+v", ev.Layers)
				}
				line, _, _ := strings.Cut(string(ev.Payload), "\r\n")
				lines = append(lines, line)
			}
			for {
				data, p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if err := d.Decode(data, p, emit); err != nil {
					t.Fatal(err)
				}
			}
			d.Flush(emit)
			if len(lines) != 7 || lines[0] != "INVITE sips:bob@example.com SIP/2.0" || lines[6] != "SIP/2.0 200 OK" {
				t.Fatalf("SIP events %q", lines)
			}
			if st := d.Stats().Stream; st.TLSSessions != 1 || st.TLSSessionsUndecrypted != 0 {
				t.Fatalf("stream stats %+v", st)
			}
		})
	}
}
