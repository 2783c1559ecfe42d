package cache

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// syncFS makes everything written to the filesystem holding f durable:
// one syncfs(2) instead of an fsync per file.
func syncFS(f *os.File) error {
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &fs.PathError{Op: "syncfs", Path: f.Name(), Err: err}
	}
	return nil
}

// exchange swaps the files at a and b atomically (both must exist; they
// may be of different kinds). It fails with an error wrapping
// errors.ErrUnsupported where the filesystem cannot.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch err {
	case nil:
		return nil
	case unix.EINVAL, unix.ENOSYS, unix.EOPNOTSUPP:
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: unsupported{err}}
	}
	return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
}

// unsupported is an errno that means "not supported here".
type unsupported struct{ error }

func (u unsupported) Unwrap() []error { return []error{u.error, errors.ErrUnsupported} }

// device is the filesystem of fi (from os.Stat or os.Lstat).
func device(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}
