package heptransport

import "golang.org/x/sys/unix"

// sendQueue returns the bytes written to the socket and not yet
// acknowledged by the peer (Linux SIOCOUTQ, tcp(7)).
func sendQueue(fd uintptr) (int, error) {
	return unix.IoctlGetInt(int(fd), unix.SIOCOUTQ)
}
