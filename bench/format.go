package main

import (
	"fmt"
	"strings"
	"time"
)

// formatDuration prints d with three significant-ish digits in a fitting unit.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
}

// throughput is bytes over d in GB/s (10^9 bytes per second).
func throughput(bytes int64, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f GB/s", float64(bytes)/d.Seconds()/1e9)
}

// humanBytes prints n in GiB, MiB or KiB.
func humanBytes(n int64) string {
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= mib:
		if n%mib == 0 {
			return fmt.Sprintf("%d MiB", n/mib)
		}
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	default:
		return fmt.Sprintf("%.0f KiB", float64(n)/kib)
	}
}

// cell makes s safe inside a Markdown table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
