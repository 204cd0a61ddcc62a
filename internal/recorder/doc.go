// Package recorder writes captured records to pcap or pcapng files while
// a capture goes on, with rotation by size (-C) and by packet time (-G),
// a ring of at most N files (-W), a cap on the bytes of all files
// (--max-total) and optional gzip of closed files.
//
//	r, err := recorder.New(recorder.Options{Path: "calls.pcapng", MaxFileBytes: 100 << 20, MaxFiles: 10})
//	if err != nil { ... }
//	go func() { defer wg.Done(); r.Run(ctx) }() // the owner waits for it
//	r.Write(src, p, data)                       // copies; never blocks
//	err = r.Close()                             // drains, closes, renames; Run returns
//
// Write copies each record into a bounded queue and returns at once: the
// capture must not stall behind the disk. A record that finds the queue
// full, or that the disk refuses, is counted (Stats.Dropped,
// Stats.Failed), never lost silently. Each file is written under a
// temporary name beside its final one and renamed when complete, so a
// file with the final name is always whole and valid on its own; pcapng
// files end with Interface Statistics Blocks carrying the drop counters
// known when they were closed. Rotation runs on packet time, the one
// clock of the pipeline, so replaying a file rotates as a live capture
// would.
package recorder
