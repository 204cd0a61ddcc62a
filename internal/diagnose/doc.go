// Package diagnose finds the problems of a call from what the other
// packages already measured: the call summary (sipflow) and the reports
// of its RTP streams (rtpstats). Each detector yields a sipflow.Problem,
// a stable short code, a severity and a sentence with the evidence.
// Thresholds live in Options, whose zero value gives the documented
// defaults.
//
//	ps := diagnose.Call(&diagnose.Input{Call: sum, Streams: reps, Now: clock, MediaSeen: true}, diagnose.Options{})
//	store.SetProblems(sum.CallID, ps)
//
// The package holds no state: the engine runs it when stream summaries
// are copied into the calls (end of a run, the UI at its own pace).
package diagnose
