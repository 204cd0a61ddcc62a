// Package session runs a capture for as long as the user wants it
// (voiptool capture, the headless mode of a live capture): the engine
// decoding the sources, the recorder writing what was asked
// (everything, SIP only, or the calls), the Prometheus exporter, a
// one-line status every few seconds, and the stop conditions (duration,
// record count, a signal). Every goroutine is started by Run and waited
// for before it returns, so every output is flushed and closed, a valid
// file, whatever stopped the run.
//
//	s := session.New(engine.Options{}, session.Options{Recorder: rec, Record: session.RecordCalls, StatusEvery: 10 * time.Second, Status: os.Stderr})
//	res, err := s.Run(ctx, srcs)
package session
