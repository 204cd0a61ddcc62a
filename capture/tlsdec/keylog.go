package tlsdec

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DefaultMaxKeyLogEntries bounds the client randoms a KeyLog holds when
// KeyLogOptions.MaxEntries is 0: a busy SBC's key log of a day.
const DefaultMaxKeyLogEntries = 1 << 20

// maxBadLinesKept bounds the line numbers remembered for bad lines; all of
// them are counted.
const maxBadLinesKept = 16

// maxSecretLen is the longest secret a key log carries: a TLS 1.2 master
// secret or a SHA-384 TLS 1.3 traffic secret, 48 bytes.
const maxSecretLen = 48

// Label names the secret of one key log line (NSS key log format, as
// written by SSLKEYLOGFILE, Go's tls.Config.KeyLogWriter and openssl
// -keylogfile).
type Label uint8

// Labels understood. EXPORTER_SECRET and early secrets are parsed and
// stored but not needed to decrypt a session.
const (
	LabelClientRandom Label = iota // CLIENT_RANDOM: TLS 1.2 master secret
	LabelClientHandshake
	LabelServerHandshake
	LabelClientTraffic0
	LabelServerTraffic0
	LabelExporter
	LabelClientEarly
	labelCount
)

var labelNames = [labelCount]string{
	LabelClientRandom:    "CLIENT_RANDOM",
	LabelClientHandshake: "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	LabelServerHandshake: "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	LabelClientTraffic0:  "CLIENT_TRAFFIC_SECRET_0",
	LabelServerTraffic0:  "SERVER_TRAFFIC_SECRET_0",
	LabelExporter:        "EXPORTER_SECRET",
	LabelClientEarly:     "CLIENT_EARLY_TRAFFIC_SECRET",
}

// String returns the key log spelling of the label.
func (l Label) String() string {
	if l < labelCount {
		return labelNames[l]
	}
	return "UNKNOWN"
}

// Secrets are the secrets logged for one client random. A secret of
// length 0 was not logged.
type Secrets struct {
	secret [labelCount][maxSecretLen]byte
	length [labelCount]uint8
}

// Get returns the secret logged under label, or nil.
func (s *Secrets) Get(l Label) []byte {
	if l >= labelCount || s.length[l] == 0 {
		return nil
	}
	return s.secret[l][:s.length[l]]
}

// KeyLogOptions bound a KeyLog. The zero value is useful.
type KeyLogOptions struct {
	// MaxEntries bounds the client randoms held; 0 means
	// DefaultMaxKeyLogEntries. Lines for new client randoms beyond it are
	// counted in KeyLogStats.Refused.
	MaxEntries int
}

// KeyLogStats counts what a KeyLog has read.
type KeyLogStats struct {
	Lines    int   // lines read, comments and blank lines included
	Entries  int   // client randoms held
	Secrets  int   // secrets stored (a line repeating a stored secret replaces it)
	Unknown  int   // well-formed lines with a label this package does not know
	BadLines int   // malformed lines
	BadLine  []int // line numbers of the first malformed lines (at most 16)
	Refused  int   // lines refused because MaxEntries was reached
	// Resumable counts TLS 1.2 master secrets remembered by session id or
	// ticket from decrypted full handshakes (for resumed sessions whose
	// key log has no line); ResumeRefused those beyond MaxEntries.
	Resumable, ResumeRefused int
	// Reads counts reads of a followed key log (Follow), FollowErrors
	// those that failed (the last error in FollowError), Restarts the
	// times a followed file was found shorter than what was read (it
	// was truncated: read again from its start).
	Reads, FollowErrors, Restarts int
	FollowError                   string
}

// KeyLog holds TLS secrets by client random. It is safe for concurrent
// use: a pcapng reader may add Decryption Secrets Blocks while sessions
// look keys up.
type KeyLog struct {
	mu     sync.RWMutex
	max    int
	m      map[[32]byte]*Secrets
	resume map[[32]byte][48]byte // TLS 1.2 master secrets by session id or ticket
	stats  KeyLogStats

	// A followed key log file (Follow): read further when a lookup
	// misses, at most once per followEvery of packet time.
	fmu         sync.Mutex
	follow      io.Reader
	followEvery time.Duration
	lastRead    time.Time
	partial     []byte // a line read without its newline yet
	chunk       []byte
	offset      int64 // bytes read from follow
}

