package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The jobserver tests (docs/api.md, "The GNU make jobserver") run GNU make
// (4.3 on the CI machines) from tasks. Concurrency is observed, not timed:
// every recipe appends "+ NAME" to a log when it starts and "- NAME" when
// it ends (appends of a few bytes are atomic), and the test replays the
// log to find the most recipes that ran at once.

// needMake fails in CI (.ci/run installs make) and skips elsewhere when
// GNU make is missing.
func needMake(t *testing.T) {
	t.Helper()
	out, err := exec.Command("make", "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "GNU Make") {
		if os.Getenv("CI") == "true" {
			t.Fatal("GNU make is not installed (.ci/run installs it)")
		}
		t.Skip("GNU make is not installed")
	}
}

// slowMakefile has 8 recipes of its own and a recursive make ($(MAKE),
// which shares the jobserver) of 4 more, each logged.
const slowMakefile = `
T := $(addprefix $(P),1 2 3 4 5 6 7 8)
all: $(T) sub
$(T):
	@echo "+ $@" >> log; sleep 0.05; echo "- $@" >> log
sub:
	@$(MAKE) -s -f Sub.mk P=$(P)sub
`

const subMakefile = `
T := $(addprefix $(P),1 2 3 4)
all: $(T)
$(T):
	@echo "+ $@" >> log; sleep 0.05; echo "- $@" >> log
`

// maxConcurrent replays the log: the most recipes running at once, and
// how many started.
func maxConcurrent(t *testing.T, log string) (most, started int) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	running := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		switch {
		case strings.HasPrefix(line, "+ "):
			running++
			started++
			most = max(most, running)
		case strings.HasPrefix(line, "- "):
			running--
		default:
			t.Fatalf("log line %q", line)
		}
	}
	return most, started
}

// TestJobserverCapsNestedMake: under -j N, tasks that run make (plain
// make: -j comes in MAKEFLAGS) never run more than N recipes at once in
// all, each make's own process holding one of hazlua's job slots and its
// other jobs tokens from the same pool; recursive makes share it too.
// -v shows the jobserver in the spawn echo.
func TestJobserverCapsNestedMake(t *testing.T) {
	needMake(t)
	dir := writeScript(t, `
haz.task("m1", function() haz.run{"make", "-s", "-f", "Slow.mk", "P=a"} end)
haz.task("m2", function() haz.run{"make", "-s", "-f", "Slow.mk", "P=b"} end)
haz.task("both", {deps = {"m1", "m2"}})
haz.task("one", function() haz.run{"make", "-s", "-f", "Slow.mk", "P=c"} end)
haz.task("off", function() haz.run{"make", "-s", "-f", "Slow.mk", "P=d", jobserver = false} end)
`)
	for name, data := range map[string]string{"Slow.mk": slowMakefile, "Sub.mk": subMakefile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(dir, "log")
	for _, c := range []struct {
		jobs, task      string
		most, recipes   int
		exactly         bool // most must be reached (a lone make with enough work)
		echoesJobserver bool
	}{
		{"2", "both", 2, 24, false, true},
		{"3", "one", 3, 12, false, true},
		{"1", "one", 1, 12, true, true},
		{"3", "off", 1, 12, true, false}, // no jobserver: a plain make runs one recipe at a time
	} {
		os.Remove(log)
		code, _, stderr := runScript(t, dir, runOpts{}, "-v", "-j", c.jobs, c.task)
		if code != 0 {
			t.Fatalf("-j%s %s: exit status %d:\n%s", c.jobs, c.task, code, strings.Join(stderr, "\n"))
		}
		most, started := maxConcurrent(t, log)
		if started != c.recipes {
			t.Errorf("-j%s %s: %d recipes started, want %d", c.jobs, c.task, started, c.recipes)
		}
		if most > c.most || c.exactly && most != c.most {
			t.Errorf("-j%s %s: %d recipes ran at once, want at most %d", c.jobs, c.task, most, c.most)
		}
		echo := regexp.MustCompile(`^hazlua: spawn: make -s -f Slow\.mk P=\w \(jobserver -j` + c.jobs + ` --jobserver-auth=3,4\)$`)
		if hasLine(stderr, echo) != c.echoesJobserver {
			t.Errorf("-j%s %s: a spawn echo matching %q: %v, want %v:\n%s", c.jobs, c.task, echo, !c.echoesJobserver, c.echoesJobserver, strings.Join(stderr, "\n"))
		}
	}
}

// TestJobserverRestoresTokensOfKilledMake: a make killed (SIGKILL) while
// it holds a token never writes it back; hazlua restores it when make's
// process group is empty, so a second make under -j2 still runs two
// recipes at once. The two recipes of the second make wait for each
// other (up to 10 s, a failure bound): with a token missing they could
// not meet.
func TestJobserverRestoresTokensOfKilledMake(t *testing.T) {
	needMake(t)
	dir := writeScript(t, `
haz.task("kill", function()
  local r = haz.run{"make", "-s", "-f", "Kill.mk", check = false}
  print("make ended by", r.signal)
end)
haz.task("meet", {deps = {"kill"}, run = function() haz.run{"make", "-s", "-f", "Meet.mk"} end})
`)
	files := map[string]string{
		// a starts once b runs (so make took a token for it), then
		// kills make; the recipes are terminated with make's group.
		"Kill.mk": "all: a b\na:\n\t@touch a.started; while [ ! -e b.started ]; do sleep 0.01; done; kill -KILL $$PPID; sleep 100\n" +
			"b:\n\t@touch b.started; sleep 100\n",
		"Meet.mk": "all: x y\n" + meetRecipe("x", "y") + meetRecipe("y", "x"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runScript(t, dir, runOpts{}, "-j2", "--grace", "1s", "meet")
	if code != 0 {
		t.Fatalf("exit status %d:\nstdout:\n%s\nstderr:\n%s", code, strings.Join(stdout, "\n"), strings.Join(stderr, "\n"))
	}
	checkHasLines(t, "stdout", stdout, []*regexp.Regexp{
		regexp.MustCompile(`^\[kill\] make ended by\s+kill$`),
		regexp.MustCompile(`^\[meet\] x met y$`),
		regexp.MustCompile(`^\[meet\] y met x$`),
	}, nil)
}

// meetRecipe is a make rule for me that waits (up to 10 s) until peer
// has started too.
func meetRecipe(me, peer string) string {
	return me + ":\n\t@touch " + me + ".started; i=0; while [ ! -e " + peer + ".started ]; do " +
		"i=$$((i+1)); if [ $$i -gt 1000 ]; then echo " + me + " alone; exit 1; fi; sleep 0.01; done; echo " + me + " met " + peer + "\n"
}
