package extract

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/voiptool/voiptool/capture"
	"github.com/voiptool/voiptool/internal/engine"
	"github.com/voiptool/voiptool/internal/sink"
	"github.com/voiptool/voiptool/pcap"
	"github.com/voiptool/voiptool/sipflow"
)

// Options configure Pcap.
type Options struct {
	// Files are the files the engine read, in the same order (a
	// message's Meta.Source indexes them). Messages of other sources
	// (past its end, "-" for stdin, or all of them when Files is nil, as
	// for a live capture) are framed from the bytes the store kept.
	Files []string
	// Media adds each RTP packet of the calls' streams and the RTCP
	// between their RTCP endpoints.
	Media bool
	// Progress, when set, is called on Pcap's goroutine as it goes.
	Progress func(Progress)
	// Secrets are written as Decryption Secrets Blocks before the
	// packets (the inputs' own, so a saved TLS call stays decryptable;
	// nil with --strip-secrets).
	Secrets []pcap.Secrets
	// maxHeld, when set, replaces maxHeldBytes (tests).
	maxHeld int
}

// Progress is how far Pcap has got: calls gathered, then records
// re-read (TotalRecords is what the engine read, 0 when Pcap reads by
// offset and need not decode the files again).
type Progress struct {
	Calls, TotalCalls     int
	Records, TotalRecords int64
}

// progressEvery is how many calls or records pass between Progress
// calls and looks at the context.
const progressEvery = 256

// rtcpGrace is how long after a call's last message or stream its RTCP
// still belongs to it (a last report after BYE; RFC 3550 6.2 intervals
// are about 5 s).
const rtcpGrace = 10 * time.Second

type streamKey struct {
	ssrc     uint32
	src, dst netip.AddrPort
}

type window struct{ from, to time.Time }

// plan is what to take from the files: the SIP records by frame, RTP by
// stream, RTCP by its endpoints within each call's time.
type plan struct {
	frames  map[[2]int]bool // {source, frame number} of SIP messages
	metas   []sipflow.Meta
	calls   int // calls asked for, for Progress
	streams map[streamKey]bool
	rtcp    map[[2]netip.AddrPort][]window
	// Calls with messages no file holds, framed from the store's bytes,
	// which are loaded when written (loadSynth).
	live    []string
	files   []string // Options.Files: which messages a file holds
	sources int      // sources the messages came from (files included)
	gone    int      // messages to frame whose bytes the store no longer has
	// Media of calls from a source no file holds: not kept, counted.
	streamsNotKept, callsNotKept int
}

// Pcap writes the packets of the given calls to out as pcapng (so sources
// of different link types can be mixed). It writes each record whose SIP
// message belongs to one of the calls and, with o.Media, each RTP packet
// of their streams (matched by SSRC and both addresses, so a later call
// reusing the ports is not taken along) and each RTCP packet between the
// RTCP endpoints of those streams within the call's time. The RTCP
// endpoints are those the SDP announced (a=rtcp, RFC 3605; the RTP
// endpoint itself with a=rtcp-mux, RFC 5761; else RTP port + 1, RFC 3550
// 11); RTCP on the RTP 5-tuple itself is taken too. It returns the number
// of packets written.
//
// Signalling alone is re-read record by record at the offsets the store
// kept (pcap.ReadRecordAt); with media, or from a gzip file, the files are
// decoded again. A SIP message carried over several TCP segments is saved
// as the segment that completed it.
//
// A message no file in o.Files holds (from a live interface, a HEP
// collector or stdin "-", or with no record) is written as a synthetic
// Ethernet/IP frame around the message the store kept (internal/frame),
// with its addresses and time, merged by time with the records re-read
// from files. UDP and SCTP messages become UDP datagrams; TCP, TLS and
// WebSocket messages become TCP segments carrying the SIP plaintext
// between the same endpoints (no handshake, TLS or WebSocket framing;
// sequence numbers run on per direction, so a reader reassembles them).
// These frames go to pcapng interfaces of their own, named "voiptool: SIP
// of source N framed from the store". Such a source keeps no RTP: with
// o.Media their streams are not saved, and Pcap returns ErrMediaNotKept
// with the count after writing the file; a message whose bytes the store
// no longer has, or that cannot be framed (no address), is counted in
// ErrMessagesNotSaved the same way. Nothing written at all is
// ErrNothingToSave, and no file. When every message is framed (a live
// capture's calls), the calls' bytes are loaded (Store.Call) and written
// a chunk of calls at a time, about 16 MiB, each chunk in time order, so
// saving every call of a long live run holds little; merged with records
// re-read from files, the framed messages are all held while the file is
// written, to put them in time order.
//
// The cost is linear in the calls and their messages and streams (each
// call's streams come from the engine's per-call index), plus a re-read
// of the files. The file is written under a temporary name beside out
// and renamed at the end: when ctx is cancelled, or writing fails, Pcap
// returns the error and out is left as it was. A file that cannot be
// read to the end is saved up to that point and the read error returned
// with the count.
func Pcap(ctx context.Context, e *engine.Engine, callIDs []string, out string, o Options) (int, error) {
	return savePcap(ctx, e, callIDs, out, o, openOS)
}

