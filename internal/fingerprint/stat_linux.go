package fingerprint

import (
	"os"
	"syscall"
)

// statPath stats the file at path (symlinks followed).
func statPath(path string) (fileStat, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	return fromStat(&st), nil
}

// statFile stats an open file.
func statFile(f *os.File) (fileStat, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: f.Name(), Err: err}
	}
	return fromStat(&st), nil
}

// fromStat keeps the fields the index compares.
func fromStat(st *syscall.Stat_t) fileStat {
	return fileStat{Size: st.Size, Mtime: st.Mtim.Nano(), Ctime: st.Ctim.Nano(), Ino: st.Ino, Mode: st.Mode}
}

// isDir reports whether the stat is a directory's.
func (st fileStat) isDir() bool { return st.Mode&syscall.S_IFMT == syscall.S_IFDIR }
