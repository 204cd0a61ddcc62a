// Package live captures packets from a network interface with Linux
// AF_PACKET sockets, in pure Go (no libpcap, no cgo).
//
// A Source satisfies capture.Source, so a live interface feeds the same
// pipeline as a file:
//
//	src, err := live.Open(ctx, "any", live.Options{})
//	if err != nil { ... }
//	defer src.Close()
//	stats, err := capture.Run(ctx, []capture.Source{src}, capture.Options{}, warn, fn)
//
// Next blocks for at most Options.PollInterval at a time, so cancelling
// ctx ends a capture promptly: Next then reports io.EOF.
//
// An Injector sends whole frames on one interface (replay --iface):
//
//	inj, err := live.OpenInjector("eth1", live.InjectorOptions{})
//	err = inj.Send(frame) // ErrDropped (no room), ErrTooBig (MTU): counted in Stats
package live
