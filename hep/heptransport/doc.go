// Package heptransport moves HEP packets over the network: a Sender that
// forwards to HOMER-style collectors over UDP, TCP and TLS, and a Listener
// that collects from capture agents (heplify, sngrep, Kamailio, captagent).
//
// Usage:
//
//	s, err := heptransport.NewSender(heptransport.SenderOptions{To: []string{"udp:10.0.0.5:9060", "tls:homer:9061"}, CaptureID: 2001})
//	var wg sync.WaitGroup
//	wg.Go(func() { s.Run(ctx) })                     // one goroutine per target; returns after they stopped
//	p := heptransport.SIPPacket(sip, src, dst, ts, heptransport.ProtoUDP)
//	err = s.Send(&p)                                 // never blocks; drops are counted in s.Stats()
//	err = s.Flush(ctx); cancel(); wg.Wait()          // deliver what is queued, then stop
//	err = heptransport.Listen(ctx, []string{"udp:0.0.0.0:9060", "tcp:0.0.0.0:9061"}, heptransport.ListenOptions{}, func(p *hep.Packet, peer netip.AddrPort) { ... })
//
// Sender: Send encodes once (HEP3, or HEPv1/v2, optional zlib compression,
// auth key, capture id, node name) and copies the bytes into a bounded
// queue per target. A full queue spills into an optional disk spool
// (length-prefixed records, bounded, drained in order after reconnect) or
// drops and counts. TCP/TLS targets reconnect with jittered exponential
// backoff (100 ms to 5 s) when the collector restarts. On Linux they keep
// every packet written until the collector's TCP has acknowledged it (the
// socket's unacknowledged byte count, SIOCOUTQ), count it as sent only
// then, and after a reconnect write again, in order, what was not
// acknowledged and the packet whose write failed (TargetStats.Resent);
// what is still unacknowledged when the sender stops (after a bounded
// Flush) is saved, with what is still queued, to the front of the spool
// for the next run (the connection is reset, so the kernel does not
// deliver it too), or, without a spool, counted (Unconfirmed,
// UnsentAtExit). A spool partly sent is rewritten at stop without what
// went, so the next run sends each packet once. Bytes the collector's
// kernel acknowledged but its process never read (killed with data in
// its receive buffer) are beyond any sender: TCP acknowledges the
// kernel's receipt, not the application's.
// UDP has no acknowledgement: a datagram written counts as sent, delivery
// unknown; a UDP write error (ECONNREFUSED when nothing listens) loses that
// datagram and is counted, never fatal.
//
// Listener: one reader per UDP socket, an accept loop per TCP/TLS socket and
// a goroutine per connection feed one dispatcher, which decodes (HEPv1, v2,
// v3), drops keep-alive pings, auth-key mismatches and duplicates from
// several agents, and calls fn in arrival order. TCP is HEP3 only: HEPv1/v2
// have no length to frame a stream by. The packet passed to fn aliases a
// pooled buffer that is reused after fn returns.
//
// Pacing a replay by capture time is not a transport concern: it lives in
// internal/pace.
package heptransport
