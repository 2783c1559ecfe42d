package luaapi

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	lua "github.com/yuin/gopher-lua"
)

// This file holds haz.fs. The argument helpers shared by the leaf modules
// (fs, path, glob, json, env), prefixed with "leaf", are in bind.go.
//
// Conventions (SPEC S8): misuse raises a Lua error whose message starts with
// the caller's file:line and the function name ("build.lua:3: haz.fs.read:
// bad argument #1 (string expected, got nil)"); an operational failure
// returns nil and a message that starts with the function name
// ("haz.fs.read: open x: no such file or directory").

// newFSModule returns the haz.fs table:
//
//	exists(path) -> bool
//	isdir(path) -> bool
//	read(path) -> string | nil, msg
//	write(path, data) -> true | nil, msg
//	mkdir(path) -> true | nil, msg
//	remove(path [, {recursive = bool}]) -> true | nil, msg
//	copy(src, dst) -> true | nil, msg
//	mtime(path) -> number | nil, msg
//
// See docs/api.md for the full contract.
func newFSModule(L *lua.LState) *lua.LTable { return newModule(L, nil, "haz.fs") }

// fsExists implements haz.fs.exists: true when os.Stat succeeds (symlinks are
// followed, like `test -e`).
func fsExists(L *lua.LState) int {
	path := leafCheckString(L, 1, "haz.fs.exists")
	_, err := os.Stat(path)
	L.Push(lua.LBool(err == nil))
	return 1
}

// fsIsDir implements haz.fs.isdir: true when path is a directory or a
// symlink to one (like `test -d`).
func fsIsDir(L *lua.LState) int {
	path := leafCheckString(L, 1, "haz.fs.isdir")
	fi, err := os.Stat(path)
	L.Push(lua.LBool(err == nil && fi.IsDir()))
	return 1
}

// fsRead implements haz.fs.read: the whole file as a (binary-safe) string.
func fsRead(L *lua.LState) int {
	const fname = "haz.fs.read"
	path := leafCheckString(L, 1, fname)
	b, err := os.ReadFile(path)
	if err != nil {
		return leafFail(L, fname, err)
	}
	L.Push(lua.LString(b))
	return 1
}

// fsWrite implements haz.fs.write: an atomic replace of path's contents.
func fsWrite(L *lua.LState) int {
	const fname = "haz.fs.write"
	path := leafCheckString(L, 1, fname)
	data := leafCheckString(L, 2, fname)
	err := atomicWriteFile(path, false, 0, func(w io.Writer) error {
		_, err := io.WriteString(w, data)
		return err
	})
	if err != nil {
		return leafFail(L, fname, err)
	}
	return leafOK(L)
}

// fsMkdir implements haz.fs.mkdir: os.MkdirAll with mode 0755 (less the
// umask). An existing directory is success.
func fsMkdir(L *lua.LState) int {
	const fname = "haz.fs.mkdir"
	path := leafCheckString(L, 1, fname)
	if err := os.MkdirAll(path, 0o755); err != nil {
		return leafFail(L, fname, err)
	}
	return leafOK(L)
}

// fsRemove implements haz.fs.remove. A missing path is success. A directory
// needs {recursive = true}; the recursive removal is os.RemoveAll, which
// unlinks symlinks instead of following them (it opens each directory with
// O_NOFOLLOW and removes entries with unlinkat relative to it).
func fsRemove(L *lua.LState) int {
	const fname = "haz.fs.remove"
	path := leafCheckString(L, 1, fname)
	recursive := leafOptions(L, 2, fname, removeOptions).boolean("recursive")

	// Dropping trailing slashes makes "link/" name the symlink itself, not
	// the directory it points to. Like rm, refuse "/", "." and "..".
	clean := strings.TrimRight(path, "/")
	if clean == "" && path != "" {
		return leafFail(L, fname, &fs.PathError{Op: "remove", Path: path, Err: errors.New("refusing to remove the root directory")})
	}
	if b := filepath.Base(clean); b == "." || b == ".." {
		return leafFail(L, fname, &fs.PathError{Op: "remove", Path: path, Err: errors.New(`refusing to remove "." or ".."`)})
	}
	fi, err := os.Lstat(clean)
	if errors.Is(err, fs.ErrNotExist) {
		return leafOK(L)
	}
	if err != nil {
		return leafFail(L, fname, err)
	}
	if fi.IsDir() {
		if !recursive {
			return leafFail(L, fname, &fs.PathError{Op: "remove", Path: path, Err: errors.New("is a directory (pass {recursive = true})")})
		}
		err = os.RemoveAll(clean)
	} else {
		err = os.Remove(clean)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return leafFail(L, fname, err)
	}
	return leafOK(L)
}

// fsCopy implements haz.fs.copy: copies the contents of the file src
// (symlinks followed) to dst, atomically like haz.fs.write, giving dst the
// permission bits of src.
func fsCopy(L *lua.LState) int {
	const fname = "haz.fs.copy"
	src := leafCheckString(L, 1, fname)
	dst := leafCheckString(L, 2, fname)
	in, err := os.Open(src)
	if err != nil {
		return leafFail(L, fname, err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return leafFail(L, fname, err)
	}
	if fi.IsDir() {
		return leafFail(L, fname, &fs.PathError{Op: "copy", Path: src, Err: syscall.EISDIR})
	}
	err = atomicWriteFile(dst, true, fi.Mode()&keptModeBits, func(w io.Writer) error {
		_, err := io.Copy(w, in) // a read error names src, others the temp file
		return err
	})
	if err != nil {
		return leafFail(L, fname, err)
	}
	return leafOK(L)
}

// fsMtime implements haz.fs.mtime: the modification time (symlinks followed)
// in seconds since the Unix epoch, with the sub-second part.
func fsMtime(L *lua.LState) int {
	const fname = "haz.fs.mtime"
	path := leafCheckString(L, 1, fname)
	fi, err := os.Stat(path)
	if err != nil {
		return leafFail(L, fname, err)
	}
	t := fi.ModTime()
	L.Push(lua.LNumber(float64(t.Unix()) + float64(t.Nanosecond())/1e9))
	return 1
}

// keptModeBits are the mode bits that write and copy carry over.
const keptModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// maxSymlinkHops bounds the symlink chain atomicWriteFile follows (Linux's
// own limit is 40).
const maxSymlinkHops = 40

// atomicWriteFile replaces the contents of path with what fill writes.
//
// When path is (or resolves through symlinks to) a regular file or does not
// exist, fill writes a temporary file in the target's directory, which is
// synced and renamed over the target, so a concurrent reader sees the old
// contents or the new ones and never a mix, and a failure at any step leaves
// the old file untouched. A symlink is written through (its target is
// replaced, the link stays). When the target exists and is not a regular
// file (a device such as /dev/null, a FIFO), it is opened and written in
// place, as no rename can replace it meaningfully.
//
// The new file gets mode when setMode is true, else the mode of the file it
// replaces, else 0644 less the umask. Errors name path, not the temporary
// file.
func atomicWriteFile(path string, setMode bool, mode fs.FileMode, fill func(io.Writer) error) error {
	fail := func(err error) error {
		return &fs.PathError{Op: "write", Path: path, Err: leafErrno(err)}
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
		return &fs.PathError{Op: "write", Path: path, Err: leafErrno(err)}
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

// leafErrno strips the operation and path of an *fs.PathError or
// *os.LinkError so the caller can name the user's path instead of a
// temporary file.
func leafErrno(err error) error {
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
