package extract

import (
	"net/netip"

	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/report"
	"github.com/voiptool/voiptool/sipflow"
)

// Flow builds the report ladder of the calls (with related, of every
// leg the store links to them), with their RTP streams, and returns the
// calls it drew.
func Flow(e *engine.Engine, ids []string, related bool, aliases map[netip.Addr]string) (report.Flow, []sipflow.CallDetail) {
	calls := e.Related(ids, related)
	fl := report.FlowFromCalls(calls, aliases)
	for _, c := range calls {
		fl.AddStreams(e.Streams(c.Summary.CallID), aliases)
	}
	return fl, calls
}
