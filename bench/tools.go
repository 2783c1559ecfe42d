package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// toolSet says which external programs are usable and their versions.
type toolSet struct {
	lua       string // path of lua5.4, "" if missing
	hyperfine string // path of hyperfine, "" if missing
	versions  map[string]string
}

// aptPackages maps each program the benchmarks need to its Debian package.
var aptPackages = []struct{ program, pkg string }{
	{"lua5.4", "lua5.4"},
	{"hyperfine", "hyperfine"},
}

// ensureTools installs lua5.4 and hyperfine with apt-get when they are not on
// PATH, saying what it does. A failed install is reported and the run goes
// on: missing lua5.4 turns its variants into errors, missing hyperfine makes
// the startup benchmark time the runs itself.
func ensureTools() toolSet {
	var missing []string
	for _, t := range aptPackages {
		if _, err := exec.LookPath(t.program); err != nil {
			missing = append(missing, t.pkg)
		}
	}
	if len(missing) > 0 {
		if os.Geteuid() != 0 {
			fmt.Fprintf(os.Stderr, "bench: missing %s and not root; install with: sudo apt-get install -y %s\n",
				strings.Join(missing, ", "), strings.Join(missing, " "))
		} else {
			install(missing)
		}
	}
	ts := toolSet{versions: map[string]string{}}
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
