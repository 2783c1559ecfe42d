package luaapi

import (
	"fmt"
	"strings"

	"github.com/hazlua/hazlua/internal/report"
	"github.com/hazlua/hazlua/runner"
)

// list prints the declared tasks (-l): as text, as JSON (--json), or as
// NAME<tab>DESCRIPTION lines for completion scripts.
func (rt *Runtime) list() error {
	tasks := rt.graph.Tasks()
	switch rt.cfg.ListFormat {
	case ListJSON:
		rt.writeLine(rt.cfg.Stdout, string(report.JSON(report.NewListing(rt.scriptName, tasks))))
		return nil
	case ListNames:
		var b strings.Builder
		for _, t := range tasks {
			if desc := strings.Join(strings.Fields(t.Desc), " "); desc != "" {
				fmt.Fprintf(&b, "%s\t%s\n", t.Name, desc)
			} else {
				fmt.Fprintf(&b, "%s\n", t.Name)
			}
		}
		rt.writeLine(rt.cfg.Stdout, b.String())
		return nil
	}
	if len(tasks) == 0 {
		rt.writeLine(rt.cfg.Stdout, rt.prefix()+"the script declares no task\n")
		return nil
	}
	width := 0
	for _, t := range tasks {
		width = max(width, len(t.Name))
	}
	var b strings.Builder
	for _, t := range tasks {
		fmt.Fprintf(&b, "%-*s", width, t.Name)
		if t.Desc != "" {
			b.WriteString("  " + t.Desc)
		}
		if len(t.Deps) > 0 {
			b.WriteString("  (deps: " + strings.Join(t.Deps, ", ") + ")")
		}
		if len(t.Params) > 0 {
			b.WriteString("  (params: " + paramList(t.Params) + ")")
		}
		b.WriteString("\n")
	}
	rt.writeLine(rt.cfg.Stdout, b.String())
	return nil
}

// paramList writes parameters as --list shows them: "env=dev, region"
// (a required one without "=").
func paramList(params []runner.Param) string {
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.Name
		if !p.Required {
			parts[i] += "=" + p.Default
		}
	}
	return strings.Join(parts, ", ")
}

// setParams takes the command line's positionals after the script (TASKs
// and NAME=VALUE), gives each NAME=VALUE to the task before it
// (`hazlua build deploy env=prod` sets env of deploy), and returns the
// tasks. A NAME=VALUE before any task, or for a parameter the task does
// not declare, is an error (exit 2) naming the task and the parameter.
func (rt *Runtime) setParams(args []string) ([]string, error) {
	var tasks []string
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || rt.graph.Has(a) {
			tasks = append(tasks, a)
			continue
		}
		if len(tasks) == 0 {
			msg := fmt.Sprintf("parameter %s given before any task: name the task it is for (hazlua TASK %s)", a, a)
			return nil, &Error{Kind: KindUsage, Msg: msg}
		}
		if err := rt.graph.SetParam(tasks[len(tasks)-1], name, value); err != nil {
			return nil, &Error{Kind: KindUsage, Msg: err.Error(), Err: err}
		}
	}
	return tasks, nil
}
