package e2e

// Watch mode (hazlua -w, docs/api.md "Watch mode"): real files edited,
// renamed over and created, real processes cancelled, and nothing left
// after Ctrl-C. The tests synchronise on the line hazlua prints each time
// it is idle and watching, on the files the tasks make, and on FIFOs:
// never on sleeps.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// watchingRe matches the line hazlua prints when it waits for changes.
var watchingRe = regexp.MustCompile(`^hazlua: watching \d+ director(y|ies) for changes`)

// waitNth waits until n lines of l match re, and returns the lines after
// the (n-1)-th match up to the n-th one, that one included.
func waitNth(t *testing.T, l *lineLog, what string, re *regexp.Regexp, n int) []string {
	t.Helper()
	timeout := time.After(deadline)
	for {
		l.mu.Lock()
		lines, eof, grew := append([]string(nil), l.lines...), l.eof, l.grew
		l.mu.Unlock()
		seen, from := 0, 0
		for i, line := range lines {
			if re.MatchString(line) {
				seen++
				if seen == n {
					return lines[from : i+1]
				}
				from = i + 1
			}
		}
		if eof {
			t.Fatalf("%s ended with %d lines matching %q, want %d; it had:\n%s", what, seen, re, n, tail(l.String(), 40))
		}
		select {
		case <-grew:
		case <-timeout:
			t.Fatalf("%s: %d lines matching %q after %s, want %d; it had:\n%s", what, seen, re, deadline, n, tail(l.String(), 40))
		}
	}
}

// ranTasks returns the tasks that said "ran" in lines ("[a] ran a"), sorted.
func ranTasks(lines []string) []string {
	var out []string
	re := regexp.MustCompile(`^\[[^]]+\] ran (\S+)$`)
	for _, l := range lines {
		if m := re.FindStringSubmatch(l); m != nil {
			out = append(out, m[1])
		}
	}
	slices.Sort(out)
	return out
}

// saveByRename writes path as editors do: a temporary file renamed over it.
func saveByRename(t *testing.T, path, data string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".swp")
	writeFile(t, tmp, data)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// checkRerunLine fails unless lines has the rerun line want.
func checkRerunLine(t *testing.T, lines []string, want string) {
	t.Helper()
	if !slices.Contains(lines, want) {
		t.Errorf("no line %q in:\n%s", want, strings.Join(lines, "\n"))
	}
}

// buildGraph is a small graph: a and b copy their input to out/, link
// depends on both; other is unrelated. Every body says "ran NAME" on
// stderr.
const buildGraph = `
local function copy(name)
  return function(t)
    t:log("ran " .. name)
    haz.sh("mkdir -p out && cat " .. t.inputs[1] .. " > out/" .. name)
  end
end
haz.task("a", {inputs = {"src/a.txt"}, outputs = {"out/a"}, run = copy("a")})
haz.task("b", {inputs = {"src/b.txt"}, outputs = {"out/b"}, run = copy("b")})
haz.task("link", {deps = {"a", "b"}, inputs = {}, outputs = {"out/app"}, run = function(t)
  t:log("ran link")
  haz.sh("cat out/a out/b > out/app")
end})
haz.task("other", {inputs = {"doc/*.md"}, run = function(t) t:log("ran other") end})
haz.task("all", {deps = {"link", "other"}})
`