// recordFile is a capture file pcapByOffset reads records from: an
// *os.File, or in tests a wrapper that counts the reads.
type recordFile interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// openOS opens a capture file for pcapByOffset.
func openOS(name string) (recordFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// savePcap is Pcap with the files pcapByOffset reads opened by open.
func savePcap(ctx context.Context, e *engine.Engine, callIDs []string, out string, o Options, open func(string) (recordFile, error)) (int, error) {
	p, err := gather(ctx, e, callIDs, o)
	if err != nil {
		return 0, err
	}
	if len(p.frames) == 0 && len(p.live) == 0 {
		return 0, p.nothingToSave(len(callIDs), 0)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.part")
	if err != nil {
		return 0, fmt.Errorf("extract: save: %w", err)
	}
	keep := false
	defer func() {
		tmp.Close()
		if !keep {
			os.Remove(tmp.Name())
		}
	}()
	var n int
	var fr *framer
	var msgs []synthMsg // the framed messages, when all are held
	loaded := false
	err = errRescan
	switch {
	case len(p.frames) == 0:
		// Every message is framed from the store: no file to read, and
		// the calls' bytes are loaded a bounded chunk at a time.
		fr = p.framer(nil)
		if o.maxHeld > 0 {
			fr.maxHeld = o.maxHeld
		}
		n, err = fr.writeAll(ctx, tmp, o.Secrets, func(ids []string) ([]synthMsg, error) { return p.loadSynth(ctx, e, ids) }, p.live)
	case !o.Media:
		// Records of files and framed messages, merged by time: the
		// framed ones are all held while the file is written.
		if msgs, err = p.loadSynth(ctx, e, p.live); err != nil {
			return 0, err
		}
		loaded = true
		fr = p.framer(msgs)
		n, err = pcapByOffset(ctx, o.Files, open, o.Secrets, p.metas, fr, tmp)
	}
	if errors.Is(err, errRescan) {
		if _, serr := tmp.Seek(0, 0); serr != nil {
			return 0, serr
		}
		if serr := tmp.Truncate(0); serr != nil {
			return 0, serr
		}
		if !loaded { // loaded once: p.gone counts each lost message once
			if msgs, err = p.loadSynth(ctx, e, p.live); err != nil {
				return 0, err
			}
		}
		fr = p.framer(msgs) // pcapByOffset framed nothing before it gave up, but start afresh
		n, err = p.rescan(ctx, e, o, fr, tmp)
	}
	var readErr *readError
	if err != nil && !errors.As(err, &readErr) {
		return n, err
	}
	if n == 0 && len(p.frames) == 0 {
		// Nothing could be framed, and no file holds a record: no file.
		return 0, p.nothingToSave(len(callIDs), fr.failed)
	}
	if cerr := tmp.Close(); cerr != nil {
		return n, cerr
	}
	if rerr := os.Rename(tmp.Name(), out); rerr != nil {
		return n, fmt.Errorf("extract: save: %w", rerr)
	}
	keep = true
	// Saved what could be; say what could not, counted (a read error as
	// a read of the same file says it).
	var left notSaved
	if readErr != nil {
		left = append(left, readErr.err)
	}
	left = p.notSaved(left, fr.failed)
	return n, left.orNil()
}

// framer is the framer of the plan's messages no file holds (msgs: all
// of them, or nil to be loaded by writeAll).
func (p *plan) framer(msgs []synthMsg) *framer { return newFramer(msgs, p.sources) }

// loadSynth returns the messages of the calls ids that no file holds,
// with the bytes the store kept (Store.Call reads them from memory or the
// spill file; it re-reads those a file holds too, the price of one
// consistent copy of the call while the writer goes on adding to it).
// A message whose bytes are gone is counted in p.gone, not framed empty.
func (p *plan) loadSynth(ctx context.Context, e *engine.Engine, ids []string) ([]synthMsg, error) {
	var msgs []synthMsg
	for i, id := range ids {
		if i%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		d, ok := e.Store().Call(id)
		if !ok {
			continue // evicted since gather
		}
		for j := range d.Messages {
			m := &d.Messages[j]
			if rereadable(&m.Meta, p.files) {
				continue
			}
			if m.RawError != "" || m.Raw == "" {
				p.gone++ // spill file failed or closed
				continue
			}
			msgs = append(msgs, synthMsg{meta: m.Meta, raw: m.Raw})
		}
	}
	return msgs, nil
}

// notSaved appends what the plan could not save to left: messages whose
// bytes are gone or that could not be framed (failed), and the media of
// live calls.
func (p *plan) notSaved(left notSaved, failed int) notSaved {
	if p.gone > 0 || failed > 0 {
		left = append(left, fmt.Errorf("%w: %d message(s) (%d whose bytes the store no longer has, %d that cannot be framed: no address or too large)",
			ErrMessagesNotSaved, p.gone+failed, p.gone, failed))
	}
	if p.streamsNotKept > 0 {
		left = append(left, fmt.Errorf("%w: %d RTP stream(s) of %d call(s) not saved (signalling only)", ErrMediaNotKept, p.streamsNotKept, p.callsNotKept))
	}
	return left
}

// nothingToSave is ErrNothingToSave for calls, with what was lost.
func (p *plan) nothingToSave(calls, failed int) error {
	if left := p.notSaved(nil, failed); len(left) > 0 {
		return fmt.Errorf("%w for %d call(s): %w", ErrNothingToSave, calls, left.orNil())
	}
	return fmt.Errorf("%w for %d call(s)", ErrNothingToSave, calls)
}

// readError wraps a problem reading the sources: what was written before
// it is kept.
type readError struct{ err error }

func (r *readError) Error() string { return r.err.Error() }
func (r *readError) Unwrap() error { return r.err }

// gather collects what to write: one store lookup and one per-call
// stream query per call.
func gather(ctx context.Context, e *engine.Engine, callIDs []string, o Options) (*plan, error) {
	p := &plan{
		frames:  make(map[[2]int]bool),
		streams: make(map[streamKey]bool),
		rtcp:    make(map[[2]netip.AddrPort][]window),
		calls:   len(callIDs),
		sources: len(o.Files),
		files:   o.Files,
	}
	framed := make(map[string]bool) // calls whose messages are framed, once each
	for i, id := range callIDs {
		if i%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if o.Progress != nil {
				o.Progress(Progress{Calls: i, TotalCalls: len(callIDs)})
			}
		}
		// The locations, not the messages: Call would re-read every
		// message from the file, and pcapByOffset reads its record again.
		d, ok := e.Store().CallLocations(id)
		if !ok {
			continue
		}
		live := false
		for j := range d.Messages {
			if !rereadable(&d.Messages[j].Meta, o.Files) {
				live = true
				break
			}
		}
		if live {
			if framed[id] {
				continue
			}
			framed[id] = true
			p.live = append(p.live, id) // its bytes are loaded when written
		}
		// RTP endpoint -> RTCP endpoint, as the call's SDP bodies said.
		rtcpOf := make(map[netip.AddrPort]netip.AddrPort)
		for _, m := range d.Messages {
			if !rereadable(&m.Meta, o.Files) {
				p.sources = max(p.sources, m.Meta.Source+1)
				continue
			}
			p.frames[[2]int{m.Meta.Source, m.Meta.Frame}] = true
			p.metas = append(p.metas, m.Meta)
			for _, md := range m.SDP {
				if md.Addr.IsValid() && md.Addr.Port() != 0 && md.RTCP.IsValid() {
					rtcpOf[md.Addr] = md.RTCP
				}
			}
		}
		if !o.Media {
			continue
		}
		if live {
			// A source no file holds keeps no RTP packets.
			if k := len(e.Streams(id)); k > 0 {
				p.streamsNotKept += k
				p.callsNotKept++
			}
			continue
		}
		w := window{d.Summary.Start, d.Summary.End.Add(rtcpGrace)}
		streams := e.Streams(id)
		for _, s := range streams {
			p.streams[streamKey{s.SSRC, s.Src, s.Dst}] = true
			if s.End.Add(rtcpGrace).After(w.to) {
				w.to = s.End.Add(rtcpGrace)
			}
		}
		for _, s := range streams {
			src, dst := rtcpEndpoint(rtcpOf, s.Src, s.SDPEndpoint), rtcpEndpoint(rtcpOf, s.Dst, s.SDPEndpoint)
			for _, pair := range [][2]netip.AddrPort{{src, dst}, {dst, src}, {s.Src, s.Dst}, {s.Dst, s.Src}} {
				p.rtcp[pair] = append(p.rtcp[pair], w)
			}
		}
	}
	if o.Progress != nil {
		o.Progress(Progress{Calls: len(callIDs), TotalCalls: len(callIDs)})
	}
	return p, nil
}

// rtcpEndpoint is the RTCP endpoint paired with the RTP endpoint ep of a
// stream linked through the SDP endpoint sdpEP: what the SDP announced
// for ep; behind NAT (ep was never announced) ep's address with the
// announced endpoint's RTCP port offset; with nothing announced, the RTP
// port + 1 of RFC 3550 11.
func rtcpEndpoint(rtcpOf map[netip.AddrPort]netip.AddrPort, ep, sdpEP netip.AddrPort) netip.AddrPort {
	if r, ok := rtcpOf[ep]; ok {
		return r
	}
	if r, ok := rtcpOf[sdpEP]; ok && r.Addr() == sdpEP.Addr() {
		return netip.AddrPortFrom(ep.Addr(), ep.Port()+(r.Port()-sdpEP.Port()))
	}
	return netip.AddrPortFrom(ep.Addr(), ep.Port()+1)
}

func inWindow(ws []window, t time.Time) bool {
	for _, w := range ws {
		if !t.Before(w.from) && !t.After(w.to) {
			return true
		}
	}
	return false
}

// progressSource counts the records a re-read pulls, for Progress.
type progressSource struct {
	capture.Source
	n     *int64
	total int64
	fn    func(Progress)
	calls int
}

func (s *progressSource) Next() ([]byte, pcap.Packet, error) {
	data, p, err := s.Source.Next()
	if err == nil {
		*s.n++
		if *s.n%progressEvery == 0 && s.fn != nil {
			s.fn(Progress{Calls: s.calls, TotalCalls: s.calls, Records: *s.n, TotalRecords: max(s.total, *s.n)})
		}
	}
	return data, p, err
}

// rescan decodes the files again and writes the records the plan wants.
func (p *plan) rescan(ctx context.Context, e *engine.Engine, o Options, fr *framer, fh *os.File) (int, error) {
	var srcs []capture.Source
	var read int64
	total := e.Status().Records
	for _, f := range o.Files {
		if f == "" || f == "-" {
			// Its messages are framed from the store; it keeps its index.
			srcs = append(srcs, emptySource{})
			continue
		}
		r, err := pcap.Open(f)
		if err != nil {
			return 0, err
		}
		defer r.Close()
		srcs = append(srcs, &progressSource{Source: r, n: &read, total: total, fn: o.Progress, calls: p.calls})
	}
	w, err := newWriter(fh, o.Secrets, fr)
	if err != nil {
		return 0, err
	}
	written := make(map[[2]int]bool)
	n := 0
	var readErr error
	warn := func(err error) {
		if readErr == nil {
			readErr = err
		}
	}
	_, err = capture.Run(ctx, srcs, e.CaptureOptions(), warn, func(ev *capture.Event) error {
		key := [2]int{ev.Source, ev.Packet.Number}
		if written[key] {
			return nil
		}
		want := false
		switch ev.Kind {
		case capture.KindSIP, capture.KindHEP:
			want = p.frames[key]
		case capture.KindRTP:
			want = o.Media && p.streams[streamKey{ev.RTP.SSRC, ev.Src, ev.Dst}]
		case capture.KindRTCP:
			want = o.Media && inWindow(p.rtcp[[2]netip.AddrPort{ev.Src, ev.Dst}], ev.Time)
		}
		if !want {
			return nil
		}
		if ev.Record == nil {
			// Completed at the end-of-input flush, or held back by the
			// RTP heuristic: its record is no longer in hand.
			return nil
		}
		k, err := fr.writeBefore(ctx, w, ev.Packet.Timestamp)
		n += k
		if err != nil {
			return err
		}
		if err := w.WriteRecord(ev.Source, ev.Packet, ev.Record); err != nil {
			return err
		}
		written[key] = true
		n++
		return nil
	})
	if err != nil {
		return n, err
	}
	k, err := fr.writeRest(ctx, w)
	n += k
	if err != nil {
		return n, err
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	if readErr != nil {
		return n, &readError{readErr}
	}
	return n, nil
}

// pcapByOffset writes the records behind metas by reading each at its
// offset: no decoding, and only the bytes of the calls are read.
// The messages of fr are framed between them, by time.
func pcapByOffset(ctx context.Context, files []string, open func(string) (recordFile, error), secrets []pcap.Secrets, metas []sipflow.Meta, fr *framer, fh *os.File) (int, error) {
	type src struct {
		f      recordFile
		format pcap.Format
	}
	srcs := make(map[int]*src)
	defer func() {
		for _, s := range srcs {
			s.f.Close()
		}
	}()
	for _, m := range metas {
		if m.Record.CaptureLength == 0 || m.Source < 0 || m.Source >= len(files) || files[m.Source] == "-" {
			return 0, errRescan
		}
		if srcs[m.Source] != nil {
			continue
		}
		f, err := open(files[m.Source])
		if err != nil {
			return 0, fmt.Errorf("extract: save: %w", err)
		}
		r, err := pcap.NewReader(f, files[m.Source])
		if err != nil {
			f.Close()
			return 0, err
		}
		srcs[m.Source] = &src{f: f, format: r.Format()}
		if r.Format().Compressed {
			return 0, errRescan
		}
	}
	sort.SliceStable(metas, func(i, j int) bool {
		a, b := metas[i].Record, metas[j].Record
		if !a.Timestamp.Equal(b.Timestamp) {
			return a.Timestamp.Before(b.Timestamp)
		}
		return metas[i].Source < metas[j].Source || metas[i].Source == metas[j].Source && a.Number < b.Number
	})
	w, err := newWriter(fh, secrets, fr)
	if err != nil {
		return 0, err
	}
	done := make(map[[2]int64]bool)
	var buf []byte
	n := 0
	for i, m := range metas {
		if i%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
		}
		key := [2]int64{int64(m.Source), m.Record.Offset}
		if done[key] {
			continue // several messages in one record
		}
		s := srcs[m.Source]
		data, err := pcap.ReadRecordAt(s.f, s.format, m.Record, buf)
		if err != nil {
			// The messages no file holds do not depend on this one.
			k, ferr := fr.writeRest(ctx, w)
			n += k
			if ferr != nil {
				return n, ferr
			}
			if ferr := w.Flush(); ferr != nil {
				return n, ferr
			}
			return n, &readError{err}
		}
		buf = data[:0]
		k, err := fr.writeBefore(ctx, w, m.Record.Timestamp)
		n += k
		if err != nil {
			return n, err
		}
		if err := w.WriteRecord(m.Source, m.Record, data); err != nil {
			return n, err
		}
		done[key] = true
		n++
	}
	k, err := fr.writeRest(ctx, w)
	n += k
	if err != nil {
		return n, err
	}
	return n, w.Flush()
}

// newWriter is the pcapng writer of a save: the inputs' secrets first,
// and names for the interfaces of fr's frames.
func newWriter(fh *os.File, secrets []pcap.Secrets, fr *framer) (*sink.Pcap, error) {
	return sink.NewPcap(fh, sink.PcapOptions{Format: sink.FormatPcapNG, Application: "voiptool", Secrets: secrets, SourceNames: fr.names()})
}

// emptySource stands for an input rescan cannot read again (stdin): it
// keeps the other sources' indices.
type emptySource struct{}

func (emptySource) Next() ([]byte, pcap.Packet, error) { return nil, pcap.Packet{}, io.EOF }
