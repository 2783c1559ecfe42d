package proc

import (
	"slices"
	"strings"
)

// MergeEnv returns env, a list of "NAME=value" entries such as os.Environ
// returns, with the variables of set given their values and those of unset
// removed: every entry of env for a name in set or unset is dropped, and
// the set variables are appended in name order. env itself is not modified.
func MergeEnv(env []string, set map[string]string, unset map[string]bool) []string {
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := set[name]; ok || unset[name] {
			continue
		}
		out = append(out, kv)
	}
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, name+"="+set[name])
	}
	return out
}

// Getenv returns the value of the variable name in env ("NAME=value"
// entries), from its last entry as os/exec does, or "" when it is not
// there.
func Getenv(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}
