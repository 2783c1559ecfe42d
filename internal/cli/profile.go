//go:build hazluaprof

package cli

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// In a hazlua built with `-tags hazluaprof` (runtime/pprof costs every run
// of the others some 30 µs of package initialisation), environment
// variables make hazlua write Go profiles of its own run, for the
// performance work of docs/BENCHMARKS.md ("Profiling"):
// HAZLUA_CPUPROFILE=FILE writes a CPU profile of the whole run,
// HAZLUA_MEMPROFILE=FILE an allocation profile at its end. Both are read
// with `go tool pprof`. They are for developers, not part of the command
// line.
const (
	cpuProfileEnv = "HAZLUA_CPUPROFILE"
	memProfileEnv = "HAZLUA_MEMPROFILE"
)

// startProfiles starts what the profiling variables ask for and returns
// the function that writes the profiles out. A profile that cannot be
// written is reported on stderr and does not change the run.
func startProfiles(stderr io.Writer) (stop func()) {
	cpu, mem := os.Getenv(cpuProfileEnv), os.Getenv(memProfileEnv)
	if cpu == "" && mem == "" {
		return func() {}
	}
	var cpuFile *os.File
	if cpu != "" {
		f, err := os.Create(cpu)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "hazlua: %s: %v\n", cpuProfileEnv, err)
		} else {
			cpuFile = f
		}
	}
	if mem != "" {
		runtime.MemProfileRate = 4096
	}
	return func() {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			cpuFile.Close()
		}
		if mem != "" {
			f, err := os.Create(mem)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			if err != nil {
				fmt.Fprintf(stderr, "hazlua: %s: %v\n", memProfileEnv, err)
			}
		}
	}
}
