package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned by LookPath when no executable is found.
var ErrNotFound = errors.New("executable file not found in PATH")

// ErrDot is wrapped by the *DotError LookPath returns for a program found
// through a relative PATH entry.
var ErrDot = errors.New("found through a relative PATH entry")

// DotError is returned by LookPath when the first executable it finds for a
// name lies in a relative PATH entry ("." or "", which means ".", or any
// entry not starting with "/"): what it names depends on the working
// directory, so it is refused, as Go's os/exec refuses it (exec.ErrDot).
type DotError struct {
	Program string // the name looked up
	Entry   string // the PATH entry, as written
	Path    string // the match, relative to the child's working directory, with a "/" ("./tool")
}

func (e *DotError) Error() string {
	return fmt.Sprintf("%q found in the relative PATH entry %q, as %s", e.Program, e.Entry, e.Path)
}

func (e *DotError) Unwrap() error { return ErrDot }

// DefaultPath is the PATH used to look programs up in an empty environment.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// LookPath finds program as the child will: a name with a slash is a path,
// relative to dir (the child's working directory; "" means hazlua's); a
// name without one is looked up in pathList (the child's PATH). It returns
// an absolute path, since the child resolves it after changing directory.
//
// The rule is Go's exec.LookPath: the first directory of pathList that
// holds an executable file of that name wins, and when that directory is a
// relative entry, LookPath returns a *DotError instead (wrapping ErrDot).
// Nothing found is ErrNotFound; a name with a slash that is missing, a
// directory or not executable is an *fs.PathError.
func LookPath(program, pathList, dir string) (string, error) {
	if strings.Contains(program, "/") {
		p := program
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		if err := executable(p); err != nil {
			return "", err
		}
		return filepath.Abs(p)
	}
	for _, entry := range filepath.SplitList(pathList) {
		d := entry
		if d == "" {
			d = "."
		}
		rel := !filepath.IsAbs(d)
		if rel && dir != "" {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, program)
		if executable(p) != nil {
			continue
		}
		if rel {
			shown := filepath.Join(entry, program)
			if !strings.Contains(shown, "/") {
				shown = "./" + shown
			}
			return "", &DotError{Program: program, Entry: entry, Path: shown}
		}
		return p, nil
	}
	return "", ErrNotFound
}

func executable(p string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if st.IsDir() {
		return &fs.PathError{Op: "exec", Path: p, Err: errors.New("is a directory")}
	}
	if st.Mode()&0o111 == 0 {
		return &fs.PathError{Op: "exec", Path: p, Err: fs.ErrPermission}
	}
	return nil
}
