// Command genpcaps writes the pcapgen scenarios into a directory.
//
//	go run ./internal/pcapgen/cmd/genpcaps -out testdata/pcaps
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/voiptool/voiptool/internal/pcapgen"
)

func main() {
	out := flag.String("out", "testdata/pcaps", "directory to write the captures into")
	flag.Parse()
	if err := pcapgen.Write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genpcaps:", err)
		os.Exit(1)
	}
}
