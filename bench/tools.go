package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
)

// toolSet says which external programs are usable and their versions.
type toolSet struct {
	lua       string // path of lua5.4, "" if missing
	hyperfine string // path of hyperfine, "" if missing
	ninja     string // tasks and cache groups: path of ninja, "" if missing
	make      string // tasks group: path of GNU make, "" if missing
	gotask    string // tasks and cache groups: path of go-task (goTaskVersion), "" if missing
	cc        string // cache group: path of cc, "" if missing
	prlimit   string // scaling group: path of prlimit (util-linux), "" if missing
	versions  map[string]string
}

type aptPackage struct{ program, pkg string }

// aptPackages maps each program a group needs to its Debian package.
var aptPackages = map[string][]aptPackage{
	"core":    {{"lua5.4", "lua5.4"}, {"hyperfine", "hyperfine"}},
	"tasks":   {{"ninja", "ninja-build"}, {"make", "make"}},
	"cache":   {{"ninja", "ninja-build"}, {"cc", "gcc"}, {"nginx", "nginx-light"}},
	"scaling": {{"ninja", "ninja-build"}},
}

// ensureTools installs what the selected groups need when it is missing,
// saying what it does: lua5.4 and hyperfine (core), ninja and make (tasks),
// ninja, cc and nginx (cache), ninja (scaling) with apt-get, go-task with go
// install (tasks, cache). A failed install is
// reported and the run goes on: a missing program turns its variants into
// errors, missing hyperfine makes the startup benchmark time the runs
// itself.
func ensureTools(core, tasks, cache, scaling bool) toolSet {
	var missing []string
	for group, on := range map[string]bool{"core": core, "tasks": tasks, "cache": cache, "scaling": scaling} {
		if !on {
			continue
		}
		for _, t := range aptPackages[group] {
			if _, err := exec.LookPath(t.program); err != nil {
				missing = append(missing, t.pkg)
			}
		}
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	if len(missing) > 0 {
		if os.Geteuid() != 0 {
			fmt.Fprintf(os.Stderr, "bench: missing %s and not root; install with: sudo apt-get install -y %s\n",
				strings.Join(missing, ", "), strings.Join(missing, " "))
		} else {
			install(missing)
		}
	}
	ts := toolSet{versions: map[string]string{}}
	if core {
		ts.lua, _ = exec.LookPath("lua5.4")
		ts.hyperfine, _ = exec.LookPath("hyperfine")
		if ts.lua != "" {
			ts.versions["lua5.4"] = firstLine(commandOutput(ts.lua, "-v"))
		}
		if ts.hyperfine != "" {
			ts.versions["hyperfine"] = firstLine(commandOutput(ts.hyperfine, "--version"))
		} else {
			fmt.Fprintln(os.Stderr, "bench: hyperfine unavailable; startup is timed by the harness itself")
		}
		ts.versions["bash"] = firstLine(commandOutput("bash", "--version"))
	}
	if tasks || cache || scaling {
		ts.ninja, _ = exec.LookPath("ninja")
		if ts.ninja != "" {
			ts.versions["ninja"] = firstLine(commandOutput(ts.ninja, "--version"))
		}
	}
	if scaling {
		ts.prlimit, _ = exec.LookPath("prlimit")
	}
	if tasks || cache {
		ts.gotask = ensureGoTask()
		if ts.gotask != "" {
			ts.versions["go-task"] = firstLine(commandOutput(ts.gotask, "--version")) + " (" + ts.gotask + ")"
		}
	}
	if tasks {
		ts.make, _ = exec.LookPath("make")
		if ts.make != "" {
			ts.versions["make"] = firstLine(commandOutput(ts.make, "--version"))
		}
	}
	if cache {
		ts.cc, _ = exec.LookPath("cc")
		if ts.cc != "" {
			ts.versions["cc"] = firstLine(commandOutput(ts.cc, "--version"))
		}
		ts.versions["cp"] = firstLine(commandOutput("cp", "--version"))
	}
	return ts
}

func install(pkgs []string) {
	steps := [][]string{
		{"apt-get", "update"},
		append([]string{"apt-get", "install", "-y", "--no-install-recommends"}, pkgs...),
	}
	for _, argv := range steps {
		fmt.Fprintf(os.Stderr, "bench: running: %s\n", strings.Join(argv, " "))
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout = os.Stderr
		cmd.Stderr = os.Stderr
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s failed: %v\n", argv[0], err)
			return
		}
	}
}

// commandOutput returns stdout and stderr of a short command, or "".
func commandOutput(name string, args ...string) string {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return ""
	}
	return strings.TrimSpace(string(out))
}
