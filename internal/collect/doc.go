// Package collect is the HEP collector behind `voiptool listen`: it takes
// each packet a heptransport.Listener delivers, unwraps it once (inflating
// a compressed payload once), feeds the engine, hands the SIP to a packet
// sink (listen -w: synthetic frames in a pcap) and, when asked, logs one
// line per message.
//
// Usage:
//
//	c := collect.New(collect.Options{Engine: eng, Save: frames, Log: os.Stdout})
//	err := listener.Run(ctx, c.Handle)  // Handle runs on the listener's dispatcher
//	st := c.Stats(); err = c.Err()
package collect
