package fsutil

import (
	"os"
	"syscall"
)

// FileLock is an flock(2) lock on an open file. It belongs to the open
// file: two FileLocks on one path in one process are two locks (an
// exclusive one waits for the other), and the lock is released when the
// file is closed or the process dies, however it dies. Not safe for
// concurrent use.
type FileLock struct{ f *os.File }

// OpenLock opens the lock file at path (created 0644 if missing),
// holding no lock yet.
func OpenLock(path string) (*FileLock, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, err
	}
	return &FileLock{f}, nil
}

// Lock takes the lock, exclusive or shared, waiting until it is granted.
// A lock held already is converted.
func (l *FileLock) Lock(shared bool) error {
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	return l.flock(how)
}

// TryLock takes (or converts to) the exclusive lock if no other file
// holds the lock, without waiting, and reports whether it did.
func (l *FileLock) TryLock() (bool, error) {
	err := l.flock(syscall.LOCK_EX | syscall.LOCK_NB)
	if err == nil {
		return true, nil
	}
	if pe, ok := err.(*os.PathError); ok && pe.Err == syscall.EWOULDBLOCK {
		return false, nil
	}
	return false, err
}

func (l *FileLock) flock(how int) error {
	for {
		err := syscall.Flock(int(l.f.Fd()), how)
		switch err {
		case nil:
			return nil
		case syscall.EINTR:
			continue
		}
		return &os.PathError{Op: "lock", Path: l.f.Name(), Err: err}
	}
}

// Close releases the lock and closes the file.
func (l *FileLock) Close() error { return l.f.Close() }

// Lock takes a lock on the file at path (created 0644 if missing),
// exclusive or shared, waiting until it is granted, and returns the
// function that releases it.
func Lock(path string, shared bool) (unlock func(), err error) {
	l, err := OpenLock(path)
	if err != nil {
		return nil, err
	}
	if err := l.Lock(shared); err != nil {
		l.Close()
		return nil, err
	}
	return func() { l.Close() }, nil
}
