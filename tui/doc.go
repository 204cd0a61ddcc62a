// Package tui is voiptool's interactive terminal UI: a call list, a SIP
// ladder (flow) per call, RTP stream metrics with sparklines, KPI statistics,
// an export dialog and a help overlay, built on bubbletea/lipgloss/bubbles v2.
//
// The UI never sees packets. It pulls small, copied snapshots from a [Data]
// implementation on a 10 Hz tick (and after each key that changes what is on
// screen), so its cost is bounded by the screen size, not by the capture:
// the call list asks only for the rows it can show. A Data that implements
// [Versioned] is pulled only when its Version moved, and the frame is drawn
// again only when a message changed something: an idle UI costs a timer
// and an atomic load ten times a second, with nothing allocated.
//
// Usage:
//
//	var d tui.Data = newStoreAdapter(store) // implements tui.Data
//	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
//	defer stop()
//	if err := tui.Run(ctx, d, tui.Options{}); err != nil {
//		return err
//	}
//
// For tests or embedding, [New] returns the root [Model] without a program;
// drive it with Update and read View().Content.
package tui
