// Package completion writes hazlua's shell completion scripts for bash,
// zsh and fish (`hazlua --completion SHELL`, docs/editors.md). The scripts
// complete flags and their values from the flag list they are made from,
// and task names by asking hazlua itself (`hazlua --complete-tasks`), which
// finds the script as a run would, so that what is completed is what would
// run. It knows nothing of Lua.
package completion

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Flag is a flag of the command line, as a completion script offers it.
type Flag struct {
	Long  string   // "output", without dashes
	Short string   // "o", or ""
	Doc   string   // one line
	Arg   string   // "" for a boolean flag; else what it takes: ArgFile, ArgDir or ArgWord
	Words []string // for ArgWord: the values to offer (nil: any word, nothing offered)
}

// What a flag's argument is.
const (
	ArgFile = "file"
	ArgDir  = "dir"
	ArgWord = "word"
)

// Shells lists the shells Script writes for.
var Shells = []string{"bash", "zsh", "fish"}

// TasksFlag is the hidden flag the scripts call to list the tasks: it
// prints one "NAME\tDESCRIPTION" line per task of the script that the
// other arguments (-f, -C, a SCRIPT.lua) select.
const TasksFlag = "complete-tasks"

// Script returns the completion script for shell, for the command named
// cmd with flags. An unknown shell is an error that lists the known ones.
func Script(shell, cmd string, flags []Flag) ([]byte, error) {
	flags = append([]Flag(nil), flags...)
	sort.SliceStable(flags, func(i, j int) bool { return flags[i].Long < flags[j].Long })
	switch shell {
	case "bash":
		return bash(cmd, flags), nil
	case "zsh":
		return zsh(cmd, flags), nil
	case "fish":
		return fish(cmd, flags), nil
	}
	return nil, fmt.Errorf("no completion for shell %q (want %s)", shell, strings.Join(Shells, ", "))
}

// ident returns cmd as part of a shell function name.
func ident(cmd string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, cmd)
}

// selectors are the flags whose values choose the script: the task list
// must be asked for with them.
var selectors = []string{"-f", "--file", "-C", "--directory"}

func bash(cmd string, flags []Flag) []byte {
	var b bytes.Buffer
	fn := "_" + ident(cmd) + "_complete"
	fmt.Fprintf(&b, "# bash completion for %s; load it with: source <(%s --completion bash)\n", cmd, cmd)
	fmt.Fprintf(&b, "%s() {\n", fn)
	b.WriteString("\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n")
	b.WriteString("\tCOMPREPLY=()\n")
	b.WriteString("\tcase $prev in\n")
	for _, f := range flags {
		if f.Arg == "" {
			continue
		}
		fmt.Fprintf(&b, "\t%s)\n", strings.Join(names(f), "|"))
		switch f.Arg {
		case ArgFile:
			b.WriteString("\t\tCOMPREPLY=($(compgen -f -- \"$cur\")); return;;\n")
		case ArgDir:
			b.WriteString("\t\tCOMPREPLY=($(compgen -d -- \"$cur\")); return;;\n")
		default:
			fmt.Fprintf(&b, "\t\tCOMPREPLY=($(compgen -W %s -- \"$cur\")); return;;\n", shellQuote(strings.Join(f.Words, " ")))
		}
	}
	b.WriteString("\tesac\n")
	var all []string
	for _, f := range flags {
		all = append(all, names(f)...)
	}
	b.WriteString("\tif [[ $cur == -* ]]; then\n")
	fmt.Fprintf(&b, "\t\tCOMPREPLY=($(compgen -W %s -- \"$cur\")); return\n", shellQuote(strings.Join(all, " ")))
	b.WriteString("\tfi\n")
	// The arguments that select the script, passed on to the task list.
	b.WriteString("\tlocal sel=() i w\n")
	b.WriteString("\tfor ((i = 1; i < COMP_CWORD; i++)); do\n")
	b.WriteString("\t\tw=${COMP_WORDS[i]}\n")
	b.WriteString("\t\tcase $w in\n")
	fmt.Fprintf(&b, "\t\t%s) sel+=(\"$w\" \"${COMP_WORDS[i+1]}\"); ((i++));;\n", strings.Join(selectors, "|"))
	b.WriteString("\t\t--) return;;\n")
	b.WriteString("\t\t*.lua) [[ ${#sel[@]} -eq 0 ]] && sel+=(\"$w\");;\n")
	b.WriteString("\t\tesac\n")
	b.WriteString("\tdone\n")
	b.WriteString("\tlocal IFS=$'\\n' names\n")
	fmt.Fprintf(&b, "\tnames=$(%s --%s \"${sel[@]}\" 2>/dev/null | cut -f1)\n", cmd, TasksFlag)
	b.WriteString("\tCOMPREPLY=($(compgen -W \"$names\" -- \"$cur\"))\n")
	b.WriteString("\tif [[ $cur == *.l* || ${#COMPREPLY[@]} -eq 0 ]]; then\n")
	b.WriteString("\t\tCOMPREPLY+=($(compgen -f -X '!*.lua' -- \"$cur\"))\n")
	b.WriteString("\tfi\n")
	b.WriteString("}\n")
	fmt.Fprintf(&b, "complete -o default -F %s %s\n", fn, cmd)
	return b.Bytes()
}

