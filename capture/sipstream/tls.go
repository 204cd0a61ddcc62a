package sipstream

import (
	"time"

	"github.com/voiptool/voiptool/capture/tlsdec"
)

// tlsConn is one TLS connection being decrypted (Options.TLSKeys): its
// session and the two directions feeding it. Ciphertext never enters a
// direction's buffer: appendInOrder hands it to the session, and the
// plaintext the session emits is framed in its place.
type tlsConn struct {
	key  flowKey // client -> server
	sess *tlsdec.Session
	dirs [2]*stream // by tlsdec.Direction; nil once a direction ended
}

// TLS record and handshake types used to tell client from server.
const (
	tlsHandshake   = 22
	tlsClientHello = 1
	tlsServerHello = 2
)

// attachTLS joins s to its connection's session, creating it. The first
// record names the side (ClientHello or ServerHello); a direction first
// seen mid-connection joins the other direction's session if there is
// one, else takes the higher port for the client's.
func (a *Assembler) attachTLS(s *stream, b []byte) bool {
	rev := flowKey{s.key.dst, s.key.src}
	dir := tlsdec.ServerToClient
	switch {
	case b[0] == tlsHandshake && b[5] == tlsClientHello:
		dir = tlsdec.ClientToServer
	case b[0] == tlsHandshake && b[5] == tlsServerHello:
	case a.tlsConns[rev] != nil && a.tlsConns[rev].dirs[tlsdec.ServerToClient] == nil:
	case a.tlsConns[s.key] != nil && a.tlsConns[s.key].dirs[tlsdec.ClientToServer] == nil:
		dir = tlsdec.ClientToServer
	case s.key.src.Port() > s.key.dst.Port():
		dir = tlsdec.ClientToServer
	}
	ck := s.key
	if dir == tlsdec.ServerToClient {
		ck = rev
	}
	c := a.tlsConns[ck]
	if c != nil && c.dirs[dir] != nil {
		a.endTLS(c) // the 4-tuple carries a new connection before the old one ended
		c = nil
	}
	if c == nil {
		if len(a.tlsConns) >= a.maxStreams {
			a.stats.TLSRefused++
			return false
		}
		c = &tlsConn{key: ck}
		c.sess = tlsdec.NewSession(a.tlsKeys, func(d tlsdec.Direction, p []byte) { a.tlsPlaintext(c, d, p) }, tlsdec.Options{})
		a.tlsConns[ck] = c
		a.stats.TLSSessions++
	}
	c.dirs[dir] = s
	s.tls, s.tlsDir = c, dir
	return true
}

// handoverTLS moves the ciphertext buffered while s was classified (from
// pos on) to its session; from now on s.buf holds plaintext, which starts
// at a message boundary.
func (a *Assembler) handoverTLS(s *stream, pos int) {
	ref, t := uint64(0), s.lastTime
	if n := len(s.marks); n > 0 {
		ref, t = s.marks[n-1].ref, s.marks[n-1].t
	}
	a.tlsScratch = append(a.tlsScratch[:0], s.buf[pos:]...)
	s.base += uint64(len(s.buf))
	s.buf, s.marks = s.buf[:0], s.marks[:0]
	s.mode, s.synced, s.prev, s.midStart = modeNew, true, '\n', false
	s.tlsCipher = true
	a.feedTLS(s, a.tlsScratch, ref, t)
}

// feedTLS decrypts the next ciphertext of s and frames the plaintext of
// both directions (the client's records may wait for the server's hello).
func (a *Assembler) feedTLS(s *stream, p []byte, ref uint64, t time.Time) {
	c := s.tls
	a.tlsRef, a.tlsTime = ref, t
	c.sess.SetMark(t, ref)
	c.sess.Feed(s.tlsDir, p)
}

// tlsPlaintext is the sessions' emit: plaintext joins its direction's
// buffer, carrying the segment that completed the record, and is framed
// at once, so messages of both directions come out in the order their
// records were decrypted (which is capture order, also when records
// waited for keys logged late). The sessions emit from feedTLS (called
// from appendInOrder, or at the tail of process by handoverTLS, once
// s.buf was handed over) and from detachTLS: never in the middle of a
// process of s.
func (a *Assembler) tlsPlaintext(c *tlsConn, d tlsdec.Direction, p []byte) {
	s := c.dirs[d]
	if s == nil {
		a.stats.TLSPlaintextDropped += uint64(len(p))
		return
	}
	t, ref := c.sess.Mark() // the segment that completed the record, also when keys came late
	a.appendPlain(s, p, ref, t)
	if !t.Equal(a.curTime) {
		// Released late (keys logged after the record came): messages
		// take the time of their own segments, as in a flush.
		saved := a.curTime
		a.curTime = time.Time{}
		a.process(s)
		a.curTime = saved
		return
	}
	a.process(s)
}

// detachTLS ends s's part in its connection; the last direction to leave
// ends the session.
func (a *Assembler) detachTLS(s *stream) {
	c := s.tls
	if c == nil {
		return
	}
	if c.sess.Waiting() {
		// Records wait for a key the application may have logged since
		// (a live capture): a last look while s can still take their
		// plaintext; the session ends waiting with its last direction.
		if c.dirs[s.tlsDir^1] == nil {
			c.sess.End()
		} else {
			c.sess.Retry()
		}
		a.stats.DiscardedBytes += uint64(len(s.buf)) // as finish counts what it cannot frame
		s.base += uint64(len(s.buf))
		s.buf, s.marks = s.buf[:0], s.marks[:0]
	}
	c.dirs[s.tlsDir] = nil
	s.tls, s.tlsCipher = nil, false
	if c.dirs[0] == nil && c.dirs[1] == nil {
		a.endTLS(c)
	}
}

// endTLS forgets a connection, adds its session's counters to the
// Assembler's and reports it. A direction still attached (a reused
// 4-tuple) is left ignoring its bytes.
func (a *Assembler) endTLS(c *tlsConn) {
	for i, s := range c.dirs {
		if s != nil {
			s.tls, s.tlsCipher, s.mode = nil, false, modeTLS
			c.dirs[i] = nil
		}
	}
	delete(a.tlsConns, c.key)
	c.sess.End() // records still waiting for keys are counted
	st := c.sess.Stats()
	for _, d := range st.Dir {
		a.stats.TLSRecordsDecrypted += uint64(d.Decrypted)
		a.stats.TLSRecordsUndecrypted += uint64(d.Undecrypted)
	}
	if st.Reason != tlsdec.ReasonNone {
		a.stats.TLSSessionsUndecrypted++
	}
	if a.onTLS != nil {
		a.onTLS(c.key.src, c.key.dst, st)
	}
}