// statSeeker is what a followed *os.File offers to notice truncation.
type statSeeker interface {
	Stat() (os.FileInfo, error)
	Seek(offset int64, whence int) (int64, error)
}

// DefaultFollowEvery is the packet time between two reads of a followed
// key log when Follow is given 0: a miss costs at most one read(2) per
// interval, however many sessions wait.
const DefaultFollowEvery = 100 * time.Millisecond

// maxPartialLine bounds a line held while its end is not written yet; a
// longer one is counted as a bad line and skipped.
const maxPartialLine = 4096

// NewKeyLog returns an empty key log.
func NewKeyLog(o KeyLogOptions) *KeyLog {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxKeyLogEntries
	}
	return &KeyLog{max: o.MaxEntries, m: make(map[[32]byte]*Secrets), resume: make(map[[32]byte][48]byte)}
}

// ReadFrom adds every line of r (a key log file, or the payload of a
// pcapng Decryption Secrets Block). Malformed lines are counted with their
// line numbers, not fatal; only a read error is returned.
func (k *KeyLog) ReadFrom(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var n int64
	for sc.Scan() {
		n += int64(len(sc.Bytes())) + 1
		k.AddLine(sc.Bytes())
	}
	return n, sc.Err()
}

// AddLine adds one key log line and returns why it was not stored: nil
// for a stored secret, a comment, a blank line or an unknown label;
// ErrBadKeyLogLine or ErrKeyLogFull otherwise (both also counted).
func (k *KeyLog) AddLine(line []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stats.Lines++
	err := k.addLocked(line)
	switch err {
	case nil:
	case ErrKeyLogFull:
		k.stats.Refused++
	default:
		k.stats.BadLines++
		if len(k.stats.BadLine) < maxBadLinesKept {
			k.stats.BadLine = append(k.stats.BadLine, k.stats.Lines)
		}
	}
	return err
}

func (k *KeyLog) addLocked(line []byte) error {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return nil
	}
	f := bytes.Fields(line)
	if len(f) != 3 {
		return fmt.Errorf("%w: %d fields, want 3 (label, client random, secret)", ErrBadKeyLogLine, len(f))
	}
	var cr [32]byte
	if len(f[1]) != 64 {
		return fmt.Errorf("%w: client random is %d hex digits, want 64", ErrBadKeyLogLine, len(f[1]))
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		return fmt.Errorf("%w: client random: %v", ErrBadKeyLogLine, err)
	}
	if len(f[2])%2 != 0 || len(f[2]) == 0 || len(f[2]) > 2*maxSecretLen {
		return fmt.Errorf("%w: secret is %d hex digits, want an even number up to %d", ErrBadKeyLogLine, len(f[2]), 2*maxSecretLen)
	}
	label := labelCount
	for i, name := range labelNames {
		if string(f[0]) == name {
			label = Label(i)
			break
		}
	}
	if label == labelCount {
		k.stats.Unknown++ // e.g. openssl's CLIENT_TRAFFIC_SECRET_N after a KeyUpdate: derived here instead
		return nil
	}
	var sec [maxSecretLen]byte
	n, err := hex.Decode(sec[:], f[2])
	if err != nil {
		return fmt.Errorf("%w: secret: %v", ErrBadKeyLogLine, err)
	}
	if label == LabelClientRandom && n != 48 {
		return fmt.Errorf("%w: CLIENT_RANDOM master secret is %d bytes, want 48", ErrBadKeyLogLine, n)
	}
	s := k.m[cr]
	if s == nil {
		if len(k.m) >= k.max {
			return ErrKeyLogFull
		}
		s = new(Secrets)
		k.m[cr] = s
		k.stats.Entries++
	}
	if s.length[label] == 0 {
		k.stats.Secrets++
	}
	s.secret[label] = sec
	s.length[label] = uint8(n)
	return nil
}

// Follow makes the key log read r further whenever a lookup misses (a
// session's first protected record needs keys its application has not
// logged yet), at most once per every of packet time (0:
// DefaultFollowEvery). r is a key log file an application is still
// writing, positioned after what was read: reads at its end return
// io.EOF until more is written. Only complete lines are taken; a line
// still being written waits for its newline. No goroutine runs: the
// reads happen on the goroutine that feeds the sessions, in packet
// time, so a capture file and a live capture behave alike. A file
// (*os.File) truncated in place is read again from its start (secrets
// already held are kept); one replaced under its name (renamed away)
// is not followed to the new file.
func (k *KeyLog) Follow(r io.Reader, every time.Duration) {
	if every <= 0 {
		every = DefaultFollowEvery
	}
	k.fmu.Lock()
	defer k.fmu.Unlock()
	k.follow, k.followEvery, k.lastRead = r, every, time.Time{}
}

