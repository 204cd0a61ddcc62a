package main

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is stamped by the release build (-ldflags "-X main.version=v1.2.3");
// a plain `go build` or `go install` falls back to the module version.
var version = ""

// Exit codes follow the convention of grep and tcpdump: 1 for a failure
// while working, 2 for a command line that could not be understood.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError marks an error as the user's command line being wrong, so
// run can exit 2 and print the usage hint instead of 1.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Errorf(format, a...)}
}

// run executes the command line and returns the process exit code. It
// never calls os.Exit, so deferred flushes in commands always happen.
func run(args []string, ios *ioStreams) int {
	root := newRootCmd(ios)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(ios.ErrOut, "voiptool: %v\n", err)
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(ios.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	}
	return exitError
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func newRootCmd(ios *ioStreams) *cobra.Command {
	opts := &openOptions{io: ios}
	root := &cobra.Command{
		Use:   "voiptool [FILE...]",
		Short: "VoIP diagnostics in the terminal: SIP call flows, RTP quality, HEP",
		Long: `voiptool reads captures (pcap, pcapng, gzip-compressed, or - for stdin) and
live interfaces, and turns SIP, RTP, RTCP and HEP traffic into calls, ladders
and per-stream quality figures.

` + openLong,
		Example: `  # browse a capture interactively
  voiptool testdata/pcaps/basic-call.pcap

  # list the calls in a capture
  voiptool calls testdata/pcaps/basic-call.pcap

  # print every SIP message mentioning 1001, ngrep style
  voiptool dump testdata/pcaps/basic-call.pcap -e 1001`,
		Version:           versionString(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		// Arguments that are not subcommands are capture files.
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return opts.run(c, args, nil)
		},
	}
	addOpenFlags(root, opts)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetIn(ios.In)
	root.SetVersionTemplate("voiptool {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err}
	})

	root.AddCommand(
		newCmdOpen(ios, nil),
		newCmdDump(ios, nil),
		newCmdCapture(ios, nil),
		newCmdCalls(ios, nil),
		newCmdFlow(ios, nil),
		newCmdStats(ios, nil),
		newCmdRTP(ios, nil),
		newCmdHEPForward(ios, nil),
		newCmdReplay(ios, nil),
		newCmdListen(ios, nil),
		newCmdMan(ios, nil),
		newCmdAnonymize(ios, nil),
	)
	// The default completion command prints its help and exits 0 for a
	// shell it does not know; make that the usage error it is.
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			c.Args = func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usageErrorf("completion: unknown shell %q (bash, zsh, fish or powershell)", args[0])
				}
				return nil
			}
			c.RunE = func(c *cobra.Command, _ []string) error {
				return usageErrorf("completion: name a shell (bash, zsh, fish or powershell)")
			}
		}
	}
	return root
}
