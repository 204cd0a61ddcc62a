// Package pcap reads and writes capture files in pure Go: classic pcap
// (either byte order, micro- or nanosecond timestamps) and pcapng (several
// sections and interfaces, EPB/SPB/obsolete PB, if_tsresol, if_tsoffset),
// gzip-compressed or not, from a file or stdin.
//
//	r, err := pcap.Open("call.pcapng.gz") // "-" reads stdin
//	if err != nil { return err }
//	defer r.Close()
//	for {
//		data, p, err := r.Next() // data is reused by the next call
//		if err == io.EOF { break }
//		if err != nil { return err } // *pcap.FormatError; errors.Is(err, pcap.ErrTruncated)...
//		handle(data, p)
//	}
//
// Reading allocates nothing per record: records are slices of the
// Reader's blocks, read 256 KiB at a time (ReadAhead reads them on a
// goroutine of its own, which its caller owns). A caller that keeps
// records past the next call, on another goroutine, can pin the
// read-ahead block they lie in instead of copying them (BlockOf,
// Block.Retain, Block.Release): it is not read into again until
// released. Damage (a truncated or impossible record or block) ends
// reading with a *FormatError naming file, packet number and offset; every
// record before it has been returned, and oddities that do not stop
// reading (captured > original length, time going backwards or jumping
// years) are counted in Stats. The reader does not resynchronise after
// damage: guessing the next boundary can fabricate packets.
//
// Writer writes classic pcap, NgWriter pcapng with interfaces of several
// link types; both produce files tshark reads back unchanged.
// ReadRecordAt re-reads one record of an uncompressed file by offset.
// Decryption Secrets Blocks (TLS key logs injected by editcap) are kept
// and returned by Reader.Secrets.
package pcap