// Refresh reads whatever the followed file (Follow) gained since the last
// read, now, and reports whether any line was added. A key log not
// followed has nothing to refresh.
func (k *KeyLog) Refresh() bool { return k.refresh(time.Time{}, true) }

// refresh reads the followed file if it is due at packet time now (or
// forced).
func (k *KeyLog) refresh(now time.Time, force bool) bool {
	if k == nil {
		return false
	}
	k.fmu.Lock()
	defer k.fmu.Unlock()
	if k.follow == nil || !force && !k.lastRead.IsZero() && now.Sub(k.lastRead) < k.followEvery && !now.Before(k.lastRead) {
		return false
	}
	k.lastRead = now
	if k.chunk == nil {
		k.chunk = make([]byte, 32<<10)
	}
	if f, ok := k.follow.(statSeeker); ok {
		if st, err := f.Stat(); err == nil && st.Size() < k.offset {
			if _, err := f.Seek(0, io.SeekStart); err == nil {
				k.offset = 0
				k.partial = k.partial[:0]
				k.mu.Lock()
				k.stats.Restarts++
				k.mu.Unlock()
			}
		}
	}
	added := false
	for range 64 { // bounded: a file written faster than read waits for the next miss
		n, err := k.follow.Read(k.chunk)
		k.offset += int64(n)
		k.mu.Lock()
		k.stats.Reads++
		if err != nil && err != io.EOF {
			k.stats.FollowErrors++
			k.stats.FollowError = err.Error()
		}
		k.mu.Unlock()
		b := k.chunk[:n]
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				if len(k.partial)+len(b) > maxPartialLine {
					k.overlong()
					k.partial = k.partial[:0]
				} else {
					k.partial = append(k.partial, b...)
				}
				break
			}
			line := b[:i]
			if len(k.partial) > 0 {
				k.partial = append(k.partial, line...)
				line = k.partial
			}
			if k.AddLine(line) == nil {
				added = true
			}
			k.partial = k.partial[:0]
			b = b[i+1:]
		}
		if n == 0 || err != nil {
			break
		}
	}
	return added
}

// overlong counts a line longer than maxPartialLine as malformed.
func (k *KeyLog) overlong() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stats.Lines++
	k.stats.BadLines++
	if len(k.stats.BadLine) < maxBadLinesKept {
		k.stats.BadLine = append(k.stats.BadLine, k.stats.Lines)
	}
}

// Lookup returns a copy of the secrets logged for a client random.
func (k *KeyLog) Lookup(clientRandom [32]byte) (Secrets, bool) {
	if k == nil {
		return Secrets{}, false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	s := k.m[clientRandom]
	if s == nil {
		return Secrets{}, false
	}
	return *s, true
}

// Stats returns a copy of the counters.
func (k *KeyLog) Stats() KeyLogStats {
	k.mu.RLock()
	defer k.mu.RUnlock()
	s := k.stats
	s.BadLine = append([]int(nil), s.BadLine...)
	return s
}

// Kinds of TLS 1.2 resumption handles.
const (
	resumeSessionID = 1
	resumeTicket    = 2
)

// resumptionKey hashes a session id or ticket (tickets run to 64 KiB) to
// a fixed-size key.
func resumptionKey(kind byte, id []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte{kind})
	h.Write(id)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

// remember stores a TLS 1.2 master secret under a session id or ticket.
func (k *KeyLog) remember(key [32]byte, master []byte) {
	if k == nil || len(master) != 48 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.resume[key]; !ok {
		if len(k.resume) >= k.max {
			k.stats.ResumeRefused++
			return
		}
		k.stats.Resumable++
	}
	k.resume[key] = [48]byte(master)
}

// resumed fills s with the master secret remembered under key.
func (k *KeyLog) resumed(key [32]byte, s *Secrets) bool {
	if k == nil {
		return false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	m, ok := k.resume[key]
	if ok {
		s.secret[LabelClientRandom] = m
		s.length[LabelClientRandom] = 48
	}
	return ok
}
