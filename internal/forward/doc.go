// Package forward replays captures into a packet sink, paced by capture
// time: the pipeline behind hep-forward (and the shape replay will take).
// Signalling goes through an engine first, so the sink can name calls
// (correlation ids) from what the store learnt.
//
// Usage:
//
//	eng := engine.New(engine.Options{})
//	h, _ := sink.StartHEP(sink.HEPOptions{Sender: so, Store: eng.Store()})
//	st, err := forward.Run(ctx, srcs, forward.Options{Engine: eng, Sink: h, Pacer: pace.New(pace.Options{Speed: 1})}, warn)
//	err = h.Close()
package forward