// An edit to one input reruns exactly the tasks that depend on it; the
// build's own writes to its outputs rerun nothing; a save by rename and a
// new file in a new directory are seen.
func TestWatchRerunsDependents(t *testing.T) {
	dir := writeScript(t, buildGraph)
	writeFile(t, filepath.Join(dir, "src/a.txt"), "a1\n")
	writeFile(t, filepath.Join(dir, "src/b.txt"), "b1\n")
	writeFile(t, filepath.Join(dir, "doc/x.md"), "x\n")
	r := startHazlua(t, dir, nil, runOpts{}, "-w", "--watch-delay", "20ms", "all")

	first := waitNth(t, r.stderr, "stderr", watchingRe, 1)
	if got, want := ranTasks(first), []string{"a", "b", "link", "other"}; !slices.Equal(got, want) {
		t.Fatalf("first run ran %v, want %v:\n%s", got, want, strings.Join(first, "\n"))
	}

	writeFile(t, filepath.Join(dir, "src/a.txt"), "a2\n")
	lines := waitNth(t, r.stderr, "stderr", watchingRe, 2)
	checkRerunLine(t, lines, "hazlua: src/a.txt changed; rerunning a, link")
	if got, want := ranTasks(lines), []string{"a", "link"}; !slices.Equal(got, want) {
		t.Errorf("after editing src/a.txt, ran %v, want %v:\n%s", got, want, strings.Join(lines, "\n"))
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "out/app")); string(data) != "a2\nb1\n" {
		t.Errorf("out/app = %q after the rerun", data)
	}

	// The rerun wrote out/a and out/app: those writes rerun nothing (the
	// next rerun is for the input edited now, and reruns only what depends
	// on it). An editor's save by rename is seen.
	saveByRename(t, filepath.Join(dir, "src/b.txt"), "b2\n")
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 3)
	checkRerunLine(t, lines, "hazlua: src/b.txt changed; rerunning b, link")
	if got, want := ranTasks(lines), []string{"b", "link"}; !slices.Equal(got, want) {
		t.Errorf("after saving src/b.txt by rename, ran %v, want %v:\n%s", got, want, strings.Join(lines, "\n"))
	}

	// A new directory, and a new file in it that the glob matches.
	writeFile(t, filepath.Join(dir, "doc/new/deeper/y.md"), "y\n")
	writeFile(t, filepath.Join(dir, "doc/z.md"), "z\n")
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 4)
	checkRerunLine(t, lines, "hazlua: doc/z.md changed; rerunning other")
	if got, want := ranTasks(lines), []string{"other"}; !slices.Equal(got, want) {
		t.Errorf("after adding doc/z.md, ran %v, want %v:\n%s", got, want, strings.Join(lines, "\n"))
	}

	// A write to an output (here by the test, as a task would) is no
	// change: the next rerun is for the input edited after it. (link then
	// runs too: the up-to-date check finds its output changed.)
	writeFile(t, filepath.Join(dir, "out/app"), "scribble\n")
	writeFile(t, filepath.Join(dir, "doc/x.md"), "x2\n")
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 5)
	checkRerunLine(t, lines, "hazlua: doc/x.md changed; rerunning other")

	r.signal(t, syscall.SIGINT)
	finish(t, r, nil, 130, deadline)
}

// A new directory under a deep glob's base is watched as soon as it
// appears, with the files written into it before the watch began.
func TestWatchNewDirectory(t *testing.T) {
	dir := writeScript(t, `
haz.task("c", {inputs = {"src/**/*.c"}, run = function(t) t:log("ran c " .. #t.inputs) end})
`)
	writeFile(t, filepath.Join(dir, "src/a.c"), "a\n")
	r := startHazlua(t, dir, nil, runOpts{}, "-w", "--watch-delay", "20ms", "c")
	waitNth(t, r.stderr, "stderr", watchingRe, 1)
	writeFile(t, filepath.Join(dir, "src/sub/dir/b.c"), "b\n")
	lines := waitNth(t, r.stderr, "stderr", watchingRe, 2)
	checkRerunLine(t, lines, "hazlua: src/sub/dir/b.c changed; rerunning c")
	checkRerunLine(t, lines, "[c] ran c 2")
	// The new directory is watched now: a second file in it counts.
	writeFile(t, filepath.Join(dir, "src/sub/dir/d.c"), "d\n")
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 3)
	checkRerunLine(t, lines, "[c] ran c 3")
	// A file that the glob does not match reruns nothing: the next rerun
	// is for the .c file written after it.
	writeFile(t, filepath.Join(dir, "src/sub/notes.txt"), "n\n")
	if err := os.Remove(filepath.Join(dir, "src/a.c")); err != nil {
		t.Fatal(err)
	}
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 4)
	checkRerunLine(t, lines, "hazlua: src/a.c changed; rerunning c")
	checkRerunLine(t, lines, "[c] ran c 2")
	r.signal(t, syscall.SIGINT)
	finish(t, r, nil, 130, deadline)
}

