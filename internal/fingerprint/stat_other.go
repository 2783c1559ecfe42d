//go:build !linux

package fingerprint

import "os"

// statPath stats the file at path (symlinks followed). Off Linux only
// size, mtime and mode are compared.
func statPath(path string) (fileStat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	return fileStat{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Mode: uint32(fi.Mode())}, nil
}

// statFile stats an open file.
func statFile(f *os.File) (fileStat, error) { return statPath(f.Name()) }

// isDir reports whether the stat is a directory's.
func (st fileStat) isDir() bool { return os.FileMode(st.Mode).IsDir() }
