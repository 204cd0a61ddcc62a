//go:build !unix

package sink

// oNoFollow: this system has no O_NOFOLLOW; CheckOutput's refusal of a
// symbolic link (Lstat) is the only check here.
const oNoFollow = 0