// An edit while a task runs cancels that task (SIGTERM to its group) and
// reruns it; a task the edit does not affect keeps running and succeeds.
// Ctrl-C then leaves nothing behind and exits 130.
func TestWatchCancelsOutOfDateTask(t *testing.T) {
	h := newHolders(t)
	marks := t.TempDir()
	fifo := mkfifo(t, marks, "steady.fifo")
	dir := writeScript(t, fmt.Sprintf(`
MARKS = %q
haz.task("slow", {inputs = {"src/slow.txt"}, run = function(t)
  t:log("ran slow")
  haz.run{"sh", "-c", HOLD .. [[trap 'echo > "$1/term.$$"; exit 143' TERM; sleep 1000 & echo > "$1/slow.$$"; wait]], "slow", MARKS}
end})
haz.task("steady", {inputs = {"src/steady.txt"}, run = function(t)
  t:log("ran steady")
  haz.run{"sh", "-c", HOLD .. 'echo > "$1/steady.$$"; read x < "$1/steady.fifo"; echo "steady got $x"', "steady", MARKS}
end})
haz.task("all", {deps = {"slow", "steady"}})
`, marks))
	writeFile(t, filepath.Join(dir, "src/slow.txt"), "1\n")
	writeFile(t, filepath.Join(dir, "src/steady.txt"), "1\n")
	w := watchDir(t, marks)
	r := startHazlua(t, dir, h, runOpts{}, "-w", "--watch-delay", "20ms", "all")
	isSlow := func(n string) bool { return strings.HasPrefix(n, "slow.") }
	firstSlow := w.waitName(t, "slow's first start", isSlow)
	w.waitName(t, "steady's start", func(n string) bool { return strings.HasPrefix(n, "steady.") })

	// Both run. The edit makes slow out of date, not steady.
	writeFile(t, filepath.Join(dir, "src/slow.txt"), "2\n")
	// The run ends only once slow is cancelled and steady has finished:
	// steady finishes when the test lets it.
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^hazlua: src/slow.txt changed; cancelling slow$`))
	f := openFIFOWriter(t, fifo, r)
	f.WriteString("go\n")
	f.Close()
	// The cancellation is SIGTERM to slow's process group (its shell
	// says so), then a new start.
	w.waitName(t, "SIGTERM to slow's first shell", func(n string) bool { return n == "term."+strings.TrimPrefix(firstSlow, "slow.") })
	w.waitName(t, "slow's second start", func(n string) bool { return isSlow(n) && n != firstSlow })
	r.stdout.waitFor(t, "stdout", regexp.MustCompile(`^\[steady\] steady got go$`))
	lines := r.stderr.all()
	checkHasLines(t, "stderr", lines, []*regexp.Regexp{
		regexp.MustCompile(`slow.*cancelled \(src/slow.txt changed\)`),
		regexp.MustCompile(`^hazlua: src/slow.txt changed; rerunning slow$`),
	}, []*regexp.Regexp{regexp.MustCompile(`steady.*(cancelled|interrupted|failed)`)})
	if n := strings.Count(strings.Join(lines, "\n"), "[steady] ran steady"); n != 1 {
		t.Errorf("steady ran %d times, want 1:\n%s", n, strings.Join(lines, "\n"))
	}
	r.signal(t, syscall.SIGINT)
	finish(t, r, h, 130, deadline)
}

// A change to the script, or to a file it requires, loads it again; a
// script with an error says where and keeps watching until it is fixed.
func TestWatchScriptReload(t *testing.T) {
	dir := writeRawScript(t, []byte(`require("lib")
haz.task("t", {inputs = {"in.txt"}, run = function(t) t:log("ran t " .. VERSION) end})
`))
	writeFile(t, filepath.Join(dir, "lib.lua"), `VERSION = "v1"`+"\n")
	writeFile(t, filepath.Join(dir, "in.txt"), "1\n")
	r := startHazlua(t, dir, nil, runOpts{}, "-w", "--watch-delay", "20ms", "t")
	lines := waitNth(t, r.stderr, "stderr", watchingRe, 1)
	checkRerunLine(t, lines, "[t] ran t v1")

	// The required file changes: the script is loaded again. The task's
	// definition has not changed, nor its inputs: it is up to date.
	saveByRename(t, filepath.Join(dir, "lib.lua"), `VERSION = "v2"`+"\n")
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 2)
	checkRerunLine(t, lines, "hazlua: lib.lua changed; loading the script again")

	// A broken script: the error with its line, and the watch goes on.
	saveByRename(t, filepath.Join(dir, "build.lua"), "require(\"lib\")\nhaz.task(\"t\", {inputs = \n")
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^hazlua: build\.lua:\d+: .*`))
	r.stderr.waitFor(t, "stderr", regexp.MustCompile(`^hazlua: the script has an error; watching build\.lua, lib\.lua for changes`))

	// Fixed: it runs again, with the new body.
	saveByRename(t, filepath.Join(dir, "build.lua"), `require("lib")
haz.task("t", {inputs = {"in.txt"}, run = function(t) t:log("ran t again " .. VERSION) end})
`)
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 3)
	checkRerunLine(t, lines, "hazlua: build.lua changed; loading the script again")
	checkRerunLine(t, lines, "[t] ran t again v2")
	r.signal(t, syscall.SIGINT)
	finish(t, r, nil, 130, deadline)
}

