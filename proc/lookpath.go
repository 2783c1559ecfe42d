package proc

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned by LookPath when no executable is found.
var ErrNotFound = errors.New("executable file not found in PATH")

// DefaultPath is the PATH used to look programs up in an empty environment.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// LookPath finds program as the child will: a name with a slash is a path,
// relative to dir (the child's working directory; "" means hazlua's); a
// name without one is looked up in pathList (the child's PATH). It returns
// an absolute path, since the child resolves it after changing directory.
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
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) && dir != "" {
			d = filepath.Join(dir, d)
		}
		p := filepath.Join(d, program)
		if executable(p) == nil {
			if !filepath.IsAbs(p) {
				if abs, err := filepath.Abs(p); err == nil {
					p = abs
				}
			}
			return p, nil
		}
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
