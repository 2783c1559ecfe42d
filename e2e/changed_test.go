package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The --changed-since tests (docs/api.md, "Changed since a git revision")
// run hazlua in a real git repository, whose project root is a
// subdirectory (proj/) of the top level, so paths from git must be mapped.

// changedScript declares tasks over proj/'s files: each body appends its
// name to ran.txt (ignored by git, so running does not change anything).
const changedScript = `
local function body(t) haz.fs.write("ran-" .. t.name, "") end
haz.task("gen", {inputs = {"gen.txt"}, run = body})
haz.task("a", {inputs = {"src/a.c"}, deps = {"gen"}, run = body})
haz.task("b", {inputs = {"src/b.c"}, run = body})
haz.task("link", {deps = {"a", "b"}, run = body})
haz.task("docs", {inputs = {"docs/**"}, run = body})
haz.task("notes", {inputs = {"notes"}, run = body})
haz.task("obj", {inputs = {"src/*.o"}, run = body})
haz.task("all", {deps = {"link", "docs", "notes", "obj"}})
`

// gitRepo makes a repository with proj/build.lua and its inputs committed
// on main, checked out on a new branch "work"; it returns the top level
// and the project root.
func gitRepo(t *testing.T) (top, root string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not installed (.ci/run installs it)")
		}
		t.Skip("git is not installed")
	}
	top = t.TempDir()
	root = filepath.Join(top, "proj")
	files := map[string]string{
		"README":             "top\n",
		"proj/build.lua":     changedScript,
		"proj/.gitignore":    "*.o\nran-*\n.haz/\n",
		"proj/gen.txt":       "1\n",
		"proj/src/a.c":       "a\n",
		"proj/src/b.c":       "b\n",
		"proj/docs/guide.md": "g\n",
	}
	for p, data := range files {
		writeFile(t, filepath.Join(top, p), data)
	}
	git(t, top, "init", "-q", "-b", "main")
	git(t, top, "add", "-A")
	git(t, top, "commit", "-q", "-m", "init")
	git(t, top, "checkout", "-q", "-b", "work")
	return top, root
}

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// runChanged runs `hazlua --changed-since main --report FILE all` in root
// and returns the tasks whose bodies ran and each task's outcome.
func runChanged(t *testing.T, root string) (ran []string, outcomes map[string]string) {
	t.Helper()
	for _, f := range dirNames(root) {
		if strings.HasPrefix(f, "ran-") {
			os.Remove(filepath.Join(root, f))
		}
	}
	report := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr := runScript(t, root, runOpts{}, "--changed-since", "main", "--report", report, "all")
	if code != 0 {
		t.Fatalf("exit status %d:\n%s", code, strings.Join(stderr, "\n"))
	}
	for _, f := range dirNames(root) {
		if name, ok := strings.CutPrefix(f, "ran-"); ok {
			ran = append(ran, name)
		}
	}
	sort.Strings(ran)
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tasks []struct{ Name, Outcome, Cause string }
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	outcomes = map[string]string{}
	for _, tk := range doc.Tasks {
		outcomes[tk.Name] = tk.Outcome
		if tk.Outcome == "not selected" && tk.Cause != "not selected (unchanged since main)" {
			t.Errorf("task %s: cause %q", tk.Name, tk.Cause)
		}
	}
	return ran, outcomes
}

