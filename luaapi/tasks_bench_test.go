package luaapi

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Benchmarks of whole runs of generated task scripts, in process: the
// shapes of bench/'s tasks group (bench/taskinputs.go), at n tasks, as one
// declaration per line ("lines") or built in a Lua loop ("loop"). Each
// iteration is New + Run with -o raw -q and -j NumCPU, as the tasks group
// runs hazlua.
// BenchmarkCompileTaskScript is the floor of the lines form: gopher-lua's
// parse and compile of the same file, without running it.

// taskScript returns the script of a shape ("chain", "fanout", "body":
// fan-out with empty bodies) at n tasks, and the target to run.
func taskScript(shape, form string, n int) (script, target string) {
	var b strings.Builder
	body := ""
	if shape == "body" {
		body = "function() end"
	}
	opts := "{}"
	if body != "" {
		opts = "{run = " + body + "}"
	}
	switch {
	case shape == "chain" && form == "lines":
		b.WriteString("haz.task(\"t1\", {})\n")
		for i := 2; i <= n; i++ {
			fmt.Fprintf(&b, "haz.task(\"t%d\", {deps = {\"t%d\"}})\n", i, i-1)
		}
		return b.String(), fmt.Sprint("t", n)
	case shape == "chain":
		return fmt.Sprintf("haz.task(\"t1\", {})\nfor i = 2, %d do\n  haz.task(\"t\" .. i, {deps = {\"t\" .. (i - 1)}})\nend\n", n), fmt.Sprint("t", n)
	case form == "lines":
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "haz.task(\"t%d\", %s)\n", i, opts)
		}
		b.WriteString("haz.task(\"all\", {deps = {")
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "\"t%d\"", i)
		}
		b.WriteString("}})\n")
		return b.String(), "all"
	default:
		return fmt.Sprintf("local deps = {}\nfor i = 1, %d do\n  deps[i] = \"t\" .. i\n  haz.task(deps[i], %s)\nend\nhaz.task(\"all\", {deps = deps})\n", n, opts), "all"
	}
}

func writeTaskScript(b *testing.B, shape, form string, n int) (dir, target string) {
	b.Helper()
	dir = b.TempDir()
	text, target := taskScript(shape, form, n)
	if err := os.WriteFile(filepath.Join(dir, "build.lua"), []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir, target
}

func BenchmarkTaskScript(b *testing.B) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		b.Skip(err)
	}
	defer null.Close()
	b.Chdir(b.TempDir()) // New changes the working directory
	for _, n := range []int{10000} {
		for _, shape := range []string{"chain", "fanout", "body", "empty"} {
			for _, form := range []string{"lines", "loop"} {
				if shape == "empty" && form == "loop" {
					continue
				}
				b.Run(fmt.Sprintf("%s-%s-%d", shape, form, n), func(b *testing.B) {
					var dir, target string
					if shape == "empty" {
						dir = b.TempDir()
						os.WriteFile(filepath.Join(dir, "build.lua"), nil, 0o644)
					} else {
						dir, target = writeTaskScript(b, shape, form, n)
					}
					script := filepath.Join(dir, "build.lua")
					// As the command runs it: -j NumCPU, -o raw -q.
					cfg := Config{Script: script, InvocationDir: dir, Output: "raw", Quiet: true,
						Jobs: runtime.NumCPU(), Stdin: null, Stdout: null, Stderr: null}
					if target != "" {
						cfg.Tasks = []string{target}
					}
					for b.Loop() {
						rt, err := New(cfg)
						if err != nil {
							b.Fatal(err)
						}
						if err := rt.Run(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/task")
				})
			}
		}
	}
}

// BenchmarkCompileTaskScript is gopher-lua's parse and compile of the lines
// form alone: the floor of what running it costs.
func BenchmarkCompileTaskScript(b *testing.B) {
	for _, shape := range []string{"chain", "fanout", "body"} {
		b.Run(shape, func(b *testing.B) {
			text, _ := taskScript(shape, "lines", 10000)
			for b.Loop() {
				chunk, err := parse.Parse(strings.NewReader(text), "build.lua")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := lua.Compile(chunk, "build.lua"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
