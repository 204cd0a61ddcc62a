package pcap

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

// Secrets written by NgWriter.WriteSecrets read back as they were, in
// order, before the first packet, for any length (padding) and byte order.
func TestWriteSecretsRoundTrip(t *testing.T) {
	for _, big := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewNgWriter(&buf, NgWriterOptions{BigEndian: big})
		if err != nil {
			t.Fatal(err)
		}
		want := []Secrets{{SecretsTLSKeyLog, []byte("CLIENT_RANDOM 0011 2233\n")}, {0x57474b4c, []byte("odd")}, {SecretsTLSKeyLog, []byte{}}}
		for _, s := range want {
			if err := w.WriteSecrets(s.Type, s.Data); err != nil {
				t.Fatal(err)
			}
		}
		id, _ := w.AddInterface(LinkTypeEthernet, 0)
		if err := w.WritePacket(Packet{InterfaceIndex: id, Timestamp: time.Unix(1, 0)}, []byte("packet")); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		r, err := NewReader(bytes.NewReader(buf.Bytes()), "out.pcapng")
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Secrets(); len(got) != len(want) {
			t.Fatalf("big %v: %d secrets before the first packet, want %d", big, len(got), len(want))
		}
		for {
			if _, _, err := r.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
		}
		got := r.Secrets()
		for i := range want {
			if got[i].Type != want[i].Type || !bytes.Equal(got[i].Data, want[i].Data) {
				t.Errorf("big %v: secrets %d = %x %q, want %x %q", big, i, got[i].Type, got[i].Data, want[i].Type, want[i].Data)
			}
		}
		if st := r.Stats(); st.Packets != 1 || st.SecretsBlocks != 3 {
			t.Errorf("stats %+v", st)
		}
	}
}
