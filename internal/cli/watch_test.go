package cli

import (
	"strings"
	"testing"
	"time"
)

func TestParseWatchArgs(t *testing.T) {
	o, err := parseArgs([]string{"-w", "--watch-delay", "250ms", "--clear", "build"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.watch || !o.clear || o.watchDelay != 250*time.Millisecond {
		t.Errorf("got watch=%v clear=%v delay=%v", o.watch, o.clear, o.watchDelay)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-w", "-n"}, "-w cannot be used with -n"},
		{[]string{"--watch", "-l"}, "-w cannot be used with -l"},
		{[]string{"-w", "--report", "r.json"}, "-w cannot be used with --report"},
		{[]string{"-w", "--cache-stats"}, "-w cannot be used with a cache flag"},
		{[]string{"--clear"}, "--clear needs -w"},
		{[]string{"--watch-delay", "1s"}, "--watch-delay needs -w"},
		{[]string{"-w", "--watch-delay", "soon"}, "--watch-delay: "},
	} {
		_, err := parseArgs(tt.args)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("parseArgs(%q) = %v, want an error starting %q", tt.args, err, tt.want)
		}
		if ExitStatus(err) != ExitUsage {
			t.Errorf("parseArgs(%q): exit status %d, want %d", tt.args, ExitStatus(err), ExitUsage)
		}
	}
}
