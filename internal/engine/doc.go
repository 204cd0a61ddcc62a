// Package engine is the single writer between the capture pipeline and
// the views: it feeds SIP to the call store, RTP and RTCP to the quality
// tracker, unwraps HEP into both, links media streams to calls through
// SDP, and answers readers (reports, the TUI adapter, call extraction)
// with copies.
//
//	e := engine.New(engine.Options{SpillMax: engine.DefaultSpillMax}) // live messages in a spill file
//	defer e.Close()                                                  // removes it
//	stats, err := e.Run(ctx, sources, warn) // returns at the end of input or on cancel
//	calls := e.Calls(sipflow.Filter{}, 0, -1)
//	streams := e.Streams(callID)             // one call's streams, through the per-call index
//	st := e.Status()                         // every counter, also while Run goes
//
// One goroutine writes the store and the tracker: the one running Run
// (or, without Run, the one calling Handle or AddHEP). Readers on other
// goroutines take copies, and what they want changed is a request the
// writer carries out at its next event: Clear, and RequestStreams (copy
// stream summaries into the calls). With no writer running, the asking
// reader carries it out itself. Within Run, with capture's pipeline, the
// writer holds the tracker's lock across a batch of RTP events
// (capture.Options.OnBatchEnd) and publishes its event counts and clock
// at the batch's end: readers wait at most a batch, and never while Run
// waits for input. Without the pipeline the lock goes with each event,
// since Run then reads (and may wait for) the next record on the
// writer's goroutine.
//
// Status is one snapshot of the decoder's counters (published by Run
// every few hundred records), the engine's, the store's and the
// tracker's; Version is a change counter that lets a reader take one
// only when something moved.
//
// Messages no capture file holds go to a private spill file when
// Options.SpillMax is set (spill.go), which gives back the space of the
// calls the store drops; Close removes it.
package engine
