// Package gitchanges asks git which files changed since a revision, for
// --changed-since (docs/api.md, "Changed since a git revision"). It runs
// git itself, as a subprocess: what counts as a change (the index, the
// working tree, .gitignore, attributes, submodules) is git's to say. It
// knows nothing of Lua or of tasks.
package gitchanges

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hazlua/hazlua/internal/glob"
)

// Changes are the files that differ from a revision, as paths relative to
// a project root.
type Changes struct {
	// Rev is the revision as the user gave it.
	Rev string
	// Paths are the changed files, slash-separated and relative to the
	// project root; a file outside it starts with "../". Sorted, without
	// duplicates.
	Paths []string
	// abs are the same files as absolute paths, for absolute patterns.
	abs []string
}

// Error is a failure to learn the changes that is the user's to fix: no
// git, not a work tree, an unknown revision. Its message is meant to
// follow "--changed-since: ".
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Since returns the files that differ between rev and the work tree of
// the git repository that holds root (an absolute directory with symlinks
// resolved): what `git diff --name-only --no-renames REV` reports (the
// index and the working tree against rev; a rename is its old and its new
// path, a deletion is the deleted path), plus the untracked files that
// are not ignored (`git ls-files --others --exclude-standard`). run runs
// git; nil means os/exec, which a program whose children proc reaps must
// not use (hazlua passes one that starts git through proc). Errors
// are *Error (git missing, root not in a work tree, rev unknown) or the
// failure of a git command, with its stderr.
func Since(root, rev string, run Runner) (*Changes, error) {
	if run == nil {
		run = execGit
	}
	git := func(dir string, args ...string) ([]byte, error) {
		out, stderr, err := run(dir, args)
		if err != nil {
			msg := strings.TrimSpace(string(stderr))
			if msg == "" {
				msg = err.Error()
			}
			return nil, errors.New("git " + strings.Join(args, " ") + ": " + msg)
		}
		return out, nil
	}
	if _, err := exec.LookPath("git"); err != nil {
		return nil, &Error{Msg: "git is not installed (not found in PATH)"}
	}
	top, err := git(root, "rev-parse", "--show-toplevel")
	if err != nil {
		if inside, _ := git(root, "rev-parse", "--is-inside-work-tree"); strings.TrimSpace(string(inside)) == "false" {
			return nil, &Error{Msg: fmt.Sprintf("%s is not in a git work tree (it is inside a .git directory)", root)}
		}
		return nil, &Error{Msg: fmt.Sprintf("%s is not in a git work tree (%s)", root, firstLine(err))}
	}
	topDir := strings.TrimSuffix(string(top), "\n")
	if real, err := filepath.EvalSymlinks(topDir); err == nil {
		topDir = real
	}
	if rev == "" || strings.HasPrefix(rev, "-") {
		return nil, &Error{Msg: fmt.Sprintf("%q is not a revision", rev)}
	}
	if _, err := git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}"); err != nil {
		return nil, &Error{Msg: fmt.Sprintf("unknown revision %q (git rev-parse --verify: no such commit)", rev)}
	}
	// -z: NUL-terminated, unquoted paths relative to the top level.
	diff, err := git(topDir, "diff", "--name-only", "--no-renames", "--no-ext-diff", "-z", rev, "--")
	if err != nil {
		return nil, err
	}
	others, err := git(topDir, "ls-files", "--others", "--exclude-standard", "-z")
	if err != nil {
		return nil, err
	}
	c := &Changes{Rev: rev}
	seen := map[string]bool{}
	for _, list := range [][]byte{diff, others} {
		for p := range bytes.SplitSeq(list, []byte{0}) {
			if len(p) == 0 || seen[string(p)] {
				continue
			}
			seen[string(p)] = true
			abs := filepath.Join(topDir, filepath.FromSlash(string(p)))
			rel, err := filepath.Rel(root, abs)
			if err != nil {
				continue // cannot happen: both are absolute
			}
			c.Paths = append(c.Paths, filepath.ToSlash(rel))
			c.abs = append(c.abs, abs)
		}
	}
	sortTogether(c.Paths, c.abs)
	return c, nil
}

// Match returns the first changed file (relative to the root) that one of
// patterns (task inputs: globs relative to the root, or absolute) matches,
// itself or through one of its directories (an input "src" covers
// "src/a.c"), and whether there is one.
func (c *Changes) Match(patterns []string) (string, bool) {
	for i, p := range c.Paths {
		for _, pat := range patterns {
			name := p
			if strings.HasPrefix(pat, "/") {
				name = c.abs[i]
			}
			if matchOrParent(pat, name) {
				return p, true
			}
		}
	}
	return "", false
}

// matchOrParent reports whether pattern matches name or one of its
// parent directories.
func matchOrParent(pattern, name string) bool {
	for {
		if glob.Match(pattern, name) {
			return true
		}
		i := strings.LastIndexByte(name, '/')
		if i <= 0 {
			return false
		}
		name = name[:i]
	}
}

// Runner runs git with args (without "git") in dir, with the environment
// Env, and returns its stdout and stderr; err is not nil when git could
// not start or did not exit 0.
type Runner func(dir string, args []string) (stdout, stderr []byte, err error)

// Env is what git's environment gains: no pager, no index refresh
// written back (optional locks), messages in English.
var Env = []string{"GIT_PAGER=cat", "GIT_OPTIONAL_LOCKS=0", "LC_ALL=C"}

// execGit is the Runner of os/exec.
func execGit(dir string, args []string) ([]byte, []byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), Env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	return out, stderr.Bytes(), err
}

// firstLine returns the text of err after its "git ARGS: " prefix, up to
// the first newline.
func firstLine(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, ": "); ok {
		msg = rest
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return strings.TrimPrefix(msg, "fatal: ")
}

// sortTogether sorts paths, keeping abs in step.
func sortTogether(paths, abs []string) {
	type pair struct{ rel, abs string }
	ps := make([]pair, len(paths))
	for i := range paths {
		ps[i] = pair{paths[i], abs[i]}
	}
	slices.SortFunc(ps, func(a, b pair) int { return strings.Compare(a.rel, b.rel) })
	for i, p := range ps {
		paths[i], abs[i] = p.rel, p.abs
	}
}
