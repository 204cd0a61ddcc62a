// Command floor is the bare decode floor of bench/compare.sh (package
// internal/benchfloor): it reads and decodes every record of the files
// and prints how many it saw.
//
//	go run ./bench/floor FILE...
package main

import (
	"fmt"
	"os"

	"github.com/voiptool/voiptool/internal/benchfloor"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE...")
		os.Exit(2)
	}
	var total benchfloor.Result
	for _, name := range os.Args[1:] {
		r, err := benchfloor.DecodeFile(name)
		total.Records += r.Records
		total.Payload += r.Payload
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("%d records, %d UDP/TCP payload bytes\n", total.Records, total.Payload)
}
