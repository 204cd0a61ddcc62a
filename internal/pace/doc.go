// Package pace schedules a replay by the capture's packet times (hep-forward
// --speed, and later replay): packet i is due at start + offset_i / Speed,
// where offset_i is its capture time since the first packet. Every deadline
// is computed from the start, never from the previous packet, so sleep
// overshoot does not accumulate. Options.PPS and Options.BitRate replace
// the capture's timing with a fixed packet or bit rate (replay --pps,
// --mbps; WaitSize gives the sizes), on the same absolute schedule.
//
// Usage:
//
//	p := pace.New(pace.Options{Speed: 1})   // Speed <= 0: as fast as possible
//	for each packet {
//		sent, err := p.Wait(ctx, packetTime) // blocks until due; ctx ends it
//		send(...)
//	}
//	l := p.Lateness()                        // departure error: p50, p99, max
//
// The lateness of each departure (the clock when Wait returns minus the
// deadline) goes into a fixed log-linear histogram, so a long replay costs
// no memory and a caller can print how closely the schedule was kept.
package pace
