//go:build !linux

package heptransport

import "errors"

// sendQueue: only Linux is asked for the unacknowledged byte count; on
// other systems a write counts as sent, as it did before tracking.
func sendQueue(uintptr) (int, error) {
	return 0, errors.New("heptransport: send queue size not available on this system")
}
