package gitchanges

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// needGit skips without git, except in CI (.ci/run installs it), where a
// missing git is a failure.
func needGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed (.ci/run installs it)")
		}
		t.Skip("git is not installed")
	}
}

// repo is a git repository in a temporary directory.
type repo struct {
	t   *testing.T
	dir string // the top level, symlinks resolved
}

func newRepo(t *testing.T) *repo {
	needGit(t)
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &repo{t: t, dir: dir}
	r.git("init", "-q", "-b", "main")
	r.git("config", "user.email", "test@example.com")
	r.git("config", "user.name", "test")
	r.git("config", "commit.gpgsign", "false")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+r.dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (r *repo) write(path, data string) {
	r.t.Helper()
	p := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) commitAll(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "-m", msg)
}

func (r *repo) since(root, rev string) []string {
	r.t.Helper()
	c, err := Since(root, rev, nil)
	if err != nil {
		r.t.Fatalf("Since(%s, %s): %v", root, rev, err)
	}
	return c.Paths
}

// TestSince covers what counts as a change: an edit committed on a
// branch, a staged and an unstaged edit, both sides of a rename, a
// deletion, an untracked file; an ignored file does not.
func TestSince(t *testing.T) {
	r := newRepo(t)
	r.write(".gitignore", "*.o\nbuild/\n")
	r.write("src/a.c", "a\n")
	r.write("src/b.c", "b\n")
	r.write("src/old.c", "old\n")
	r.write("src/gone.c", "gone\n")
	r.write("docs/x.md", "x\n")
	r.commitAll("init")

	if got := r.since(r.dir, "main"); len(got) != 0 {
		t.Errorf("no change: got %v", got)
	}

	r.git("checkout", "-q", "-b", "feature")
	r.write("src/a.c", "a2\n")
	r.commitAll("edit a")
	if got, want := r.since(r.dir, "main"), []string{"src/a.c"}; !slices.Equal(got, want) {
		t.Errorf("one commit on a branch: got %v, want %v", got, want)
	}

	r.git("mv", "src/old.c", "src/new.c")       // staged rename
	r.git("rm", "-q", "src/gone.c")             // staged deletion
	r.write("src/b.c", "b2\n")                  // unstaged edit
	r.write("src/untracked.c", "u\n")           // untracked
	r.write("src/ignored.o", "o\n")             // ignored
	r.write("build/out.bin", "o\n")             // ignored directory
	r.write("docs/new dir/we\"ird\n.md", "w\n") // a name git would quote
	got := r.since(r.dir, "main")
	want := []string{"docs/new dir/we\"ird\n.md", "src/a.c", "src/b.c", "src/gone.c", "src/new.c", "src/old.c", "src/untracked.c"}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}

	// A project root below the top level: paths are relative to it, and
	// files outside it start with "../".
	sub := filepath.Join(r.dir, "src")
	got = r.since(sub, "main")
	want = []string{"../docs/new dir/we\"ird\n.md", "a.c", "b.c", "gone.c", "new.c", "old.c", "untracked.c"}
	if !slices.Equal(got, want) {
		t.Errorf("from src/:\n got %q\nwant %q", got, want)
	}
	c, _ := Since(sub, "main", nil)
	for _, m := range []struct {
		patterns []string
		want     string
	}{
		{[]string{"*.h"}, ""},
		{[]string{"gone.c"}, "gone.c"},
		{[]string{"../docs"}, "../docs/new dir/we\"ird\n.md"}, // through its directory
		{[]string{filepath.Join(sub, "new.c")}, "new.c"},      // absolute
		{[]string{"**/*.o"}, ""},
	} {
		if got, ok := c.Match(m.patterns); got != m.want || ok != (m.want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", m.patterns, got, ok, m.want)
		}
	}
}

// TestSinceErrors: outside a work tree, an unknown revision and an
// option given as a revision are *Error.
func TestSinceErrors(t *testing.T) {
	r := newRepo(t)
	r.write("a", "a\n")
	r.commitAll("init")
	outside, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		root, rev, want string
	}{
		{outside, "main", "is not in a git work tree"},
		{r.dir, "nope", `unknown revision "nope"`},
		{r.dir, "--output=x", `"--output=x" is not a revision`},
		{filepath.Join(r.dir, ".git"), "main", "is not in a git work tree"},
	} {
		_, err := Since(c.root, c.rev, nil)
		var e *Error
		if !errors.As(err, &e) || !strings.Contains(e.Msg, c.want) {
			t.Errorf("Since(%s, %s) = %v, want an *Error with %q", c.root, c.rev, err, c.want)
		}
	}
}
