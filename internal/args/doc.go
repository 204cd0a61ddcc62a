// Package args reads the values people type on the command line that name
// things in a capture: a Call-ID or an unambiguous prefix of one (copied
// from a narrow table), an address alias IP=NAME, and the --calls-only
// restriction of a call filter. The commands share them, so each means the
// same everywhere.
//
// Usage:
//
//	id, err := args.ResolveCallID(eng, "8d3f0b2a")     // the one call it names
//	aliases, err := args.ParseAliases([]string{"10.0.0.1=pbx"})
//	filter := args.CallsOnly(userFilter)                // "type=CALL and (...)"
package args
