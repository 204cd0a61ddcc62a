package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

type manOptions struct {
	io  *ioStreams
	dir string
	cmd *cobra.Command // the root, whose tree the pages describe
}

func newCmdMan(ios *ioStreams, runF func(*manOptions) error) *cobra.Command {
	opts := &manOptions{io: ios}
	cmd := &cobra.Command{
		Use:   "man",
		Short: "Generate man pages from the commands",
		Long: `Generate troff man pages for voiptool and every subcommand. The pages are
built from the same definitions as --help, so they never disagree.`,
		Example: `  # print voiptool(1) to stdout
  voiptool man | man -l -

  # write voiptool.1, voiptool-dump.1, ... into a directory
  voiptool man --dir /usr/local/share/man/man1`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("man: unexpected argument %q (use --dir DIR)", args[0])
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			opts.cmd = c.Root()
			if runF != nil {
				return runF(opts)
			}
			return manRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.dir, "dir", "", "write one page per command into `DIR` instead of printing voiptool(1)")
	return cmd
}

func manRun(o *manOptions) error {
	hdr := &doc.GenManHeader{Title: "VOIPTOOL", Section: "1", Source: "voiptool " + versionString()}
	o.cmd.DisableAutoGenTag = true
	if o.dir == "" {
		return doc.GenMan(o.cmd, hdr, o.io.Out)
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return fmt.Errorf("man: %w", err)
	}
	return doc.GenManTree(o.cmd, hdr, o.dir)
}
