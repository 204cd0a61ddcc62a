// Command genpcaps writes the pcapgen scenarios into a directory, or one
// large SIP+RTP capture for benchmarks.
//
//	go run ./internal/pcapgen/cmd/genpcaps -out testdata/pcaps
//	go run ./internal/pcapgen/cmd/genpcaps -large big.pcap -calls 2000 -rtp 500
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/voiptool/voiptool/internal/pcapgen"
)

func main() {
	out := flag.String("out", "testdata/pcaps", "directory to write the captures into")
	large := flag.String("large", "", "write one large capture to this file instead")
	calls := flag.Int("calls", 1000, "calls in the large capture")
	rtp := flag.Int("rtp", 500, "RTP packets per call and direction in the large capture")
	flag.Parse()
	if err := run(*out, *large, *calls, *rtp); err != nil {
		fmt.Fprintln(os.Stderr, "genpcaps:", err)
		os.Exit(1)
	}
}

func run(out, large string, calls, rtp int) error {
	if large == "" {
		return pcapgen.Write(out)
	}
	f, err := os.Create(large)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := pcapgen.WriteLarge(w, calls, rtp); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
