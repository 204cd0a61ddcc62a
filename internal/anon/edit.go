package anon

import "github.com/voiptool/voiptool/sipflow"

// editor collects replacements of sub-slices of one base slice (every
// slice sipflow returns aliases the bytes it parsed, so sipflow.Offset
// places them) and applies them in one copy. Should two replacements
// overlap, the one starting first wins and the other is counted (the leak
// check would then report what was left).
type editor = sipflow.Editor
