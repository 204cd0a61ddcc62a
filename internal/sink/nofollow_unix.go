//go:build unix

package sink

import "syscall"

// oNoFollow makes opening an output fail on a symbolic link, closing the
// gap between CheckOutput's Lstat and the open.
const oNoFollow = syscall.O_NOFOLLOW
