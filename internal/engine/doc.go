// Package engine is the single writer between the capture pipeline and
// the views: it feeds SIP to the call store, RTP and RTCP to the quality
// tracker, unwraps HEP into both, links media streams to calls through
// SDP, and answers readers (reports, the TUI) with copies.
//
//	e := engine.New(engine.Options{})
//	stats, err := e.Run(ctx, sources, warn) // returns at the end of input or on cancel
//	calls := e.Calls(sipflow.Filter{}, 0, -1)
//	streams := e.Streams("")                  // every RTP stream
//
// Run may be called from a goroutine while other goroutines read: the
// store and the tracker are guarded, and readers get copies.
package engine
