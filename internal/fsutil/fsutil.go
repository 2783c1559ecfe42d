// Package fsutil replaces files atomically, for haz.fs.write and
// haz.fs.copy (docs/design.md, "Files, paths, globs, JSON"). It knows
// nothing of Lua.
package fsutil

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// keptModeBits are the mode bits that WriteFileAtomic and CopyFile carry
// over.
const keptModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// maxSymlinkHops bounds the symlink chain a write follows (Linux's own
// limit is 40).
const maxSymlinkHops = 40

// WriteFileAtomic replaces the contents of path with what fill writes.
//
// When path is (or resolves through symlinks to) a regular file or does not
// exist, fill writes a temporary file ".NAME.haz-tmp-XXXX" in the target's
// directory, which is synced and renamed over the target, so a concurrent
// reader sees the old contents or the new ones and never a mix, and a
// failure at any step leaves the old file untouched. A symlink is written
// through (its target is replaced, the link stays). When the target exists
// and is not a regular file (a device such as /dev/null, a FIFO), it is
// opened and written in place, as no rename can replace it meaningfully.
//
// The new file gets the permission bits of the file it replaces (setuid,
// setgid and sticky included), else 0644 less the umask. Errors are
// *fs.PathError "write PATH: ..." naming path, not the temporary file,
// except an *fs.PathError from fill that names another file, which is
// returned as it is.
func WriteFileAtomic(path string, fill func(w io.Writer) error) error {
	return replace(path, false, 0, fill)
}

// CopyFile copies the contents of the file src (symlinks followed) to dst,
// atomically as WriteFileAtomic writes, and gives dst the permission bits
// of src. A directory as src fails with "copy SRC: is a directory", as dst
// with "write DST: is a directory" (it does not copy into it).
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &fs.PathError{Op: "copy", Path: src, Err: syscall.EISDIR}
	}
	return replace(dst, true, fi.Mode()&keptModeBits, func(w io.Writer) error {
		_, err := io.Copy(w, in) // a read error names src, others the temp file
		return err
	})
}

// replace is WriteFileAtomic, giving the new file mode when setMode is
// true.
func replace(path string, setMode bool, mode fs.FileMode, fill func(io.Writer) error) error {
	fail := func(err error) error {
		return &fs.PathError{Op: "write", Path: path, Err: errno(err)}
	}
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fail(syscall.EISDIR)
		}
		if !fi.Mode().IsRegular() {
			return writeInPlace(path, fill)
		}
		if !setMode {
			setMode, mode = true, fi.Mode()&keptModeBits
		}
	}
	target, err := resolveFinalSymlinks(path)
	if err != nil {
		return fail(err)
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmpBase := base
	if len(tmpBase) > 200 { // stay under NAME_MAX with the prefix and suffix
		tmpBase = tmpBase[:200]
	}
	createMode := fs.FileMode(0o644)
	if setMode {
		createMode = 0o600 // chmod to the exact mode below, umask aside
	}
	var f *os.File
	var tmp string
	for range 100 {
		tmp = filepath.Join(dir, "."+tmpBase+".haz-tmp-"+strconv.FormatUint(rand.Uint64()>>32, 36))
		f, err = os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, createMode)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return fail(err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path != tmp {
			return err // already names its own file (the copy source)
		}
		return fail(err)
	}
	if setMode {
		if err := f.Chmod(mode); err != nil {
			return fail(err)
		}
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fail(err)
	}
	ok = true
	return nil
}

// writeInPlace truncates and writes an existing non-regular file (a device
// or a FIFO), where a rename would replace the special file itself.
func writeInPlace(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return &fs.PathError{Op: "write", Path: path, Err: errno(err)}
	}
	return f.Close()
}

// resolveFinalSymlinks follows symlinks in the last element of path until it
// names a non-symlink or a missing file, the file that open(O_CREAT) would
// write. Directory elements are left to the kernel.
func resolveFinalSymlinks(path string) (string, error) {
	for range maxSymlinkHops {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		link, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		path = link
	}
	return "", syscall.ELOOP
}

// errno strips the operation and path of an *fs.PathError or
// *os.LinkError, so the caller can name the user's path instead of a
// temporary file.
func errno(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
