package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hazlua/hazlua/internal/fingerprint"
)

// Kind is the kind of an Item. The zero Kind is File.
type Kind uint8

// The kinds of Item.
const (
	File    Kind = iota // a regular file
	Dir                 // a directory
	Symlink             // a symbolic link (never followed)
)

// kindNames are the Strings of the kinds, in order.
var kindNames = [...]string{File: "file", Dir: "dir", Symlink: "symlink"}

// String returns "file", "dir" or "symlink" (or "Kind(N)" for another
// value).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// parseKind is the inverse of String.
func parseKind(s string) (Kind, bool) {
	i := slices.Index(kindNames[:], s)
	return Kind(i), i >= 0
}

// keptModeBits are the mode bits an Item records for files and
// directories.
const keptModeBits = fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

// Item is one path of a task's outputs. The zero Item is not valid (its
// Path is empty).
type Item struct {
	// Path is slash-separated and clean (path.Clean(Path) == Path, not
	// "." or "/", not ending in ".."), relative to the current directory
	// (the project root) or absolute.
	Path string
	Kind Kind
	// Mode is, for File and Dir, the permission bits plus setuid, setgid
	// and sticky (m & (fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|
	// fs.ModeSticky)); for Symlink 0.
	Mode fs.FileMode
	// Hash is a File's content hash; zero for the other kinds.
	Hash fingerprint.Sum
	// Target is a Symlink's target as os.Readlink reads it; "" for the
	// other kinds.
	Target string
}

// Snapshot lists what exists at paths (slash-separated and clean, relative
// to the current directory or absolute): each is a file, a directory
// (walked recursively; symlinks inside are recorded as symlinks, never
// followed) or a symlink (recorded, not followed). Items come sorted by
// Path (so each directory comes before its contents) without duplicates:
// a path listed twice, or inside another listed directory, appears once.
//
// hash gives a regular file's content hash from its Path (the caller
// passes its stat index's Lookup, which skips rereading unchanged files,
// or fingerprint.HashFile). Snapshot calls it from several goroutines at
// once: it must be safe for concurrent use.
//
// A path that does not exist gives an error wrapping fs.ErrNotExist whose
// message names the path. A FIFO, socket or device, an unclean path, or a
// path inside another listed path that is reached only through a symlink
// is an error naming the path.
func Snapshot(paths []string, hash func(path string) (fingerprint.Sum, error)) ([]Item, error) {
	for _, p := range paths {
		if err := checkPath(p); err != nil {
			return nil, fmt.Errorf("cache: snapshot: %w", err)
		}
	}
	tops, nested := splitRoots(paths)
	var items []Item
	for _, r := range tops {
		var err error
		if items, err = walk(items, r); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(a.Path, b.Path) })
	for _, r := range nested {
		if _, found := slices.BinarySearchFunc(items, r, func(it Item, p string) int { return strings.Compare(it.Path, p) }); found {
			continue
		}
		if _, err := os.Lstat(filepath.FromSlash(r)); err != nil {
			return nil, fmt.Errorf("cache: snapshot: %w", err)
		}
		return nil, fmt.Errorf("cache: snapshot %s: inside output %s but reached through a symlink", r, topOf(r, tops))
	}
	var files []int
	for i, it := range items {
		if it.Kind == File {
			files = append(files, i)
		}
	}
	err := parallel(len(files), func(i int) error {
		it := &items[files[i]]
		sum, err := hash(it.Path)
		if err != nil {
			return pathError("snapshot", it.Path, err)
		}
		it.Hash = sum
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

// walk appends to items what is at p (an Lstat), recursively.
func walk(items []Item, p string) ([]Item, error) {
	fi, err := os.Lstat(filepath.FromSlash(p))
	if err != nil {
		return nil, fmt.Errorf("cache: snapshot: %w", err)
	}
	mode := fi.Mode()
	switch {
	case mode.IsRegular():
		return append(items, Item{Path: p, Kind: File, Mode: mode & keptModeBits}), nil
	case mode&fs.ModeSymlink != 0:
		target, err := os.Readlink(filepath.FromSlash(p))
		if err != nil {
			return nil, fmt.Errorf("cache: snapshot: %w", err)
		}
		return append(items, Item{Path: p, Kind: Symlink, Target: target}), nil
	case mode.IsDir():
		items = append(items, Item{Path: p, Kind: Dir, Mode: mode & keptModeBits})
		names, err := readDirNames(filepath.FromSlash(p))
		if err != nil {
			return nil, fmt.Errorf("cache: snapshot: %w", err)
		}
		for _, n := range names {
			if items, err = walk(items, path.Join(p, n)); err != nil {
				return nil, err
			}
		}
		return items, nil
	}
	return nil, fmt.Errorf("cache: snapshot %s: a %s, not a file, directory or symlink", p, typeName(mode))
}

// typeName names the type of a file that is not a file, directory or
// symlink.
func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "file of mode " + m.String()
}

// checkPath checks that p can be an Item's Path or a root.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty output path")
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("output path %q holds a NUL byte", p)
	case path.Clean(p) != p:
		return fmt.Errorf("output path %q is not clean (%q)", p, path.Clean(p))
	case p == "." || p == "/" || path.Base(p) == "..":
		return fmt.Errorf("output path %q names no file to replace", p)
	}
	return nil
}

// within reports whether p is strictly inside the directory dir.
func within(dir, p string) bool {
	return len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir)
}

// splitRoots sorts out roots (checked paths): tops are the distinct roots
// inside no other root, sorted; nested are the others.
func splitRoots(roots []string) (tops, nested []string) {
	if len(roots) == 1 {
		return roots, nil // the common case: one output
	}
	set := make(map[string]bool, len(roots))
	for _, r := range roots {
		set[r] = true
	}
	for r := range set {
		if !hasRootAbove(r, set) {
			tops = append(tops, r)
		} else {
			nested = append(nested, r)
		}
	}
	slices.Sort(tops)
	slices.Sort(nested)
	return tops, nested
}

// hasRootAbove reports whether a proper ancestor of p is in set.
func hasRootAbove(p string, set map[string]bool) bool {
	for q := path.Dir(p); q != p && q != "." && q != "/"; p, q = q, path.Dir(q) {
		if set[q] {
			return true
		}
	}
	return false
}

// topOf returns the root of tops that p is strictly inside, or "".
func topOf(p string, tops []string) string {
	for _, t := range tops {
		if within(t, p) {
			return t
		}
	}
	return ""
}

// pathError wraps err from an operation on p, naming p unless err
// already does.
func pathError(op, p string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == filepath.FromSlash(p) {
		return fmt.Errorf("cache: %s: %w", op, err)
	}
	return fmt.Errorf("cache: %s %s: %w", op, p, err)
}
