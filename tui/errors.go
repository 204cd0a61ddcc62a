package tui

import "errors"

// ErrNilData is returned by Run when it is given no Data to display.
var ErrNilData = errors.New("tui: nil Data")

// errNoCall is shown in the status line when an action needs a call and the
// list is empty; not exported because callers never branch on it.
var errNoCall = errors.New("tui: no call under the cursor")

// errEmptyPath is shown in the save dialog when the file name is blank.
var errEmptyPath = errors.New("tui: file name is empty")

// errSaveRunning is shown when a save is asked for while one runs.
var errSaveRunning = errors.New("tui: a save is already running (Esc cancels it)")
