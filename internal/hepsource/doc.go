// Package hepsource makes a HEP collector a capture source, so HEP from
// agents and live interfaces and files merge in one session on one
// clock (voiptool capture -i eth0 --listen udp:0.0.0.0:9060; sngrep
// issue 496 asks for this).
//
//	src, err := hepsource.New([]string{"udp:0.0.0.0:9060"}, heptransport.ListenOptions{})
//	srcs = append(srcs, src) // a capture.LiveSource: Run reads it on its own goroutine
//
// Each packet the listener accepts (auth key, de-duplication) is encoded
// again and wrapped in a UDP frame from the agent to the collector's
// address, stamped with its arrival time: the decoder classifies it as
// HEP by content, and the engine unwraps it with the agent's own capture
// time for its calls, as it does for HEP found in a capture file. The
// listener's goroutines start on the first read and end with the
// context of that read; Close releases the sockets.
package hepsource
