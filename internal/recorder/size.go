package recorder

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a size as tcpdump and sngrep users write it: a number
// with an optional unit, k/K, M, G (powers of 1000, as tcpdump's -C
// counts millions of bytes) or KiB/MiB/GiB (powers of 1024), B for bytes.
// "100MB" is 100 000 000 bytes; "1GiB" 1 073 741 824.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("%w: empty", ErrBadSize)
	}
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%w: %q", ErrBadSize, s)
	}
	mult := map[string]float64{
		"": 1, "b": 1,
		"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%w: %q: unknown unit %q (use k, M, G or KiB, MiB, GiB)", ErrBadSize, s, t[i:])
	}
	n := v * mult
	if n > 1<<62 {
		return 0, fmt.Errorf("%w: %q: too large", ErrBadSize, s)
	}
	return int64(n), nil
}
