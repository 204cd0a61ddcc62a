package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/pcapgen"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// pcapgenStates maps the generator's state names onto sipflow's.
var pcapgenStates = map[string]sipflow.State{
	// No final response and the capture ends soon after: still in setup.
	// TIMEOUT needs the idle timeout to pass in packet time.
	pcapgen.StateSetup:     sipflow.StateSetup,
	pcapgen.StateInCall:    sipflow.StateInCall,
	pcapgen.StateCompleted: sipflow.StateCompleted,
	pcapgen.StateCancelled: sipflow.StateCancelled,
	pcapgen.StateRejected:  sipflow.StateRejected,
	pcapgen.StateBusy:      sipflow.StateBusy,
	pcapgen.StateDiverted:  sipflow.StateDiverted,
}

// TestScenarios runs every generated capture in testdata/pcaps through
// the whole chain and holds it to what the generator says the file
// contains: records, SIP messages (after IP, TCP, WebSocket, SCTP and HEP
// reassembly), RTP/RTCP, TLS, calls with their outcome, and per-stream
// counts. The expectations come from the scenario definitions, not from
// running our decoder.
func TestScenarios(t *testing.T) {
	for _, sc := range pcapgen.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			w := sc.Want
			path := filepath.Join("..", "..", "testdata", "pcaps", sc.File)
			r, err := pcap.Open(path)
			if w.ReadErr && w.Packets == 0 {
				if err == nil {
					t.Fatalf("opening %s succeeded; the file is not a capture", sc.File)
				}
				if !strings.Contains(err.Error(), sc.File) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			e := New(Options{})
			var warns []error
			st, err := e.Run(context.Background(), []capture.Source{r}, func(err error) { warns = append(warns, err) })
			if err != nil {
				t.Fatal(err)
			}
			if w.ReadErr {
				var fe *pcap.FormatError
				if len(warns) != 1 || !errors.As(warns[0], &fe) || fe.Packet != w.Packets+1 {
					t.Errorf("warnings = %v, want one FormatError at packet %d", warns, w.Packets+1)
				}
			} else if len(warns) > 0 {
				t.Errorf("warnings on a clean file: %v", warns)
			}
			if st.Packets != w.Packets {
				t.Errorf("records = %d, want %d", st.Packets, w.Packets)
			}
			if w.ReadErr {
				return // the generator counts only the records of a damaged file
			}
			s := e.Status()
			if got := int(s.Store.Messages); got != w.SIP {
				t.Errorf("SIP messages = %d, want %d", got, w.SIP)
			}
			if st.RTP != w.RTP || st.RTCP != w.RTCP || st.HEP != w.HEP {
				t.Errorf("RTP/RTCP/HEP = %d/%d/%d, want %d/%d/%d", st.RTP, st.RTCP, st.HEP, w.RTP, w.RTCP, w.HEP)
			}
			// sipstream counts TLS per direction; the generator per connection.
			if st.TLSStreams != 2*w.TLSStreams {
				t.Errorf("TLS stream directions = %d, want %d (2 per connection)", st.TLSStreams, 2*w.TLSStreams)
			}
			calls := e.Calls(sipflow.Filter{}, 0, -1)
			n := 0
			byID := map[string]sipflow.CallSummary{}
			for _, c := range calls {
				byID[c.CallID] = c
				if c.Type == sipflow.TypeCall {
					n++
				}
			}
			if n != w.Calls {
				t.Errorf("calls = %d, want %d", n, w.Calls)
			}
			for _, d := range w.Dialogs {
				c, ok := byID[d.CallID]
				if !ok {
					t.Errorf("dialog %s missing", d.CallID)
					continue
				}
				if c.Messages != d.Messages {
					t.Errorf("%s: messages = %d, want %d", d.CallID, c.Messages, d.Messages)
				}
				if d.FinalCode != 0 && c.FinalCode != d.FinalCode {
					t.Errorf("%s: final code = %d, want %d", d.CallID, c.FinalCode, d.FinalCode)
				}
				if d.State != "" {
					want, ok := pcapgenStates[d.State]
					if !ok {
						t.Errorf("%s: generator state %q has no sipflow equivalent in pcapgenStates", d.CallID, d.State)
					} else if c.State != want {
						t.Errorf("%s: state = %s, want %s (%s)", d.CallID, c.State, want, d.State)
					}
				}
				if d.LinkedTo != "" {
					linked := false
					for _, l := range c.Legs {
						linked = linked || l.CallID == d.LinkedTo
					}
					if !linked {
						t.Errorf("%s: not linked to %s (legs %v)", d.CallID, d.LinkedTo, c.Legs)
					}
				}
			}
			streams := e.Streams("")
			for _, ws := range w.Streams {
				found := false
				for _, s := range streams {
					if s.SSRC != ws.SSRC || s.Src != ws.Src || s.Dst != ws.Dst {
						continue
					}
					found = true
					// tshark's lost_tshark = expected - received, so
					// duplicates make it smaller than the generator's;
					// lost is the distinct sequence numbers never received.
					if s.Packets != ws.Packets || s.Expected != ws.Expected || s.LostTshark != ws.Expected-ws.Packets || s.Lost != ws.Lost || s.Duplicates != ws.Duplicates {
						t.Errorf("stream %08x %v->%v: packets/expected/lost_tshark/lost/dups = %d/%d/%d/%d/%d, want %d/%d/%d/%d/%d",
							ws.SSRC, ws.Src, ws.Dst, s.Packets, s.Expected, s.LostTshark, s.Lost, s.Duplicates,
							ws.Packets, ws.Expected, ws.Expected-ws.Packets, ws.Lost, ws.Duplicates)
					}
				}
				if !found {
					t.Errorf("stream %08x %v->%v not found", ws.SSRC, ws.Src, ws.Dst)
				}
			}
		})
	}
}
