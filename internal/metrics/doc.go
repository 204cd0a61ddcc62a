// Package metrics exports voiptool's counters to Prometheus while a
// capture runs (voiptool capture --metrics 127.0.0.1:9466).
//
//	m := metrics.New(func() metrics.Snapshot { return fromStatus(eng.Status()) })
//	go func() { defer wg.Done(); m.Serve(ctx, "127.0.0.1:9466") }()
//	m.ObserveSIP(msg)          // on the writer goroutine, per SIP message
//	m.ObserveSetup(pdd, setup) // when a call's setup completes
//	m.ObserveStream(q)         // when a stream's figures are final
//
// Two kinds of series: counters and gauges the pipeline already keeps
// (packets by protocol, drops by stage, calls by state, HEP and recorder
// counters) are read from a Snapshot at scrape time, so the hot path
// pays nothing for them; distributions (setup time, PDD, RTP loss,
// jitter, MOS) and SIP methods and codes are observed as they happen.
// Every series with a known label set exists from the start at zero (an
// absent series cannot fire an alert), and labels taken from the wire
// (methods, codes) are bounded: unknown values fold into "other".
package metrics
