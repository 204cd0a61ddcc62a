// Command voiptool is a terminal VoIP diagnostics toolkit: it turns
// captures into SIP call flows and RTP quality figures.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], stdIO()))
}
