package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machine describes where the benchmarks ran.
type machine struct {
	nproc    int
	model    string
	kernel   string
	goVer    string
	date     string
	versions map[string]string
}

func machineInfo(tools toolSet) machine {
	m := machine{
		nproc:    runtime.NumCPU(),
		model:    cpuModel(),
		kernel:   strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		goVer:    runtime.Version(),
		date:     time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		versions: tools.versions,
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.goVer = strings.TrimSpace(string(out))
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if name, value, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(name) == "model name" {
			return strings.TrimSpace(value)
		}
	}
	return "unknown"
}

func readFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return string(data)
}
