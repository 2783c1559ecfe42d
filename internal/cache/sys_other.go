//go:build !linux

package cache

import (
	"errors"
	"io/fs"
	"os"
)

// syncFS does nothing off Linux: durability is left to the system.
func syncFS(f *os.File) error { return nil }

// exchange is not supported off Linux; the caller moves the destination
// aside instead.
func exchange(a, b string) error {
	return &os.LinkError{Op: "exchange", Old: a, New: b, Err: errors.ErrUnsupported}
}

// device is 0 off Linux: one filesystem is assumed.
func device(fi fs.FileInfo) uint64 { return 0 }
