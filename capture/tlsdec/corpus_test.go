package tlsdec

import (
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/voiptool/voiptool/pcap"
)

// corpusDirs are where the shared capture corpus may be: next to the
// repository root, or next to the directory of worktrees holding it.
var corpusDirs = []string{"../../../shared/corpus", "../../../../shared/corpus"}

func corpusDir(t *testing.T) string {
	t.Helper()
	for _, d := range corpusDirs {
		if _, err := os.Stat(filepath.Join(d, "MANIFEST.md")); err == nil {
			return d
		}
	}
	t.Skipf("corpus not available at %v", corpusDirs)
	return ""
}

type connKey struct{ client, server netip.AddrPort }

type testConn struct {
	s     *Session
	next  [2]uint32
	have  [2]bool
	held  [2]map[uint32][]byte
	first int // packet number of the first segment
}

// sessionsOf runs every TCP connection of a capture through a Session,
// with a minimal in-test reassembler (in-order delivery, retransmissions
// trimmed, out-of-order segments held, leftovers reported as gaps). The
// server is the side with the lower port.
func sessionsOf(t *testing.T, path string, keys *KeyLog) map[connKey]*testConn {
	t.Helper()
	r, err := pcap.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conns := map[connKey]*testConn{}
	for {
		data, p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pkt := gopacket.NewPacket(data, linkFirstLayer(p.LinkType), gopacket.NoCopy)
		nl := pkt.NetworkLayer()
		tl, _ := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if nl == nil || tl == nil {
			continue
		}
		srcIP, _ := netip.AddrFromSlice(nl.NetworkFlow().Src().Raw())
		dstIP, _ := netip.AddrFromSlice(nl.NetworkFlow().Dst().Raw())
		src := netip.AddrPortFrom(srcIP.Unmap(), uint16(tl.SrcPort))
		dst := netip.AddrPortFrom(dstIP.Unmap(), uint16(tl.DstPort))
		d, k := ClientToServer, connKey{src, dst}
		if src.Port() < dst.Port() {
			d, k = ServerToClient, connKey{dst, src}
		}
		c := conns[k]
		if c == nil {
			c = &testConn{s: NewSession(keys, nil, Options{}), first: p.Number}
			c.held = [2]map[uint32][]byte{{}, {}}
			conns[k] = c
		}
		seq, payload := tl.Seq, tl.Payload
		if tl.SYN {
			seq++
		}
		if !c.have[d] {
			c.next[d], c.have[d] = seq, true
		}
		if len(payload) == 0 {
			continue
		}
		c.held[d][seq] = append([]byte(nil), payload...)
		c.drain(d)
	}
	for _, c := range conns {
		for d := range 2 {
			if len(c.held[d]) > 0 {
				c.s.Gap(Direction(d))
			}
		}
	}
	return conns
}

func (c *testConn) drain(d Direction) {
	for progress := true; progress; {
		progress = false
		for seq, b := range c.held[d] {
			off := int32(c.next[d] - seq)
			switch {
			case off >= int32(len(b)): // wholly retransmitted
				delete(c.held[d], seq)
			case off >= 0:
				c.s.Feed(d, b[off:])
				c.next[d] += uint32(len(b)) - uint32(off)
				delete(c.held[d], seq)
				progress = true
			}
		}
	}
}

// TestCorpusEncryptedSIP: the two TLS captures of the corpus come without
// key logs; every session must be explained (no key, or no handshake for
// the one captured mid-stream) and nothing emitted.
func TestCorpusEncryptedSIP(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		file   string
		port   uint16
		reason Reason
	}{
		// TLS 1.3 draft 21 (0x7f15, 2017): its ServerHello layout
		// predates the RFC, so the session is an unsupported version.
		{"sip-tls13-sll-g722-rtcp.pcap", 5061, ReasonUnsupportedVersion},
		{"sip-tls-midstream-nonmonotonic-ts.pcap", 5061, ReasonNoHandshake},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var sessions int
			for k, c := range sessionsOf(t, filepath.Join(dir, tc.file), NewKeyLog(KeyLogOptions{})) {
				c.s.End()
				st := c.s.Stats()
				if st.Dir[0].Records+st.Dir[1].Records == 0 {
					continue // not TLS, or no payload
				}
				t.Logf("%v -> %v (first packet %d): version %#04x suite %#04x, records %d+%d, reason %q, counts %v",
					k.client, k.server, c.first, st.Version, st.Suite, st.Dir[0].Records, st.Dir[1].Records, st.Reason, st.Undecrypted)
				if st.Dir[0].AppRecords+st.Dir[1].AppRecords != 0 {
					t.Fatal("plaintext emitted without keys")
				}
				if k.server.Port() == tc.port {
					sessions++
					if tc.reason == ReasonUnsupportedVersion && (st.Version != 0x7f15 || st.Suite != 0x1302) {
						t.Fatalf("version %#04x suite %#04x, tshark reads 0x7f15 0x1302", st.Version, st.Suite)
					}
					if st.Reason != tc.reason || st.Undecrypted[tc.reason] == 0 {
						t.Fatalf("session reason %v, want %v", st.Reason, tc.reason)
					}
				}
			}
			if sessions == 0 {
				t.Fatalf("no TLS session on port %d", tc.port)
			}
		})
	}
}
