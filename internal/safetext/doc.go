// Package safetext neutralises text from the wire before it reaches a
// terminal (or a file a terminal will show): a SIP header can carry
// ESC ] 0 ; … BEL (retitle the terminal), ESC [ 2 J (clear it) or
// ESC ] 52 (write the user's clipboard). Every printer of wire text —
// dump, tables, CSV, ladders, the TUI — passes it through here.
//
//	fmt.Fprintln(w, safetext.Line(ua))      // one field: every control shown
//	w.Write(safetext.AppendBlock(nil, msg)) // a whole message: line breaks kept
//
// Control characters (C0, DEL, C1) and invalid UTF-8 are shown as \xHH
// escapes, so nothing is hidden and nothing is interpreted; the
// backslash itself is left alone (it is printable). Text that needs no
// change is returned as is, without allocating.
package safetext
