package tui

// diffKind is one step of a side-by-side line diff.
type diffKind int

const (
	diffSame   diffKind = iota
	diffDel             // only in the marked message
	diffIns             // only in the selected message
	diffChange          // a deleted line paired with an inserted one
)

type diffOp struct {
	kind diffKind
	a, b string
}

// maxDiffLines bounds the quadratic LCS table; SIP messages are far
// shorter, and longer input is compared line by line instead.
const maxDiffLines = 1000

// diffLines aligns a and b on their longest common subsequence of lines,
// pairing a run of deletions with the insertions that follow it so a
// changed header (a new CSeq, Via branch) sits on one row.
func diffLines(a, b []string) []diffOp {
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		return diffByIndex(a, b)
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	var dels, ins []string
	flush := func() {
		n := max(len(dels), len(ins))
		for k := range n {
			switch {
			case k < len(dels) && k < len(ins):
				ops = append(ops, diffOp{diffChange, dels[k], ins[k]})
			case k < len(dels):
				ops = append(ops, diffOp{diffDel, dels[k], ""})
			default:
				ops = append(ops, diffOp{diffIns, "", ins[k]})
			}
		}
		dels, ins = dels[:0], ins[:0]
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			flush()
			ops = append(ops, diffOp{diffSame, a[i], b[j]})
			i++
			j++
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			ins = append(ins, b[j])
			j++
		default:
			dels = append(dels, a[i])
			i++
		}
	}
	flush()
	return ops
}

func diffByIndex(a, b []string) []diffOp {
	ops := make([]diffOp, 0, max(len(a), len(b)))
	for k := range max(len(a), len(b)) {
		var x, y string
		if k < len(a) {
			x = a[k]
		}
		if k < len(b) {
			y = b[k]
		}
		kind := diffChange
		switch {
		case k >= len(a):
			kind = diffIns
		case k >= len(b):
			kind = diffDel
		case x == y:
			kind = diffSame
		}
		ops = append(ops, diffOp{kind, x, y})
	}
	return ops
}
