package pcap

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// dsb is a Decryption Secrets Block: type, length, secrets padded to 4.
func dsb(big bool, typ uint32, secrets string) []byte {
	w := &bb{big: big}
	w.u32(typ).u32(uint32(len(secrets))).str(secrets)
	return block(big, blockDSB, w.b)
}

func TestDecryptionSecrets(t *testing.T) {
	const kl1 = "CLIENT_RANDOM 00 11\n" // content is not the reader's business
	const kl2 = "# second block\n"
	tests := []struct {
		name    string
		in      []byte
		want    []Secrets
		early   int // secrets visible right after NewReader
		wantErr error
	}{
		{
			name: "before the IDB (editcap --inject-secrets) and after a packet",
			in:   cat(shb(false), dsb(false, SecretsTLSKeyLog, kl1), idb(false, LinkTypeEthernet, 0), epb(false, 0, 1e6, 1, "p"), dsb(false, 0x57474b4c /* WGKL */, kl2)),
			want: []Secrets{{SecretsTLSKeyLog, []byte(kl1)}, {0x57474b4c, []byte(kl2)}}, early: 1,
		},
		{
			name: "big-endian",
			in:   cat(shb(true), dsb(true, SecretsTLSKeyLog, kl1), idb(true, LinkTypeEthernet, 0), epb(true, 0, 1e6, 1, "p")),
			want: []Secrets{{SecretsTLSKeyLog, []byte(kl1)}}, early: 1,
		},
		{
			name:    "secrets length past the block",
			in:      cat(shb(false), idb(false, LinkTypeEthernet, 0), block(false, blockDSB, (&bb{}).u32(SecretsTLSKeyLog).u32(100).str("abcd").b)),
			wantErr: ErrBadBlock,
		},
		{
			name:    "body shorter than type and length",
			in:      cat(shb(false), idb(false, LinkTypeEthernet, 0), block(false, blockDSB, []byte{1, 2, 3, 4})),
			wantErr: ErrBadBlock,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in), "in.pcapng")
			if err != nil {
				t.Fatal(err)
			}
			if got := len(r.Secrets()); got != tc.early {
				t.Fatalf("%d secrets before the first Next, want %d", got, tc.early)
			}
			for {
				_, _, err = r.Next()
				if err != nil {
					break
				}
			}
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != io.EOF {
				t.Fatal(err)
			}
			got := r.Secrets()
			if len(got) != len(tc.want) || r.Stats().SecretsBlocks != len(tc.want) {
				t.Fatalf("%d secrets (%d counted), want %d", len(got), r.Stats().SecretsBlocks, len(tc.want))
			}
			for i := range got {
				if got[i].Type != tc.want[i].Type || !bytes.Equal(got[i].Data, tc.want[i].Data) {
					t.Fatalf("secrets %d = %x %q, want %x %q", i, got[i].Type, got[i].Data, tc.want[i].Type, tc.want[i].Data)
				}
			}
		})
	}
}
