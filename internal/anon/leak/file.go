package leak

import (
	"bufio"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"sort"

	"github.com/voiptool/voiptool/pcap"
)

// FileReport is the result of ScanFile.
type FileReport struct {
	Bytes   int64 // bytes scanned (decompressed)
	Records int   // packet records in the file
	Hits    []Hit // Frame: 1-based record number, 0 outside records (file header, pcapng SHB/IDB/NRB/ISB/custom blocks)
	Missed  int   // hits beyond the bound, counted only
}

// ScanFile scans every byte of a capture file, gzip-compressed or not
// (offsets count decompressed bytes, as pcap.Packet.Offset does): record
// headers, packet data, and every pcapng block that holds no packet
// (section and interface descriptions, name resolution, statistics,
// comments), which a per-packet check would never see. Each hit is then
// attributed to the record that contains it. maxHits bounds the report
// (0: 10000).
func ScanFile(path string, c *Checker, maxHits int) (*FileReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, err
		}
		defer gz.Close()
		r = gz
	}
	w := c.NewStream()
	w.MaxHits = maxHits
	if _, err := io.CopyBuffer(w, r, make([]byte, 1<<16)); err != nil {
		return nil, err
	}
	rep := &FileReport{Bytes: w.Offset(), Hits: w.Hits, Missed: w.Missed}
	sort.SliceStable(rep.Hits, func(i, j int) bool { return rep.Hits[i].Offset < rep.Hits[j].Offset })
	for i := range rep.Hits {
		rep.Hits[i].Frame = 0
	}
	// attribute hits to records in one pass over the file's records
	pr, err := pcap.Open(path)
	if err != nil {
		return rep, err // the bytes were scanned; the file is not a capture
	}
	defer pr.Close()
	k := 0
	for {
		data, p, err := pr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, err
		}
		rep.Records++
		// a record spans its header and its data (classic pcap: 16-byte
		// header; pcapng EPB: 28 bytes before the data, padding after it);
		// hits in pcapng options after the data stay at Frame 0
		hdr := int64(16)
		if pr.Format().Kind == pcap.FormatPcapng {
			hdr = 28
		}
		end := p.Offset + hdr + int64(len(data)+3)&^3
		for k < len(rep.Hits) && rep.Hits[k].Offset < p.Offset {
			k++
		}
		for j := k; j < len(rep.Hits) && rep.Hits[j].Offset < end; j++ {
			if rep.Hits[j].Frame == 0 {
				rep.Hits[j].Frame = p.Number
			}
		}
	}
	return rep, nil
}
