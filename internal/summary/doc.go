// Package summary writes the lines every command prints on stderr at the
// end of a run: what the decoder found and skipped, and what the sources
// lost before decoding (kernel drops of a live capture, records a lagging
// merge had to drop), so nothing is lost silently whichever command ran.
//
// Usage:
//
//	summary.Capture(os.Stderr, printed, &stats)   // "voiptool: N packets: ..."
//	summary.Drops(os.Stderr, summary.Loss{Kernel: n})  // nothing when nothing was lost
package summary