// A service is started, left running while other tasks rerun, and
// restarted when its own inputs change; Ctrl-C stops it.
func TestWatchService(t *testing.T) {
	h := newHolders(t)
	marks := t.TempDir()
	dir := writeScript(t, fmt.Sprintf(`
MARKS = %q
haz.task("build", {inputs = {"src.txt"}, outputs = {"site.txt"}, run = function(t)
  t:log("ran build")
  haz.sh("cp src.txt site.txt")
end})
haz.task("serve", {service = true, deps = {"build"}, inputs = {"server.conf"}, run = function(t)
  t:log("ran serve")
  haz.run{"sh", "-c", HOLD .. 'echo > "$1/serve.$$"; exec sleep 1000', "serve", MARKS}
end})
`, marks))
	writeFile(t, filepath.Join(dir, "src.txt"), "1\n")
	writeFile(t, filepath.Join(dir, "server.conf"), "1\n")
	w := watchDir(t, marks)
	r := startHazlua(t, dir, h, runOpts{}, "-w", "--watch-delay", "20ms", "serve")
	isServe := func(n string) bool { return strings.HasPrefix(n, "serve.") }
	first := w.waitName(t, "the service's start", isServe)
	waitNth(t, r.stderr, "stderr", watchingRe, 1)

	writeFile(t, filepath.Join(dir, "src.txt"), "2\n")
	lines := waitNth(t, r.stderr, "stderr", watchingRe, 2)
	checkRerunLine(t, lines, "hazlua: src.txt changed; rerunning build")
	if got, want := ranTasks(lines), []string{"build"}; !slices.Equal(got, want) {
		t.Errorf("after editing src.txt, ran %v, want %v (the service keeps running):\n%s", got, want, strings.Join(lines, "\n"))
	}
	if n := len(slices.DeleteFunc(dirNames(marks), func(n string) bool { return !isServe(n) })); n != 1 {
		t.Errorf("the service started %d times, want 1", n)
	}

	writeFile(t, filepath.Join(dir, "server.conf"), "2\n")
	w.waitName(t, "the service's restart", func(n string) bool { return isServe(n) && n != first })
	lines = waitNth(t, r.stderr, "stderr", watchingRe, 3)
	checkRerunLine(t, lines, "hazlua: server.conf changed; rerunning serve")
	r.signal(t, syscall.SIGINT)
	finish(t, r, h, 130, deadline)
}

// Reaching the inotify limit stops hazlua with a message that names the
// sysctl. The limit is lowered in a user namespace of the test's own
// (user.max_inotify_watches), so nothing else on the machine is affected.
func TestWatchInotifyLimit(t *testing.T) {
	if err := exec.Command("unshare", "-U", "-r", "sh", "-c", "echo 3 > /proc/sys/user/max_inotify_watches").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("unshare -U -r cannot lower user.max_inotify_watches: %v", err)
		}
		t.Skipf("unshare -U -r cannot lower user.max_inotify_watches: %v", err)
	}
	dir := writeScript(t, `haz.task("c", {inputs = {"src/**/*.c"}, run = function() end})`+"\n")
	for _, d := range []string{"a", "b", "c", "d", "e"} {
		writeFile(t, filepath.Join(dir, "src", d, "x.c"), "x\n")
	}
	r := startHazlua(t, dir, nil, runOpts{wrap: []string{"unshare", "-U", "-r", "sh", "-c", `echo 3 > /proc/sys/user/max_inotify_watches && exec "$0" "$@"`}},
		"-w", "c")
	lines := finish(t, r, nil, 1, deadline)
	checkHasLines(t, "stderr", lines, []*regexp.Regexp{
		regexp.MustCompile(`^hazlua: cannot watch src/\S+: the inotify limit fs\.inotify\.max_user_watches = 3 \(user\.max_inotify_watches, in this user namespace\) is reached \(no space left on device\); raise it \(sudo sysctl fs\.inotify\.max_user_watches=524288\) or watch fewer directories$`),
	}, nil)
}
