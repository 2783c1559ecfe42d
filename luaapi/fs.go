package luaapi

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/hazlua/hazlua/internal/fsutil"
)

// This file holds haz.fs. The argument helpers shared by the leaf modules
// (fs, path, glob, json, env), prefixed with "leaf", are in bind.go.
//
// Conventions (docs/api.md: Files and paths): misuse raises a Lua error whose message starts with
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

// fsWrite implements haz.fs.write: an atomic replace of path's contents
// (fsutil.WriteFileAtomic).
func fsWrite(L *lua.LState) int {
	const fname = "haz.fs.write"
	path := leafCheckString(L, 1, fname)
	data := leafCheckString(L, 2, fname)
	err := fsutil.WriteFileAtomic(path, func(w io.Writer) error {
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
// permission bits of src (fsutil.CopyFile).
func fsCopy(L *lua.LState) int {
	const fname = "haz.fs.copy"
	src := leafCheckString(L, 1, fname)
	dst := leafCheckString(L, 2, fname)
	if err := fsutil.CopyFile(src, dst); err != nil {
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