// TestChangedSince: each kind of change selects exactly the tasks whose
// inputs it touches and their dependents; the report says "not selected"
// for the rest.
func TestChangedSince(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(t *testing.T, top, root string)
		ran    []string // task bodies that run
	}{
		{"nothing", func(*testing.T, string, string) {}, nil},
		{"one file committed on the branch", func(t *testing.T, top, root string) {
			writeFile(t, filepath.Join(root, "src/b.c"), "b2\n")
			git(t, top, "commit", "-q", "-am", "b")
		}, []string{"b", "link"}},
		{"a deletion", func(t *testing.T, top, root string) {
			git(t, top, "rm", "-q", "proj/gen.txt")
		}, []string{"a", "gen", "link"}},
		{"a rename counts on both sides", func(t *testing.T, top, root string) {
			git(t, top, "mv", "proj/docs/guide.md", "proj/notes")
			git(t, top, "commit", "-q", "-m", "rename")
		}, []string{"docs", "notes"}},
		{"an untracked file", func(t *testing.T, top, root string) {
			writeFile(t, filepath.Join(root, "docs/new.md"), "n\n")
		}, []string{"docs"}},
		{"an ignored file does not count", func(t *testing.T, top, root string) {
			writeFile(t, filepath.Join(root, "src/x.o"), "o\n")
		}, nil},
		{"a change outside the project root does not count", func(t *testing.T, top, root string) {
			writeFile(t, filepath.Join(top, "README"), "changed\n")
			writeFile(t, filepath.Join(top, "gen.txt"), "same name as an input, one level up\n")
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			top, root := gitRepo(t)
			c.change(t, top, root)
			ran, outcomes := runChanged(t, root)
			if strings.Join(ran, " ") != strings.Join(c.ran, " ") {
				t.Errorf("ran %v, want %v", ran, c.ran)
			}
			selected := map[string]bool{}
			for _, n := range c.ran {
				selected[n] = true
			}
			for name, oc := range outcomes {
				want := "not selected"
				switch {
				case selected[name]:
					want = "succeeded"
				case name == "all" && len(c.ran) > 0:
					want = "succeeded" // the aggregate depends on what ran
				}
				if oc != want {
					t.Errorf("task %s: outcome %q, want %q", name, oc, want)
				}
			}
		})
	}
}

// TestChangedSincePlanAndErrors: -n and --explain say "not selected
// (unchanged since main)"; outside a work tree and with an unknown
// revision, hazlua stops before the script runs with exit status 2.
func TestChangedSincePlanAndErrors(t *testing.T) {
	top, root := gitRepo(t)
	writeFile(t, filepath.Join(root, "src/a.c"), "a2\n")
	git(t, top, "commit", "-q", "-am", "a")

	code, stdout, _ := runScript(t, root, runOpts{}, "-n", "--changed-since", "main", "link")
	if code != 0 {
		t.Fatalf("-n: exit status %d", code)
	}
	checkLinesMatch(t, stdout, []string{
		`1/4 gen: not selected \(unchanged since main\)`,
		`2/4 a: will run \(never ran\) after gen`,
		`3/4 b: not selected \(unchanged since main\)`,
		`4/4 link: will run \(no inputs declared\) after a, b`,
	})
	code, _, stderr := runScript(t, root, runOpts{}, "--explain", "--changed-since", "main", "link")
	if code != 0 {
		t.Fatalf("--explain: exit status %d", code)
	}
	checkHasLines(t, "stderr", stderr, []*regexp.Regexp{
		regexp.MustCompile(`^hazlua: explain: gen: not selected \(unchanged since main\)$`),
		regexp.MustCompile(`^hazlua: explain: b: not selected \(unchanged since main\)$`),
		regexp.MustCompile(`^hazlua: 2 succeeded, 2 not selected in `),
	}, nil)

	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "build.lua"), `haz.fs.write("top-level-ran", "")`+"\n"+changedScript)
	for _, c := range []struct {
		dir, rev, msg string
	}{
		{outside, "main", `--changed-since: .* is not in a git work tree \(not a git repository`},
		{root, "no-such-rev", `--changed-since: unknown revision "no-such-rev"`},
	} {
		code, _, stderr := runScript(t, c.dir, runOpts{}, "--changed-since", c.rev, "all")
		if code != 2 {
			t.Errorf("%s %s: exit status %d, want 2", c.dir, c.rev, code)
		}
		checkErrorLine(t, stderr, c.msg)
		if _, err := os.Stat(filepath.Join(c.dir, "top-level-ran")); err == nil {
			t.Errorf("%s %s: the script ran", c.dir, c.rev)
		}
	}
}
