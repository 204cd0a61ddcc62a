package main

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"
)

// ioStreams is every byte stream a command touches, so tests can run
// commands against buffers and decide whether "the terminal" is one.
type ioStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY is true when Out is an interactive terminal; commands that
	// would start the TUI print a table instead when it is false.
	OutTTY bool
}

func stdIO() *ioStreams {
	return &ioStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		OutTTY: term.IsTerminal(os.Stdout.Fd()) && term.IsTerminal(os.Stdin.Fd()),
	}
}
