package cli

import (
	"github.com/spf13/pflag"

	fswatch "github.com/hazlua/hazlua/internal/watch"
	"github.com/hazlua/hazlua/luaapi"
)

const defaultWatchDelay = "100ms" // fswatch.DefaultDelay

// watchFlags adds -w/--watch, --watch-delay and --clear to fs.
func watchFlags(fs *pflag.FlagSet, o *options) {
	fs.BoolVarP(&o.watch, "watch", "w", o.watch, "run the tasks, then rerun what a change to their inputs makes out of date, until Ctrl-C")
	fs.StringVar(&o.watchDelayArg, "watch-delay", o.watchDelayArg, "with -w: rerun once no change has come for `DURATION` (default 100ms)")
	fs.BoolVar(&o.clear, "clear", o.clear, "with -w: clear the screen before each rerun")
}

// checkWatch checks the watch flags and sets o.watchDelay.
func (o *options) checkWatch() error {
	if !o.watch {
		switch {
		case o.clear:
			return usageErrorf("--clear needs -w")
		case o.watchDelayArg != "":
			return usageErrorf("--watch-delay needs -w")
		}
		return nil
	}
	if o.watchDelayArg != "" {
		d, err := luaapi.ParseDuration(o.watchDelayArg, isNumber(o.watchDelayArg))
		if err != nil {
			return usageErrorf("--watch-delay: %v", err)
		}
		o.watchDelay = d
	}
	for _, c := range []struct {
		set  bool
		name string
	}{{o.list, "-l"}, {o.dryRun, "-n"}, {o.graph, "--graph"}, {o.json, "--json"}, {o.report != "", "--report"},
		{o.trace != "", "--trace"}, {o.types != "", "--types"}, {o.completion != "", "--completion"},
		{o.completeTasks, "--complete-tasks"}, {o.cacheOp != nil, "a cache flag"}, {o.changedSince != "", "--changed-since"}} {
		if c.set {
			return usageErrorf("-w cannot be used with %s", c.name)
		}
	}
	return nil
}

// watchMain runs cfg in watch mode (-w) under the stop protocol and
// returns the exit status: 130 after Ctrl-C.
func watchMain(cfg luaapi.Config, opts *options, stderr errWriter) int {
	delay := opts.watchDelay
	if opts.watchDelayArg == "" {
		delay = fswatch.DefaultDelay
	}
	w, err := luaapi.NewWatch(cfg, luaapi.WatchConfig{Delay: delay, Clear: opts.clear})
	if err != nil {
		return report(stderr, err)
	}
	sigs, stop := notifySignals()
	defer stop()
	return supervise(w, sigs, stderr, defaultTiming)
}