func zsh(cmd string, flags []Flag) []byte {
	var b bytes.Buffer
	fn := "_" + ident(cmd)
	fmt.Fprintf(&b, "#compdef %s\n", cmd)
	fmt.Fprintf(&b, "# zsh completion for %s; load it with: source <(%s --completion zsh)\n", cmd, cmd)
	fmt.Fprintf(&b, "%s_tasks() {\n", fn)
	b.WriteString("\tlocal -a sel tasks\n")
	b.WriteString("\tlocal i w\n")
	b.WriteString("\tfor ((i = 2; i < CURRENT; i++)); do\n")
	b.WriteString("\t\tw=${words[i]}\n")
	b.WriteString("\t\tcase $w in\n")
	fmt.Fprintf(&b, "\t\t%s) sel+=(\"$w\" \"${words[i+1]}\"); ((i++));;\n", strings.Join(selectors, "|"))
	b.WriteString("\t\t*.lua) (( ${#sel} == 0 )) && sel+=(\"$w\");;\n")
	b.WriteString("\t\tesac\n")
	b.WriteString("\tdone\n")
	b.WriteString("\tlocal line\n")
	fmt.Fprintf(&b, "\tfor line in ${(f)\"$(%s --%s \"${sel[@]}\" 2>/dev/null)\"}; do\n", cmd, TasksFlag)
	b.WriteString("\t\tif [[ $line == *$'\\t'* ]]; then\n")
	b.WriteString("\t\t\ttasks+=(\"${${line%%$'\\t'*}//:/\\\\:}:${line#*$'\\t'}\")\n")
	b.WriteString("\t\telse\n")
	b.WriteString("\t\t\ttasks+=(\"${line//:/\\\\:}\")\n")
	b.WriteString("\t\tfi\n")
	b.WriteString("\tdone\n")
	b.WriteString("\t_describe -t tasks 'task' tasks\n")
	b.WriteString("}\n")
	fmt.Fprintf(&b, "%s() {\n", fn)
	b.WriteString("\t_arguments -s -S \\\n")
	for _, f := range flags {
		doc := zshEscape(f.Doc)
		action := ""
		switch f.Arg {
		case ArgFile:
			action = ":file:_files"
		case ArgDir:
			action = ":directory:_files -/"
		case ArgWord:
			action = ":value:(" + strings.Join(f.Words, " ") + ")"
			if f.Words == nil {
				action = ":value: "
			}
		}
		if f.Short != "" {
			fmt.Fprintf(&b, "\t\t'(-%s --%s)'{-%s,--%s}'[%s]%s' \\\n", f.Short, f.Long, f.Short, f.Long, doc, action)
		} else {
			fmt.Fprintf(&b, "\t\t'--%s[%s]%s' \\\n", f.Long, doc, action)
		}
	}
	fmt.Fprintf(&b, "\t\t'*::task:%s_tasks'\n", fn)
	b.WriteString("}\n")
	fmt.Fprintf(&b, "compdef %s %s\n", fn, cmd)
	return b.Bytes()
}

func fish(cmd string, flags []Flag) []byte {
	var b bytes.Buffer
	fn := "__" + ident(cmd) + "_tasks"
	fmt.Fprintf(&b, "# fish completion for %s; load it with: %s --completion fish | source\n", cmd, cmd)
	fmt.Fprintf(&b, "function %s\n", fn)
	b.WriteString("\tset -l sel\n")
	b.WriteString("\tset -l words (commandline -opc)\n")
	b.WriteString("\tset -l i 2\n")
	b.WriteString("\twhile test $i -le (count $words)\n")
	b.WriteString("\t\tswitch $words[$i]\n")
	fmt.Fprintf(&b, "\t\tcase %s\n", strings.Join(selectors, " "))
	b.WriteString("\t\t\tset i (math $i + 1)\n")
	b.WriteString("\t\t\ttest $i -le (count $words); and set -a sel $words[(math $i - 1)] $words[$i]\n")
	b.WriteString("\t\tcase '*.lua'\n")
	b.WriteString("\t\t\ttest (count $sel) -eq 0; and set -a sel $words[$i]\n")
	b.WriteString("\t\tend\n")
	b.WriteString("\t\tset i (math $i + 1)\n")
	b.WriteString("\tend\n")
	fmt.Fprintf(&b, "\t%s --%s $sel 2>/dev/null\n", cmd, TasksFlag)
	b.WriteString("end\n")
	fmt.Fprintf(&b, "complete -c %s -f -a '(%s)'\n", cmd, fn)
	fmt.Fprintf(&b, "complete -c %s -a '(__fish_complete_suffix .lua)'\n", cmd)
	for _, f := range flags {
		line := fmt.Sprintf("complete -c %s -l %s", cmd, f.Long)
		if f.Short != "" {
			line += " -s " + f.Short
		}
		switch f.Arg {
		case ArgFile:
			line += " -r -F"
		case ArgDir:
			line += " -r -x -a '(__fish_complete_directories)'"
		case ArgWord:
			line += " -r -x"
			if f.Words != nil {
				line += " -a " + shellQuote(strings.Join(f.Words, " "))
			}
		}
		line += " -d " + shellQuote(f.Doc)
		b.WriteString(line + "\n")
	}
	return b.Bytes()
}

// names returns a flag's spellings: "-o", "--output".
func names(f Flag) []string {
	var out []string
	if f.Short != "" {
		out = append(out, "-"+f.Short)
	}
	return append(out, "--"+f.Long)
}

// shellQuote quotes s for sh, bash, zsh and fish alike.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// zshEscape makes s fit in a single-quoted _arguments description.
func zshEscape(s string) string {
	r := strings.NewReplacer("'", `'\''`, "[", `\[`, "]", `\]`, ":", `\:`)
	return r.Replace(s)
}
