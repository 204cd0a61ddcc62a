// Package livecap opens live interfaces with the capture options every
// capturing command shares (tcpdump's habits): a capture filter
// expression compiled for each interface's link type and run in the
// kernel, the ring size (-B), the snap length (-s) and promiscuous mode
// (on unless -p).
//
//	srcs, warnings, err := livecap.Options{Ifaces: []string{"eth0"}, Expr: "udp port 5060"}.Open(ctx)
//
// It says what a filter would silently lose: a port filter drops the
// later fragments of fragmented UDP (they carry no UDP header), which is
// how large SIP INVITEs travel, so Open warns and names the expression
// that keeps them.
package livecap
