// Package report writes what hazlua tells machines (docs/formats.md): the
// task list of --list --json, the run report of --report FILE, and the
// task graph of --graph (Graphviz DOT). It reads the runner's declarations
// and outcomes; it knows nothing of Lua.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hazlua/hazlua/runner"
)

// Version is the version of the JSON documents' schema: a change that
// removes or redefines a field bumps it.
const Version = 1

// Listing is the document of --list --json.
type Listing struct {
	Version int    `json:"version"`
	Script  string `json:"script"` // the script's path, relative to where hazlua was started when it can be
	Tasks   []Task `json:"tasks"`  // in declaration order
}

// Task is one declared task.
type Task struct {
	Name     string   `json:"name"`
	Desc     string   `json:"desc"`
	Deps     []string `json:"deps"`
	Inputs   []string `json:"inputs"` // null: no inputs key (the task always runs)
	Outputs  []string `json:"outputs"`
	Tags     []string `json:"tags"`
	Mutex    *Mutex   `json:"mutex"` // null: none
	Params   []Param  `json:"params"`
	Always   bool     `json:"always"`
	Service  bool     `json:"service"`
	Body     bool     `json:"body"`     // false: an aggregate (dependencies only)
	Declared string   `json:"declared"` // "build.lua:12"
}

// Mutex is a task's mutex.
type Mutex struct {
	Name   string `json:"name"`
	Shared bool   `json:"shared"`
}

// Param is a task's parameter.
type Param struct {
	Name     string  `json:"name"`
	Desc     string  `json:"desc"`
	Default  *string `json:"default"` // null: required
	Required bool    `json:"required"`
}

// orEmpty makes a nil list encode as [].
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// NewListing describes tasks (in declaration order) for --list --json.
func NewListing(script string, tasks []*runner.Task) *Listing {
	l := &Listing{Version: Version, Script: script, Tasks: make([]Task, 0, len(tasks))}
	for _, t := range tasks {
		x := Task{Name: t.Name, Desc: t.Desc, Deps: orEmpty(t.Deps), Inputs: t.Inputs, Outputs: orEmpty(t.Outputs),
			Tags: orEmpty(t.Tags), Params: []Param{}, Always: t.Always, Service: t.Service, Body: t.Run != nil, Declared: t.Pos}
		if t.Mutex != "" {
			x.Mutex = &Mutex{Name: t.Mutex, Shared: t.MutexShared}
		}
		for _, p := range t.Params {
			jp := Param{Name: p.Name, Desc: p.Desc, Required: p.Required}
			if !p.Required {
				jp.Default = &p.Default
			}
			x.Params = append(x.Params, jp)
		}
		l.Tasks = append(l.Tasks, x)
	}
	return l
}

// Run is the document of --report FILE: how each planned task ended, and
// the run's totals and status. It is written also when the run fails or
// is stopped by a signal.
type Run struct {
	Version     int            `json:"version"`
	Script      string         `json:"script"`
	Targets     []string       `json:"targets"`
	Started     time.Time      `json:"started"`
	Elapsed     float64        `json:"elapsed"` // seconds, the whole run (script included)
	ExitStatus  int            `json:"exit_status"`
	OK          bool           `json:"ok"`
	Interrupted bool           `json:"interrupted"`     // stopped by a signal (or os.exit) before every task ended
	Error       string         `json:"error,omitempty"` // the run's error line, without the program's name
	Totals      map[string]int `json:"totals"`          // outcome → number of tasks, every outcome listed
	Tasks       []Outcome      `json:"tasks"`           // in plan order
}

// Outcome is how one planned task ended.
type Outcome struct {
	Name     string     `json:"name"`
	Outcome  string     `json:"outcome"` // succeeded, up to date, cached, failed, timed out, interrupted, cancelled, not run, not selected
	Cause    string     `json:"cause"`   // the full cause: "not run (dependency gen failed)", "not selected (unchanged since main)"
	Root     string     `json:"root,omitempty"`
	Reason   string     `json:"reason,omitempty"`  // why it ran or was restored ("input src/a.c changed")
	Started  *time.Time `json:"started,omitempty"` // absent: it did not start
	Duration float64    `json:"duration"`          // seconds
	Declared string     `json:"declared"`          // "build.lua:12"
	FailedAt string     `json:"failed_at,omitempty"`
	Error    string     `json:"error,omitempty"`
}

