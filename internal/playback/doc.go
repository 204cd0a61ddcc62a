// Package playback plays a capture file at the pace it was recorded, for
// the TUI's --realtime mode: calls appear and ladders grow as they
// happened. A Player sits on capture.Run's OnRecord hook, which sees the
// merged records in order on the writer's goroutine, and holds each
// record back until it is due: due = anchor + (virtual time - anchor's
// virtual time) / speed, where virtual time is the capture time since the
// first record with gaps capped (MaxGap; a broken clock jumping by years
// must not stall the screen) and time going backwards counting as no gap.
//
// The user's controls — pause, speed, step to the next SIP message, seek
// forward — come from the UI goroutine; each rebases the anchor at the
// current play head, so a speed change never jumps, and wakes a waiting
// record at once. Every deadline is computed from the anchor, never from
// the previous record, so sleep overshoot does not accumulate.
//
//	p := playback.New(ctx, playback.Options{Speed: 1})
//	eo.Capture.OnRecord = p.OnRecord         // blocks until due
//	eo.OnMessage = p.OnMessage               // ends a step
//	... p.TogglePause(); p.SetSpeed(4); p.Step(); p.Seek(30 * time.Second)
package playback
