// Package tuiadapter answers the TUI's questions (tui.Data) from an
// engine: pages of the call list, ladders, streams, KPIs, header counters
// and saves, each a copy taken on the UI's goroutine (Save on a goroutine
// of its own) while the engine's writer goes on. It never writes to the
// engine's store or tracker: Clear and fresh stream summaries are
// requests the writer carries out.
//
//	v := tuiadapter.New(e, files, live, bytesRead, totalBytes)
//	err := tui.Run(ctx, v, tui.Options{})
package tuiadapter