// statuses lists every outcome, for Totals.
var statuses = []runner.Status{runner.Succeeded, runner.UpToDate, runner.Cached, runner.Failed, runner.TimedOut,
	runner.Interrupted, runner.Cancelled, runner.NotRun, runner.NotSelected}

// NewRun describes a run. r is nil when no task ran (the script failed or
// was stopped first, or there was no task to run).
func NewRun(script string, targets []string, started time.Time, elapsed time.Duration, status int, errLine string, r *runner.Report) *Run {
	out := &Run{Version: Version, Script: script, Targets: orEmpty(targets), Started: started.UTC(),
		Elapsed: elapsed.Seconds(), ExitStatus: status, OK: status == 0, Error: errLine,
		Totals: map[string]int{}, Tasks: []Outcome{}}
	for _, s := range statuses {
		out.Totals[s.String()] = 0
	}
	if r == nil {
		return out
	}
	out.Interrupted = r.Interrupted
	for i := range r.Outcomes {
		oc := &r.Outcomes[i]
		o := Outcome{Name: oc.Task.Name, Outcome: oc.Status.String(), Cause: oc.Cause, Root: oc.Root, Reason: oc.Reason,
			Duration: oc.Duration.Seconds(), Declared: oc.Task.Pos}
		if !oc.Start.IsZero() {
			s := oc.Start.UTC()
			o.Started = &s
		}
		if oc.Err != nil {
			o.Error = oc.Err.Error()
			o.FailedAt = failedAt(oc.Err)
		}
		out.Totals[o.Outcome]++
		out.Tasks = append(out.Tasks, o)
	}
	return out
}

// failedAt returns the "file:line" where err was raised: its Position, or
// the "file:line:" its message starts with, or "".
func failedAt(err error) string {
	if pos := runner.ErrorPosition(err); pos != "" {
		return pos
	}
	msg := err.Error()
	file, rest, ok := strings.Cut(msg, ":")
	if !ok || file == "" || strings.ContainsAny(file, " \t\n") {
		return ""
	}
	digits := 0
	for digits < len(rest) && rest[digits] >= '0' && rest[digits] <= '9' {
		digits++
	}
	if digits == 0 || digits == len(rest) || rest[digits] != ':' {
		return ""
	}
	return file + ":" + rest[:digits]
}

// JSON encodes a document, indented, with a final newline.
func JSON(doc any) []byte {
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // the documents hold only strings, numbers and times
	}
	return append(b, '\n')
}

// Graph returns the planned tasks as a Graphviz DOT digraph (--graph, like
// `ninja -t graph`): one node per task, labelled with its name and
// description (an aggregate drawn as an ellipse, a task with a body as a
// box), one edge per dependency, from the dependency to the task.
func Graph(p *runner.Plan) []byte {
	var b bytes.Buffer
	b.WriteString("digraph hazlua {\n\trankdir=\"LR\";\n\tnode [fontsize=10, shape=box, height=0.25];\n\tedge [fontsize=10];\n")
	for _, t := range p.Tasks() {
		label := t.Name
		if t.Desc != "" {
			label += "\\n" + dotEscape(t.Desc)
		}
		attrs := fmt.Sprintf("label=%q", label)
		if t.Run == nil {
			attrs += ", shape=ellipse"
		}
		fmt.Fprintf(&b, "\t%q [%s];\n", t.Name, strings.ReplaceAll(attrs, `\\n`, `\n`))
	}
	for _, t := range p.Tasks() {
		seen := map[string]bool{}
		for _, d := range t.Deps {
			if !seen[d] {
				seen[d] = true
				fmt.Fprintf(&b, "\t%q -> %q;\n", d, t.Name)
			}
		}
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// dotEscape keeps a description on one line of a DOT label.
func dotEscape(s string) string { return strings.Join(strings.Fields(s), " ") }
